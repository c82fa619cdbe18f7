import { InvalidKeyError } from "./errors.ts";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The longest key S3 accepts, in bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

/**
 * Checks a storage key: relative, "/"-separated, no empty, "." or ".." segments, no backslash
 * or control characters. Every adapter calls this before touching anything.
 */
export function checkKey(key: string): string {
  if (key.length === 0) throw new InvalidKeyError(key, "empty");
  // S3's limit is 1,024 bytes of UTF-8; a lone surrogate has no UTF-8 form at all.
  if (LONE_SURROGATE.test(key)) throw new InvalidKeyError(key, "contains a lone UTF-16 surrogate");
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES)
    throw new InvalidKeyError(key, `longer than ${MAX_KEY_BYTES} bytes of UTF-8`);
  if (key.startsWith("/")) throw new InvalidKeyError(key, "absolute");
  if (/[\u0000-\u001F\u007F\\]/.test(key))
    throw new InvalidKeyError(key, "contains a backslash or control character");
  for (const segment of key.split("/")) {
    if (segment === "" || segment === "." || segment === "..") {
      throw new InvalidKeyError(key, "has an empty, '.' or '..' segment");
    }
  }
  return key;
}
