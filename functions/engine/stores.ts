import type { Storage } from "../storage/port.ts";

/** Where editors upload articles in a bucket. */
export const CONTENT_PREFIX = "content/";
/** Readers and CDNs may keep a feed for five minutes, then revalidate (usually a 304). */
export const FEED_CACHE_CONTROL = "public, max-age=300";

/** Where articles come from and where feeds and state go. */
export interface Stores {
  /** Keys are article paths, e.g. "posts/hello.md" (an adapter may add a "content/" prefix). */
  readonly content: Storage;
  /** Receives feeds/ and _state/. */
  readonly output: Storage;
}
