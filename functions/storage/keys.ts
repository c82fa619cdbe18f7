import { InvalidKeyError } from "./errors.ts";

/**
 * Checks a storage key: relative, "/"-separated, no empty, "." or ".." segments, no backslash
 * or control characters. Every adapter calls this before touching anything.
 */
export function checkKey(key: string): string {
  if (key.length === 0) throw new InvalidKeyError(key, "empty");
  if (key.length > 1024) throw new InvalidKeyError(key, "longer than 1024 characters");
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
