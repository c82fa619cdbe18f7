import { createHash } from "node:crypto";
import { type Catalog, comparePaths, type IndexEntry, sortedRecord } from "./entry.ts";
import { decodeRows, encodeRow, type Row } from "./rows.ts";

/**
 * The catalog (`_state/catalog/<hash>.json`) has one entry per article file, spread over shards
 * by a hash of the path. Shards are named by the hash of their bytes and never overwritten: a
 * change writes a new shard, and the head that names it makes it current. An invocation that
 * loses the race for the head leaves only an unreferenced shard behind, which a full rebuild
 * deletes later. Feed states (tag, author and archive feeds) live beside them, named the same way.
 */
export const CATALOG_PREFIX = "_state/catalog/";
/** The layout of the head, the shards and the feed states. */
export const STATE_VERSION = 3;
/** Catalog entries per shard a full rebuild aims for. */
const SHARD_TARGET = 256;
const MAX_SHARDS = 1024;

/** How many shards a catalog of `articles` entries is split into: a power of two. */
export function shardCountFor(articles: number): number {
  let count = 1;
  while (count < MAX_SHARDS && count * SHARD_TARGET < articles) count *= 2;
  return count;
}

/** The shard of a path: FNV-1a over its UTF-16 code units, which never changes between versions. */
export function shardOf(path: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) {
    hash ^= path.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

export function catalogKey(name: string): string {
  return `${CATALOG_PREFIX}${name}.json`;
}

/** A state object's name: the hash of its bytes. */
export function contentName(body: string, prefix = ""): string {
  return `${prefix}${createHash("sha1").update(body).digest("hex").slice(0, 20)}`;
}

/** A shard's bytes and its name (the hash of those bytes); an empty shard has neither. */
export function serializeShard(entries: Catalog): { name: string; body: string } | undefined {
  const rows: Row[] = [];
  for (const [path, entry] of Object.entries(sortedRecord(entries))) rows.push(encodeRow(path, entry));
  if (rows.length === 0) return undefined;
  const body = `${JSON.stringify({ version: STATE_VERSION, rows })}\n`;
  return { name: contentName(body), body };
}

export function parseShard(bytes: Uint8Array): Record<string, IndexEntry> {
  const value = JSON.parse(Buffer.from(bytes).toString("utf8")) as { version?: number; rows?: unknown };
  if (value.version !== STATE_VERSION || !Array.isArray(value.rows))
    throw new Error("malformed catalog shard");
  return decodeRows(value.rows);
}

/** The catalog split into `count` shards, each in path order. */
export function splitCatalog(catalog: Catalog, count: number): Record<string, IndexEntry>[] {
  const shards: Record<string, IndexEntry>[] = Array.from({ length: count }, () => ({}));
  for (const path of Object.keys(catalog).sort(comparePaths)) {
    (shards[shardOf(path, count)] as Record<string, IndexEntry>)[path] = catalog[path] as IndexEntry;
  }
  return shards;
}
