import { createHash } from "node:crypto";

/** The quoted MD5 that S3 (and the fs adapter) report as ETag for a single-part upload. */
export function md5(body: string | Uint8Array): string {
  return `"${createHash("md5").update(body).digest("hex")}"`;
}

const encoded = new WeakMap<{ readonly body: string }, { bytes: Uint8Array; etag?: string }>();

function encodedOf(file: { readonly body: string }): { bytes: Uint8Array; etag?: string } {
  let entry = encoded.get(file);
  if (!entry) {
    entry = { bytes: Buffer.from(file.body, "utf8") };
    encoded.set(file, entry);
  }
  return entry;
}

/** A rendered file's UTF-8 bytes, encoded once per file object (hashed and written from the same bytes). */
export function fileBytes(file: { readonly body: string }): Uint8Array {
  return encodedOf(file).bytes;
}

/**
 * The MD5 ETag of a rendered file, computed once per file object: a build compares, records and
 * writes every file, and hashing megabytes of feeds several times showed up in its profile.
 */
export function fileEtag(file: { readonly body: string }): string {
  const entry = encodedOf(file);
  entry.etag ??= md5(entry.bytes);
  return entry.etag;
}
