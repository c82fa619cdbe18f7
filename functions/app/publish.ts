import type { Article } from "../core/article.ts";
import { buildFeed, type HeldBack, renderFeedFiles, type SeenState } from "../core/build.ts";
import type { SiteConfig } from "../core/config.ts";
import { ArticleError, type ArticleProblem } from "../core/errors.ts";
import { MAX_ARTICLE_BYTES, parseArticle, sourceKind, tooLargeReason } from "../core/parse.ts";
import type { ObjectInfo, Storage } from "../storage/port.ts";
import { writeIfChanged } from "./write.ts";

/** Where the publisher keeps what it remembers between builds (never served). */
export const SEEN_KEY = "_state/seen.json";
export const FEED_CACHE_CONTROL = "public, max-age=300";

/** Parsed articles (or their problem) by content key and version, reused across rebuilds. */
export type ArticleCache = Map<string, { etag: string; result: Article | ArticleProblem }>;

export interface PublishOptions {
  readonly config: SiteConfig;
  /** Where articles are read from; keys are paths under the content root. */
  readonly content: Storage;
  /** Where feeds/ and _state/ are written. */
  readonly output: Storage;
  readonly now?: Date;
  readonly cache?: ArticleCache;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface PublishReport {
  readonly articles: number;
  readonly published: number;
  readonly problems: readonly ArticleProblem[];
  readonly held: readonly HeldBack[];
  readonly written: readonly string[];
  readonly unchanged: readonly string[];
  readonly nextChange?: Date;
}

const READ_CONCURRENCY = 32;

/** Reads every article, builds the three feeds and writes the ones whose bytes changed. */
export async function publishAll(options: PublishOptions): Promise<PublishReport> {
  const { content, output, config, cache } = options;
  const now = options.now ?? new Date();
  const entries: ObjectInfo[] = [];
  for await (const info of content.list()) if (sourceKind(info.key)) entries.push(info);

  // Results are kept in listing (key) order, not in the order the concurrent reads finish:
  // the seen-state is written in article order, and a different order each run would rewrite
  // _state/seen.json (and anything else order-sensitive) although nothing changed.
  const results: (Article | ArticleProblem)[] = new Array(entries.length);
  let done = 0;
  await forEachLimited(entries, READ_CONCURRENCY, async (info, index) => {
    results[index] = await readArticle(content, info, cache);
    options.onProgress?.(++done, entries.length);
  });
  const articles: Article[] = [];
  const problems: ArticleProblem[] = [];
  for (const result of results) {
    if ("reason" in result) problems.push(result);
    else articles.push(result);
  }

  const seen = await loadSeen(output);
  const result = buildFeed({ config, articles, seen: seen.state, now });
  problems.push(...result.problems, ...seen.problems);
  problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));

  const written: string[] = [];
  const unchanged: string[] = [];
  // The state goes first: if a feed write fails, the next run still has the same dates.
  const files = [
    {
      key: SEEN_KEY,
      contentType: "application/json",
      body: `${JSON.stringify(result.seen)}\n`,
      cacheControl: "no-store",
    },
    ...renderFeedFiles(result.feed).map((f) => ({ ...f, cacheControl: FEED_CACHE_CONTROL })),
  ];
  for (const file of files) {
    const changed = await writeIfChanged(output, file.key, file.body, file);
    (changed ? written : unchanged).push(file.key);
  }
  return {
    articles: entries.length,
    published: result.feed.items.length,
    problems,
    held: result.held,
    written,
    unchanged,
    ...(result.nextChange ? { nextChange: result.nextChange } : {}),
  };
}

/** Reads and parses one listed article; files over the size limit are refused without reading them. */
export async function readArticle(
  content: Storage,
  info: ObjectInfo,
  cache?: ArticleCache,
): Promise<Article | ArticleProblem> {
  const cached = cache?.get(info.key);
  if (cached && cached.etag === info.etag) return cached.result;
  let result: Article | ArticleProblem;
  if (info.size > MAX_ARTICLE_BYTES) {
    result = {
      file: info.key,
      reason: tooLargeReason(info.size),
    };
  } else {
    const object = await content.get(info.key);
    result = object
      ? parseOrProblem(info.key, object.body)
      : { file: info.key, reason: "the file vanished while reading" };
  }
  cache?.set(info.key, { etag: info.etag, result });
  return result;
}

/** Parses one article, turning a parse failure into a problem that names the file. */
export function parseOrProblem(key: string, body: Uint8Array): Article | ArticleProblem {
  try {
    return parseArticle(key, body);
  } catch (error) {
    if (error instanceof ArticleError) {
      return { file: key, reason: error.message, ...(error.line !== undefined ? { line: error.line } : {}) };
    }
    // A parser library failing in a way we did not foresee is still this file's problem only.
    return { file: key, reason: `could not be read: ${(error as Error).message}` };
  }
}

async function loadSeen(output: Storage): Promise<{ state: SeenState; problems: ArticleProblem[] }> {
  const object = await output.get(SEEN_KEY);
  if (!object) return { state: {}, problems: [] };
  try {
    const state = JSON.parse(Buffer.from(object.body).toString("utf8")) as unknown;
    if (state && typeof state === "object" && !Array.isArray(state))
      return { state: state as SeenState, problems: [] };
  } catch {
    // handled below
  }
  return {
    state: {},
    problems: [{ file: SEEN_KEY, reason: "the publisher's state was unreadable and was started afresh" }],
  };
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  run: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await run(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
