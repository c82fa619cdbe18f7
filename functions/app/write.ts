import { createHash } from "node:crypto";
import type { Storage } from "../storage/port.ts";

/** The quoted MD5 that S3 (and the fs adapter) report as ETag for a single-part upload. */
export function md5(body: string | Uint8Array): string {
  return `"${createHash("md5").update(body).digest("hex")}"`;
}

const etags = new WeakMap<{ readonly body: string }, string>();

/**
 * The MD5 ETag of a rendered file, computed once per file object: a build compares, records and
 * writes every file, and hashing megabytes of feeds several times showed up in its profile.
 */
export function fileEtag(file: { readonly body: string }): string {
  let etag = etags.get(file);
  if (etag === undefined) {
    etag = md5(file.body);
    etags.set(file, etag);
  }
  return etag;
}

/**
 * Writes `body` under `key` unless the stored bytes are already the same. Skipping unchanged
 * writes keeps the ETag and Last-Modified stable, so polling readers get 304 Not Modified.
 */
export async function writeIfChanged(
  storage: Storage,
  key: string,
  body: string,
  meta: { contentType: string; cacheControl?: string },
  etag: string = md5(body),
): Promise<boolean> {
  const current = await storage.head(key);
  if (current?.etag === etag) return false;
  await storage.put(key, body, {
    contentType: meta.contentType,
    ...(meta.cacheControl ? { cacheControl: meta.cacheControl } : {}),
  });
  return true;
}
