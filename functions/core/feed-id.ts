import { createHash } from "node:crypto";
import type { SiteConfig } from "./config.ts";

/** RFC 9562's namespace for names that are URLs (the same as RFC 4122's NameSpace_URL). */
const URL_NAMESPACE = Buffer.from("6ba7b8119dad11d180b400c04fd430c8", "hex");

/**
 * A feed's Atom id (RFC 4287 4.2.6: permanent and universally unique), made only of the site URL
 * and the feed's folder under feeds/, so that it survives rebuilds and every change of settings
 * but the site URL (a new title, a new feedsUrl or CDN).
 *
 * The main feed (folder "") keeps the site URL, the id it has always had, so that its subscribers
 * do not see a new feed. Every other feed gets a name-based UUID (version 5) of
 * "<site URL>#<folder>": the site URL never holds a "#" (config.ts cuts query and fragment), so
 * no two pairs give the same name. Not a URL under the site: an id that looks like a link gets
 * followed, and no page lives there; not a tag: URI, which needs a date feedpub cannot know.
 */
export function feedId(config: Pick<SiteConfig, "url">, folder: string): string {
  if (folder === "") return config.url;
  const hash = createHash("sha1").update(URL_NAMESPACE).update(`${config.url}#${folder}`, "utf8").digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
