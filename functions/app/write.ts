import { createHash } from "node:crypto";
import type { Storage } from "../storage/port.ts";

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
  const bytes = Buffer.from(body, "utf8");
  const etag = `"${createHash("md5").update(bytes).digest("hex")}"`;
  const current = await storage.head(key);
  if (current?.etag === etag) return false;
  await storage.put(key, bytes, {
    contentType: meta.contentType,
    ...(meta.cacheControl ? { cacheControl: meta.cacheControl } : {}),
  });
  return true;
}
