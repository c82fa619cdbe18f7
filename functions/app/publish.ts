import { createHash } from "node:crypto";
import type { Article } from "../core/article.ts";
import {
  assembleFeed,
  type HeldBack,
  type Plan,
  planFeed,
  renderFeedFiles,
  renderProblem,
  toFeedItem,
} from "../core/build.ts";
import type { SiteConfig } from "../core/config.ts";
import { ArticleError, type ArticleProblem } from "../core/errors.ts";
import type { FeedItem } from "../core/model.ts";
import { MAX_ARTICLE_BYTES, parseArticle, sourceKind, tooLargeReason } from "../core/parse.ts";
import { PreconditionFailedError } from "../storage/errors.ts";
import type { ObjectInfo, Storage } from "../storage/port.ts";
import {
  entryFor,
  type FeedIndex,
  fromRendered,
  INDEX_KEY,
  type IndexEntry,
  type IndexState,
  indexProblems,
  parseIndex,
  planInputs,
  type RenderedEntry,
  serializeIndex,
  toRendered,
  withEntry,
} from "./feed-index.ts";
import { md5, writeIfChanged } from "./write.ts";

export { INDEX_KEY } from "./feed-index.ts";
/** Where editors upload articles in a bucket. */
export const CONTENT_PREFIX = "content/";
/** Readers and CDNs may keep a feed for five minutes, then revalidate (usually a 304). */
export const FEED_CACHE_CONTROL = "public, max-age=300";

/** Parsed articles (or their problem) by content key and version, reused across rebuilds. */
export type ArticleCache = Map<string, { etag: string; read: ReadResult }>;

/** Where articles come from and where feeds and state go. */
export interface Stores {
  /** Keys are article paths, e.g. "posts/hello.md" (an adapter may add a "content/" prefix). */
  readonly content: Storage;
  /** Receives feeds/ and _state/. */
  readonly output: Storage;
}

export interface PublishOptions extends Stores {
  readonly config: SiteConfig;
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
  /** How many times the index commit had to be retried because someone else wrote it first. */
  readonly retries: number;
}

const READ_CONCURRENCY = 32;
const MAX_ATTEMPTS = 8;
/** Incremental retries are cheap (one index read), so a busy queue may take more of them. */
const MAX_APPLY_ATTEMPTS = 20;

interface ReadResult {
  readonly result: Article | ArticleProblem;
  /** Hash of the bytes (or a stand-in for files too large to read). */
  readonly hash: string;
}

/**
 * Full rebuild: reads every article, rebuilds the index (keeping known first-seen dates), writes
 * the feeds whose bytes changed and commits the index. This is `feedpub build`, `feedpub rebuild`
 * and the scheduled reconciliation that repairs anything an event missed.
 */
export async function publishAll(options: PublishOptions): Promise<PublishReport> {
  const { content, output, config, cache } = options;
  const now = options.now ?? new Date();
  const listed: ObjectInfo[] = [];
  for await (const info of content.list()) if (sourceKind(info.key)) listed.push(info);

  const reads: ReadResult[] = new Array(listed.length);
  let done = 0;
  await forEachLimited(listed, READ_CONCURRENCY, async (info, index) => {
    reads[index] = await readListed(content, info, cache);
    options.onProgress?.(++done, listed.length);
  });
  const parsed = new Map<string, Article>();
  for (const { result } of reads) if (!("reason" in result)) parsed.set(result.path, result);

  for (let attempt = 1; ; attempt++) {
    const { index: previous, etag } = await loadIndex(output, config);
    const articles: Record<string, IndexEntry> = {};
    for (const [i, info] of listed.entries()) {
      const read = reads[i] as ReadResult;
      articles[info.key] = entryFor(read.result, read.hash, previous.articles[info.key], now);
    }
    const outcome = await regenerate({ config, now, content, index: { ...previous, articles }, parsed });
    const written: string[] = [];
    const unchanged: string[] = [];
    const feeds: Record<string, string> = {};
    for (const file of outcome.files) {
      // A full rebuild checks what is really stored, so it also repairs feeds changed behind its back.
      const changed = await writeIfChanged(output, file.key, file.body, {
        ...file,
        cacheControl: FEED_CACHE_CONTROL,
      });
      (changed ? written : unchanged).push(file.key);
      feeds[file.key] = md5(file.body);
    }
    try {
      const committed = await commitIndex(output, { ...outcome.index, feeds }, etag, now, previous);
      (committed ? written : unchanged).push(INDEX_KEY);
    } catch (error) {
      if (error instanceof PreconditionFailedError && attempt < MAX_ATTEMPTS) {
        await backoff(attempt);
        continue;
      }
      throw error;
    }
    return {
      articles: listed.length,
      published: outcome.items.length,
      problems: sortProblems([...indexProblems(outcome.index), ...outcome.plan.problems]),
      held: outcome.plan.held,
      written,
      unchanged,
      retries: attempt - 1,
      ...(outcome.plan.nextChange ? { nextChange: outcome.plan.nextChange } : {}),
    };
  }
}

export interface ApplyReport {
  /** Whether the index changed (and so the feeds were regenerated). */
  readonly changed: boolean;
  readonly written: readonly string[];
  /** Problems of the articles named in this change. */
  readonly problems: readonly ArticleProblem[];
  readonly retries: number;
}

/**
 * Incremental regeneration for a set of changed article keys (creates, edits and deletes alike):
 * reads each key's current state (never trusting event order), updates the index, re-renders the
 * feeds from the index (bodies only for items not already rendered) and commits the index with a
 * conditional write, retrying from the start if another invocation committed first. Feeds are
 * written before the commit, so the invocation that commits last always leaves feeds matching the
 * committed index. S3 requests: index GET, one GET per key, up to three feed PUTs, index PUT.
 */
export async function applyChanges(
  options: Stores & { config: SiteConfig; keys: readonly string[]; now?: Date },
): Promise<ApplyReport> {
  const { content, output, config } = options;
  const keys = [...new Set(options.keys)].filter((key) => sourceKind(key));
  // Each key is read (and parsed, if new) once: a retry after losing the race for the index only
  // re-reads the index, so a long batch cannot keep losing to shorter ones.
  const observed = await observeKeys(content, keys);
  for (let attempt = 1; ; attempt++) {
    const { index, etag, state } = await loadIndex(output, config);
    // The clock is read after the index: a retry must not plan with a time older than the
    // first-seen dates that other invocations wrote meanwhile.
    const now = options.now ?? new Date();
    if (state === "missing" || state === "unreadable") {
      // No usable index (a new bucket, or state lost): only a full rebuild knows every article.
      const report = await publishAll({ content, output, config, now });
      return { changed: true, written: report.written, problems: report.problems, retries: report.retries };
    }
    let articles: Record<string, IndexEntry> = { ...index.articles };
    const parsed = new Map<string, Article>();
    const problems: ArticleProblem[] = [];
    // Settings changed since the index was written: every feed must be re-rendered.
    let changed = state === "settings-changed";
    for (const seen of observed) {
      const previous = index.articles[seen.key];
      if (!seen.object) {
        if (previous) {
          delete articles[seen.key];
          changed = true;
        }
        continue;
      }
      // Same bytes as indexed: a duplicate or late event. Nothing to do for this key.
      if (previous && previous.hash === seen.hash) {
        if (previous.problem) problems.push({ file: seen.key, ...previous.problem });
        continue;
      }
      const result = seen.result();
      if ("reason" in result) problems.push(result);
      else parsed.set(seen.key, result);
      articles = withEntry(articles, seen.key, entryFor(result, seen.hash, previous, now));
      changed = true;
    }
    if (!changed) return { changed: false, written: [], problems, retries: attempt - 1 };

    const outcome = await regenerate({ config, now, content, index: { ...index, articles }, parsed });
    const feeds: Record<string, string> = { ...index.feeds };
    const changedFiles = outcome.files.filter((file) => feeds[file.key] !== md5(file.body));
    await Promise.all(
      changedFiles.map((file) =>
        output.put(file.key, file.body, { contentType: file.contentType, cacheControl: FEED_CACHE_CONTROL }),
      ),
    );
    for (const file of changedFiles) feeds[file.key] = md5(file.body);
    const written = changedFiles.map((file) => file.key);
    try {
      if (await commitIndex(output, { ...outcome.index, feeds }, etag, now)) written.push(INDEX_KEY);
      return { changed: true, written, problems, retries: attempt - 1 };
    } catch (error) {
      if (error instanceof PreconditionFailedError && attempt < MAX_APPLY_ATTEMPTS) {
        await backoff(attempt);
        continue;
      }
      throw error;
    }
  }
}

interface Observed {
  readonly key: string;
  /** The object as read, or undefined if it no longer exists. */
  readonly object?: { readonly size: number };
  readonly hash: string;
  /** The parsed article or its problem, computed on first use. */
  readonly result: () => Article | ArticleProblem;
}

async function observeKeys(content: Storage, keys: readonly string[]): Promise<Observed[]> {
  const observed: Observed[] = new Array(keys.length);
  await forEachLimited(keys, READ_CONCURRENCY, async (key, i) => {
    const object = await content.get(key);
    let memo: Article | ArticleProblem | undefined;
    observed[i] = {
      key,
      ...(object ? { object: { size: object.size } } : {}),
      hash: object ? sha1(object.body) : "",
      result: () => {
        if (!object) return { file: key, reason: "the file vanished while publishing" };
        memo ??=
          object.size > MAX_ARTICLE_BYTES
            ? { file: key, reason: tooLargeReason(object.size) }
            : parseOrProblem(key, object.body);
        return memo;
      },
    };
  });
  return observed;
}

interface RegenerateInput {
  readonly config: SiteConfig;
  readonly now: Date;
  readonly content: Storage;
  readonly index: FeedIndex;
  /** Articles already parsed in this run; others are taken from the rendered cache or read. */
  readonly parsed: ReadonlyMap<string, Article>;
}

interface RegenerateOutcome {
  readonly index: FeedIndex;
  readonly plan: Plan;
  readonly items: readonly FeedItem[];
  readonly files: { key: string; contentType: string; body: string }[];
}

/** Plans and renders the feeds from an index; the only reads are bodies of newly listed items. */
async function regenerate(input: RegenerateInput): Promise<RegenerateOutcome> {
  const { config, now, content, parsed } = input;
  const articles: Record<string, IndexEntry> = { ...input.index.articles };
  for (;;) {
    const inputs = planInputs({ ...input.index, articles });
    const plan = planFeed({ config, now, ...inputs });
    const items: FeedItem[] = [];
    const rendered: Record<string, RenderedEntry> = {};
    let refused = false;
    for (const chosen of plan.chosen) {
      if (items.length >= config.itemLimit) break;
      const entry = articles[chosen.path] as IndexEntry;
      const cached = input.index.rendered[chosen.path];
      let item: FeedItem | undefined;
      if (!parsed.has(chosen.path) && cached && reusable(cached, entry, chosen)) item = fromRendered(cached);
      else {
        const article = parsed.get(chosen.path) ?? (await fetchArticle(content, chosen.path));
        let problem: ArticleProblem | undefined;
        if ("reason" in article) problem = article;
        else {
          try {
            item = toFeedItem(article, chosen, config);
          } catch (error) {
            problem = renderProblem(chosen.path, error);
          }
        }
        if (problem || !item) {
          // Recorded in the index, so it is not tried (and read) again until the file changes.
          const reason = problem?.reason ?? "could not be rendered";
          articles[chosen.path] = {
            ...entry,
            problem: { reason, ...(problem?.line !== undefined ? { line: problem.line } : {}) },
          };
          refused = true;
          break;
        }
      }
      items.push(item);
      rendered[chosen.path] = toRendered(item, entry.hash);
    }
    // A refused article changes the plan (its place goes to the next one): plan again.
    if (refused) continue;
    const index: FeedIndex = { ...input.index, articles, rendered };
    return { index, plan, items, files: renderFeedFiles(assembleFeed(config, items)) };
  }
}

function reusable(
  cached: RenderedEntry,
  entry: IndexEntry,
  chosen: { id: string; published: Date; updated: Date },
): boolean {
  return (
    cached.hash === entry.hash &&
    cached.item.id === chosen.id &&
    cached.item.published === chosen.published.toISOString() &&
    cached.item.updated === chosen.updated.toISOString()
  );
}

async function fetchArticle(content: Storage, path: string): Promise<Article | ArticleProblem> {
  const object = await content.get(path);
  if (!object) return { file: path, reason: "the file vanished while publishing" };
  if (object.size > MAX_ARTICLE_BYTES) return { file: path, reason: tooLargeReason(object.size) };
  return parseOrProblem(path, object.body);
}

async function loadIndex(
  output: Storage,
  config: SiteConfig,
): Promise<{ index: FeedIndex; etag?: string; state: IndexState }> {
  const object = await output.get(INDEX_KEY);
  const { index, state } = parseIndex(object?.body, config);
  return { index, ...(object ? { etag: object.etag } : {}), state };
}

/**
 * Writes the index, conditional on the version read so that no update is lost. Given the
 * previous index (a full rebuild), an index that would differ only in its time stamp is not
 * rewritten; an incremental change knows it changed something and skips that comparison.
 */
async function commitIndex(
  output: Storage,
  next: FeedIndex,
  etag: string | undefined,
  now: Date,
  unlessSameAs?: FeedIndex,
): Promise<boolean> {
  const generatedAt = now.toISOString();
  const body = serializeIndex({ ...next, generatedAt });
  if (unlessSameAs && etag !== undefined && body === serializeIndex({ ...unlessSameAs, generatedAt }))
    return false;
  await output.put(INDEX_KEY, body, {
    contentType: "application/json",
    cacheControl: "no-store",
    ...(etag === undefined ? { ifNoneMatch: "*" as const } : { ifMatch: etag }),
  });
  return true;
}

async function readListed(content: Storage, info: ObjectInfo, cache?: ArticleCache): Promise<ReadResult> {
  const cached = cache?.get(info.key);
  if (cached && cached.etag === info.etag) return cached.read;
  let read: ReadResult;
  if (info.size > MAX_ARTICLE_BYTES) {
    read = {
      result: { file: info.key, reason: tooLargeReason(info.size) },
      hash: `size:${info.size}:${info.etag}`,
    };
  } else {
    const object = await content.get(info.key);
    if (object) {
      const result = parseOrProblem(info.key, object.body);
      // The parser already hashed the bytes (same SHA-1): hash again only what did not parse.
      read = { result, hash: "reason" in result ? sha1(object.body) : shortHash(result.hash) };
    } else read = { result: { file: info.key, reason: "the file vanished while reading" }, hash: "missing" };
  }
  cache?.set(info.key, { etag: info.etag, read });
  return read;
}

/** Reads and parses one listed article (used by `feedpub check`). */
export async function readArticle(content: Storage, info: ObjectInfo): Promise<Article | ArticleProblem> {
  return (await readListed(content, info)).result;
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

/** 64 bits of SHA-1: tells versions of one file apart, at a fraction of the index's size. */
function sha1(bytes: Uint8Array): string {
  return shortHash(createHash("sha1").update(bytes).digest("hex"));
}

function shortHash(sha1Hex: string): string {
  return sha1Hex.slice(0, 16);
}

function sortProblems(problems: ArticleProblem[]): ArticleProblem[] {
  return problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.min(1000, 25 * 2 ** attempt) * (0.5 + Math.random());
  return new Promise((done) => setTimeout(done, ms));
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
