import { createHash } from "node:crypto";
import type { Storage } from "../storage/port.ts";

/** The quoted MD5 that S3 (and the fs adapter) report as ETag for a single-part upload. */
export function md5(body: string | Uint8Array): string {
  return `"${createHash("md5").update(body).digest("hex")}"`;
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
): Promise<boolean> {
  const current = await storage.head(key);
  if (current?.etag === md5(body)) return false;
  await storage.put(key, body, {
    contentType: meta.contentType,
    ...(meta.cacheControl ? { cacheControl: meta.cacheControl } : {}),
  });
  return true;
}
