import type { SiteConfig } from "../core/config.ts";
import type { Storage, StoredObject } from "../storage/port.ts";
import { forEachLimited, READ_CONCURRENCY } from "./concurrency.ts";
import type { Catalog, IndexEntry } from "./state/entry.ts";
import { type FeedState, parseFeedState } from "./state/feed-state.ts";
import {
  type FeedIndex,
  INDEX_KEY,
  type IndexState,
  type ParsedIndex,
  parseIndex,
  serializeIndex,
} from "./state/head.ts";
import { CATALOG_PREFIX, catalogKey, parseShard } from "./state/shards.ts";

/** A state object named by the index is gone: the index was replaced meanwhile. Start again. */
export class StaleIndexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StaleIndexError";
  }
}

/** A state object cannot be read: only a full rebuild can restore the state. */
export class CorruptStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CorruptStateError";
  }
}

export interface LoadedIndex extends ParsedIndex {
  readonly etag?: string;
}

export async function loadIndex(output: Storage, config: SiteConfig): Promise<LoadedIndex> {
  const object = await output.get(INDEX_KEY);
  return { ...parseIndex(object?.body, config), ...(object ? { etag: object.etag } : {}) };
}

async function readState<T>(output: Storage, name: string, parse: (bytes: Uint8Array) => T): Promise<T> {
  const object = await output.get(catalogKey(name));
  if (!object) throw new StaleIndexError(`state object ${name} is gone`);
  try {
    return parse(object.body);
  } catch {
    throw new CorruptStateError(`state object ${name} cannot be read`);
  }
}

export function readShard(output: Storage, name: string): Promise<Record<string, IndexEntry>> {
  return name ? readState(output, name, parseShard) : Promise.resolve({});
}

export function readFeedState(output: Storage, name: string): Promise<FeedState> {
  return readState(output, name, parseFeedState);
}

/** Loads the shards of `slots` that `into` does not hold yet. */
export async function loadShards(
  output: Storage,
  index: FeedIndex,
  slots: Iterable<number>,
  into: Map<number, Catalog>,
): Promise<void> {
  const count = Math.max(1, index.shards.length);
  const wanted = [...new Set(slots)].filter((slot) => slot < count && !into.has(slot));
  await forEachLimited(wanted, READ_CONCURRENCY, async (slot) => {
    into.set(slot, await readShard(output, index.shards[slot] ?? ""));
  });
}

/** Every entry of the catalog the loaded index names (a rebuild's starting point). */
export async function loadCatalog(output: Storage, loaded: LoadedIndex): Promise<Catalog> {
  if (loaded.legacy) return loaded.legacy;
  if (loaded.state === "missing" || loaded.state === "unreadable") return {};
  const into = new Map<number, Catalog>();
  try {
    await loadShards(output, loaded.index, loaded.index.shards.keys(), into);
  } catch (error) {
    // A shard that cannot be read costs the first-seen dates it held, not the rebuild.
    if (!(error instanceof CorruptStateError)) throw error;
  }
  return Object.assign({}, ...into.values()) as Catalog;
}

/** Every catalog entry, for `feedpub status` and tests. */
export async function readCatalog(
  output: Storage,
  config: SiteConfig,
): Promise<{ index: FeedIndex; catalog: Catalog; state: IndexState }> {
  const loaded = await loadIndex(output, config);
  return { index: loaded.index, state: loaded.state, catalog: await loadCatalog(output, loaded) };
}

/**
 * Writes the index, conditional on the version read so that no update is lost. Given the
 * previous index (a full rebuild), an index that would differ only in its time stamp is not
 * rewritten; an incremental change knows it changed something and skips that comparison.
 */
export async function commitIndex(
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

export function putState(output: Storage, object: { name: string; body: string }): Promise<unknown> {
  // Named by its bytes: writing it twice writes the same thing, so no condition is needed.
  return output.put(catalogKey(object.name), object.body, {
    contentType: "application/json",
    cacheControl: "no-store",
  });
}

/** Unreferenced state objects younger than this are kept: an invocation may be about to commit them. */
export const STATE_GRACE_MS = 60 * 60 * 1000;

/** Deletes state objects that the committed index does not name, once they are old enough. */
export async function collectState(output: Storage, index: FeedIndex, graceMs: number): Promise<void> {
  const keep = new Set([
    ...index.shards,
    ...Object.values(index.facets).map((ref) => ref.state),
    ...Object.values(index.archive?.pages ?? {}).map((ref) => ref.state),
  ]);
  const cutoff = Date.now() - graceMs;
  const doomed: string[] = [];
  for await (const info of output.list(CATALOG_PREFIX)) {
    const name = info.key.slice(CATALOG_PREFIX.length).replace(/\.json$/, "");
    if (!keep.has(name) && info.lastModified.getTime() <= cutoff) doomed.push(info.key);
  }
  await forEachLimited(doomed, READ_CONCURRENCY, (key) => output.delete(key));
}

/** The storage, with the objects under `prefix` (never rewritten once written) read only once. */
export function withImmutableReads(storage: Storage, prefix: string): Storage {
  const read = new Map<string, Promise<StoredObject | undefined>>();
  return {
    get: (key) => {
      if (!key.startsWith(prefix)) return storage.get(key);
      let object = read.get(key);
      if (!object) {
        object = storage.get(key);
        read.set(key, object);
        // A missing or failed read is asked again next time.
        object.then(
          (found) => void (found || read.delete(key)),
          () => void read.delete(key),
        );
      }
      return object;
    },
    head: (key) => storage.head(key),
    put: (key, body, putOptions) => storage.put(key, body, putOptions),
    delete: (key) => storage.delete(key),
    list: (listPrefix) => storage.list(listPrefix),
  };
}
