import type { Storage } from "../storage/port.ts";
import { md5 } from "./file-bytes.ts";

/**
 * Writes `body` under `key` unless the stored bytes are already the same. Skipping unchanged
 * writes keeps the ETag and Last-Modified stable, so polling readers get 304 Not Modified.
 */
export async function writeIfChanged(
  storage: Storage,
  key: string,
  body: string | Uint8Array,
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
