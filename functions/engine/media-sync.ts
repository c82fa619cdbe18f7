import type { ArticleProblem } from "../core/errors.ts";
import { MAX_MEDIA_BYTES, MEDIA_PREFIX, mediaType } from "../core/media.ts";
import type { Storage } from "../storage/port.ts";
import { forEachLimited, READ_CONCURRENCY } from "./concurrency.ts";
import { mediaProblem, orProblem } from "./object-problems.ts";

/** Media change rarely and are large: a day, then revalidate. */
const MEDIA_CACHE_CONTROL = "public, max-age=86400";
const MAX_ROUNDS = 8;

/**
 * Publishes media files under feeds/media/ (or removes them when their source is gone), copying
 * only what differs. Returns the keys written or deleted and the files refused.
 */
export async function syncMedia(
  content: Storage,
  output: Storage,
  keys: readonly string[],
): Promise<{ written: string[]; problems: ArticleProblem[] }> {
  const written: string[] = [];
  const problems: ArticleProblem[] = [];
  await forEachLimited(keys, READ_CONCURRENCY, async (key) => {
    // A name the storage refuses (here or as published) is this file's problem, not the build's.
    const refused = mediaProblem(key, 0);
    if (refused) {
      problems.push(refused);
      return;
    }
    const problem = await orProblem(key, () => copyMedia(content, output, key, written));
    if (problem) problems.push(problem);
  });
  return { written: [...new Set(written)].sort(), problems };
}

/**
 * Copies one media file to (or removes it from) feeds/media/ until it matches its source;
 * returns its problem when it is too large to copy.
 */
async function copyMedia(
  content: Storage,
  output: Storage,
  key: string,
  written: string[],
): Promise<ArticleProblem | undefined> {
  const target = `${MEDIA_PREFIX}${key}`;
  let source = await content.head(key);
  // Another invocation may publish a newer version of the same file at the same time: after
  // acting, the source is looked at again, and the work redone if it changed meanwhile, so the
  // last write always matches a version of the source no older than the write.
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const published = await output.head(target);
    if (!source) {
      if (published) {
        await output.delete(target);
        written.push(target);
      }
    } else if (source.size > MAX_MEDIA_BYTES) {
      return mediaProblem(key, source.size);
    } else if (!published || published.etag !== source.etag || published.size !== source.size) {
      const object = await content.get(key);
      if (object) {
        await output.put(target, object.body, {
          contentType: mediaType(key) ?? "application/octet-stream",
          cacheControl: MEDIA_CACHE_CONTROL,
        });
        written.push(target);
      }
    } else return undefined;
    const now = await content.head(key);
    if (now?.etag === source?.etag && now?.size === source?.size) return undefined;
    source = now;
  }
  return undefined;
}

/** The sizes of media files the plan asked about (one HEAD each; -1 when there is none). */
export async function mediaSizesOf(content: Storage, keys: Iterable<string>, into: Map<string, number>) {
  await forEachLimited([...keys], READ_CONCURRENCY, async (key) => {
    const size = (await content.head(key).catch(() => undefined))?.size;
    into.set(key, size ?? -1);
  });
}
