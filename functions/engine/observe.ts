import { createHash } from "node:crypto";
import type { Article } from "../core/article.ts";
import { ArticleError, type ArticleProblem } from "../core/errors.ts";
import { MAX_ARTICLE_BYTES, parseArticle, tooLargeReason } from "../core/parse.ts";
import { cutUtf16 } from "../core/text.ts";
import type { ObjectInfo, Storage } from "../storage/port.ts";
import { forEachLimited, READ_CONCURRENCY } from "./concurrency.ts";
import { orProblem } from "./object-problems.ts";
import type { Observation } from "./planner.ts";

/** The version stamp of an object that could not be read (its problem is recorded instead). */
export const UNREADABLE = "unreadable";

export interface ReadResult {
  readonly result: Article | ArticleProblem;
  /** Hash of the bytes (or a stand-in for files too large to read). */
  readonly hash: string;
}

/** Parsed articles (or their problem) by content key and version, reused across rebuilds. */
export type ArticleCache = Map<string, { etag: string; read: ReadResult }>;

/** An upload's view of one key: the planner's observation and the version read. */
export type Observed = Observation & {
  /** The object as read (its ETag), or undefined if it no longer exists. */
  readonly version?: string;
};

/** Parsed articles by key and content hash: a retry re-reads the keys but parses only what changed. */
export type ParseMemo = Map<string, Article | ArticleProblem>;

/** Reads each key (GET): its bytes and hash, or that it is gone, or its problem. */
export async function observeKeys(
  content: Storage,
  keys: readonly string[],
  parses: ParseMemo,
): Promise<Observed[]> {
  const observed: Observed[] = new Array(keys.length);
  await forEachLimited(keys, READ_CONCURRENCY, async (key, i) => {
    const read = await orProblem(key, () => content.get(key));
    if (read && "reason" in read) {
      // Its name (or the object) is unusable: recorded with its problem, like any bad article.
      observed[i] = { key, kind: "read", hash: UNREADABLE, version: UNREADABLE, result: () => read };
      return;
    }
    if (!read) {
      observed[i] = { key, kind: "gone" };
      return;
    }
    const object = read;
    const hash = sha1(object.body);
    observed[i] = {
      key,
      kind: "read",
      hash,
      etag: object.etag,
      version: object.etag,
      result: () => {
        const memoKey = `${hash} ${key}`;
        let result = parses.get(memoKey);
        if (!result) {
          result =
            object.size > MAX_ARTICLE_BYTES
              ? { file: key, reason: tooLargeReason(object.size) }
              : parseOrProblem(key, object.body);
          parses.set(memoKey, result);
        }
        return result;
      },
    };
  });
  return observed;
}

/** Whether any of the keys is no longer what was read (one HEAD each). */
export async function movedSince(content: Storage, observed: readonly Observed[]): Promise<boolean> {
  let moved = false;
  await forEachLimited(observed, READ_CONCURRENCY, async (seen) => {
    if (seen.version === UNREADABLE) return;
    const now = await content.head(seen.key);
    if (now?.etag !== seen.version) moved = true;
  });
  return moved;
}

/** Reads one listed article, unless the cache holds the listed version. */
export async function readListed(
  content: Storage,
  info: ObjectInfo,
  cache?: ArticleCache,
): Promise<ReadResult> {
  const cached = cache?.get(info.key);
  if (cached && cached.etag === info.etag) return cached.read;
  let read: ReadResult;
  if (info.size > MAX_ARTICLE_BYTES) {
    read = {
      result: { file: info.key, reason: tooLargeReason(info.size) },
      hash: `size:${info.size}:${info.etag}`,
    };
  } else {
    const object = await orProblem(info.key, () => content.get(info.key));
    if (object && "reason" in object) read = { result: object, hash: UNREADABLE };
    else if (object) {
      const result = parseOrProblem(info.key, object.body);
      // The parser already hashed the bytes (same SHA-1): hash again only what did not parse.
      read = { result, hash: "reason" in result ? sha1(object.body) : shortHash(result.hash) };
    } else read = { result: { file: info.key, reason: "the file vanished while reading" }, hash: "missing" };
  }
  // Keyed by the listing's ETag: if the bytes read were newer, the next listing differs anyway.
  cache?.set(info.key, { etag: info.etag, read });
  return read;
}

/** Reads and parses one listed article (used by `feedpub check`). */
export async function readArticle(content: Storage, info: ObjectInfo): Promise<Article | ArticleProblem> {
  return (await readListed(content, info)).result;
}

/** Reads an article the plan asked for: a body whose rendered item is not cached. */
export async function fetchArticle(content: Storage, path: string): Promise<Article | ArticleProblem> {
  const object = await orProblem(path, () => content.get(path));
  if (object && "reason" in object) return object;
  if (!object) return { file: path, reason: "the file vanished while publishing" };
  if (object.size > MAX_ARTICLE_BYTES) return { file: path, reason: tooLargeReason(object.size) };
  return parseOrProblem(path, object.body);
}

/** Parses one article, turning a parse failure into a problem that names the file. */
export function parseOrProblem(key: string, body: Uint8Array): Article | ArticleProblem {
  try {
    return parseArticle(key, body);
  } catch (error) {
    if (error instanceof ArticleError) {
      return {
        file: key,
        reason: boundedReason(error.message),
        ...(error.line !== undefined ? { line: error.line } : {}),
      };
    }
    // A parser library failing in a way we did not foresee is still this file's problem only.
    return { file: key, reason: boundedReason(`could not be read: ${(error as Error).message}`) };
  }
}

const MAX_REASON = 400;

/**
 * A reason as the catalog keeps it: one line of at most MAX_REASON characters. Messages quote
 * values briefly already; this also bounds what a parser library puts in its own messages.
 */
function boundedReason(reason: string): string {
  const newline = reason.indexOf("\n");
  const line = (newline < 0 ? reason : reason.slice(0, newline)).trimEnd();
  return line.length > MAX_REASON ? `${cutUtf16(line, MAX_REASON - 1)}…` : line;
}

/** 64 bits of SHA-1: tells versions of one file apart, at a fraction of the index's size. */
function sha1(bytes: Uint8Array): string {
  return shortHash(createHash("sha1").update(bytes).digest("hex"));
}

function shortHash(sha1Hex: string): string {
  return sha1Hex.slice(0, 16);
}
