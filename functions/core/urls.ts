import { createHash } from "node:crypto";
import type { Article } from "./article.ts";
import type { SiteConfig } from "./config.ts";

/** A name-based UUID (version 5 layout, SHA-1) for the given text. */
export function nameUuid(text: string): string {
  const bytes = createHash("sha1").update(text).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The article's permanent id. An `id` the author wrote that is already a URI (tag:, urn:,
 * https:) is used as is; any other value, or the file's path when there is none, is turned into
 * a urn:uuid scoped to the site. Editing an article never changes its id; renaming the file
 * does, unless the front matter pins `id`.
 */
export function articleId(article: Pick<Article, "id" | "path">, config: Pick<SiteConfig, "url">): string {
  if (article.id && /^[a-z][a-z0-9+.-]*:[^\s<>"{}|\\^`]+$/i.test(article.id)) {
    try {
      return new URL(article.id).href;
    } catch {
      // Not a parseable URI after all: fall through to a derived id.
    }
  }
  const source = article.id ? `id:${article.id}` : `path:${article.path}`;
  return `urn:uuid:${nameUuid(`${config.url}\u0000${source}`)}`;
}

/**
 * The article's absolute link. An author-given `url` wins (site-relative path or absolute URL);
 * otherwise the site's permalink pattern is filled in. Each segment is percent-encoded, so no
 * slug or path can climb out of the site.
 */
export function articleUrl(
  article: Pick<Article, "path" | "slug" | "url">,
  date: Date,
  config: Pick<SiteConfig, "url" | "permalink">,
): string {
  if (article.url) {
    if (/^https?:\/\//i.test(article.url)) return new URL(article.url).href;
    return new URL(encodePath(article.url.replace(/^\/+/, "")), config.url).href;
  }
  const segments = article.path.split("/");
  const file = segments.pop() ?? "";
  const dot = file.lastIndexOf(".");
  let stem = dot > 0 ? file.slice(0, dot) : file;
  // Hugo page bundles: "posts/trip/index.md" is the page "posts/trip".
  if (stem === "index" && segments.length > 0) stem = segments.pop() ?? stem;
  const slug = article.slug ?? stem.replace(/^\d{4}-\d{2}-\d{2}-/, "");
  const values: Record<string, string> = {
    path: [...segments, slug].join("/"),
    slug,
    section: segments[0] ?? "",
    year: String(date.getUTCFullYear()),
    month: String(date.getUTCMonth() + 1).padStart(2, "0"),
    day: String(date.getUTCDate()).padStart(2, "0"),
  };
  const path = config.permalink
    .replace(/:(path|slug|section|year|month|day)\b/g, (_, token: string) => values[token] ?? "")
    .replace(/\/{2,}/g, "/")
    .replace(/^\/+/, "");
  return new URL(encodePath(path), config.url).href;
}

function encodePath(path: string): string {
  const segments = path.split("/").map(decodeSafely);
  const last = segments.length - 1;
  return (
    segments
      // Dot segments ("..", "%2e%2e") and empty ones are dropped, not emptied: a leading empty
      // segment would make the result root-relative ("/x") or protocol-relative ("//evil.example").
      // The last one may stay empty: it is the trailing slash.
      .filter((segment, index) => index === last || (segment !== "" && segment !== "." && segment !== ".."))
      .map((segment) => (segment === "." || segment === ".." ? "" : encodeURIComponent(segment)))
      .join("/")
  );
}

function decodeSafely(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
