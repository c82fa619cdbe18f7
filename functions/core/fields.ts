import type { Article } from "./article.ts";
import { type Person, parsePerson } from "./config.ts";
import { parseDateValue } from "./dates.ts";
import { ArticleError } from "./errors.ts";
import type { MediaRef } from "./media.ts";
import { collapseWhitespace, stripForbiddenChars } from "./text.ts";

/** The article metadata that front matter, JSON articles and HTML meta tags can set. */
export type ArticleFields = Partial<Omit<Article, "path" | "format" | "body" | "hash" | "draft">> & {
  draft?: boolean;
};

const MAX_TAGS = 100;
const MAX_FIELD_LENGTH = 2_000;

/**
 * Maps Hugo / Jekyll / JSON Feed field names onto article fields, checking each type.
 * `lineOf` locates a field in the source file so errors can point at it.
 */
export function readFields(
  data: Record<string, unknown>,
  lineOf: (key: string) => number | undefined,
): ArticleFields {
  const fail = (key: string, reason: string): never => {
    throw new ArticleError(`${key}: ${reason}`, lineOf(key));
  };
  const pick = (...keys: string[]): [string, unknown] | undefined => {
    for (const key of keys) {
      const value = data[key];
      if (value !== undefined && value !== null) return [key, value];
    }
    return undefined;
  };
  const text = (...keys: string[]): string | undefined => {
    const found = pick(...keys);
    if (!found) return undefined;
    const [key, value] = found;
    if (typeof value === "number") return String(value);
    if (typeof value !== "string") return fail(key, `must be text, got ${describe(value)}`);
    const clean = collapseWhitespace(stripForbiddenChars(value));
    if (clean.length > MAX_FIELD_LENGTH) return fail(key, `is longer than ${MAX_FIELD_LENGTH} characters`);
    return clean || undefined;
  };
  const date = (...keys: string[]): Date | undefined => {
    const found = pick(...keys);
    if (!found) return undefined;
    const parsed = parseDateValue(found[1]);
    return typeof parsed === "string" ? fail(found[0], parsed) : parsed;
  };
  const bool = (key: string): boolean | undefined => {
    const value = data[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
    return fail(key, `must be true or false, got ${describe(value)}`);
  };

  const fields: { -readonly [K in keyof ArticleFields]: ArticleFields[K] } = {};
  const title = text("title");
  if (title !== undefined) fields.title = title;
  const published = date("date", "date_published", "published_at");
  if (published) fields.date = published;
  const updated = date("lastmod", "updated", "modified", "date_modified", "last_modified_at");
  if (updated) fields.updated = updated;
  const publishDate = date("publishDate", "publishdate", "pubdate");
  if (publishDate) fields.publishDate = publishDate;
  const expiryDate = date("expiryDate", "expirydate", "unpublishdate");
  if (expiryDate) fields.expiryDate = expiryDate;

  const draft = bool("draft");
  // Jekyll marks unpublished posts with `published: false`.
  const jekyllPublished = typeof data.published === "boolean" ? data.published : undefined;
  if (draft !== undefined || jekyllPublished === false)
    fields.draft = draft === true || jekyllPublished === false;

  const tags = [
    ...list(data, "tags", fail),
    ...list(data, "categories", fail),
    ...list(data, "keywords", fail),
  ];
  if (tags.length > MAX_TAGS) fail("tags", `has more than ${MAX_TAGS} entries`);
  if (tags.length) fields.tags = [...new Set(tags)];

  const summary = text("summary", "description", "excerpt");
  if (summary) fields.summary = summary;

  const authors = people(data, fail);
  if (authors.length) fields.authors = authors;

  const id = text("id", "guid");
  if (id) fields.id = id;
  const slug = text("slug");
  if (slug !== undefined) {
    if (/[/\\]|^\.{1,2}$/.test(slug))
      fail("slug", `must be a single path segment without "/" or "\\", got "${slug}"`);
    fields.slug = slug;
  }
  const url = text("url", "permalink");
  if (url !== undefined) {
    const key = data.url !== undefined ? "url" : "permalink";
    if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^https?:\/\//i.test(url))
      fail(key, `must be a site path like /news/hello/ or an http(s) URL, got "${url}"`);
    if (/\\|(^|\/)\.\.?(\/|$)|^\/\//.test(url))
      fail(key, `must not contain "..", "\\" or start with "//", got "${url}"`);
    fields.url = url;
  }
  const image = text("image", "featured_image", "banner_image");
  if (image !== undefined) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(image) && !/^https?:\/\//i.test(image))
      fail("image", `must be a relative path or an http(s) URL, got "${image}"`);
    fields.image = image;
  }
  const enclosures = readEnclosures(data, fail);
  if (enclosures.length) fields.enclosures = enclosures;
  const language = text("lang", "language");
  if (language !== undefined) {
    if (!/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(language))
      fail(
        data.lang !== undefined ? "lang" : "language",
        `must be a language tag like "en", got "${language}"`,
      );
    fields.language = language;
  }
  return fields;
}

function list(
  data: Record<string, unknown>,
  key: string,
  fail: (key: string, reason: string) => never,
): string[] {
  const value = data[key];
  if (value === undefined || value === null) return [];
  const items = typeof value === "string" ? value.split(",") : value;
  if (!Array.isArray(items)) return fail(key, `must be a list of names, got ${describe(value)}`);
  return items.flatMap((item) => {
    if (typeof item !== "string" && typeof item !== "number")
      return fail(key, `must be a list of names, found ${describe(item)}`);
    // Angle brackets have no place in a tag name and break some feed writers' attributes.
    const name = collapseWhitespace(stripForbiddenChars(String(item)).replace(/[<>]/g, ""));
    if (name.length > 200) return fail(key, "has an entry longer than 200 characters");
    return name ? [name] : [];
  });
}

function people(data: Record<string, unknown>, fail: (key: string, reason: string) => never): Person[] {
  const key = data.authors !== undefined && data.authors !== null ? "authors" : "author";
  const value = data[key];
  if (value === undefined || value === null) return [];
  const values = Array.isArray(value) ? value : [value];
  return values.map((entry) => {
    const cleaned =
      typeof entry === "string"
        ? stripForbiddenChars(entry)
        : entry && typeof entry === "object" && !Array.isArray(entry)
          ? Object.fromEntries(
              Object.entries(entry).map(([k, v]) => [k, typeof v === "string" ? stripForbiddenChars(v) : v]),
            )
          : entry;
    const person = parsePerson(cleaned);
    if (typeof person === "string") return fail(key, person);
    return person;
  });
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

const MAX_ENCLOSURES = 20;

/**
 * Attached files: `enclosure` / `enclosures` (a path or URL, an object {url, type, length}, or a
 * list of them), Hugo/Jekyll podcast fields `audio` and `video`, and JSON Feed `attachments`
 * ({url, mime_type, size_in_bytes}).
 */
function readEnclosures(
  data: Record<string, unknown>,
  fail: (key: string, reason: string) => never,
): MediaRef[] {
  const out: MediaRef[] = [];
  for (const key of ["enclosure", "enclosures", "audio", "video", "attachments"]) {
    const value = data[key];
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      const ref = typeof item === "string" ? { url: item } : item;
      if (!ref || typeof ref !== "object")
        fail(key, `must be a path, a URL or {url, type, length}, got ${describe(item)}`);
      const record = ref as Record<string, unknown>;
      const url = record.url;
      if (typeof url !== "string" || !url.trim())
        fail(key, "needs a url (a path beside the article or an http(s) URL)");
      const clean = stripForbiddenChars(String(url)).trim();
      if (/^[a-z][a-z0-9+.-]*:/i.test(clean) && !/^https?:\/\//i.test(clean))
        fail(key, `must be a relative path or an http(s) URL, got "${clean}"`);
      const type = record.type ?? record.mime_type;
      if (type !== undefined && (typeof type !== "string" || !/^[a-z]+\/[a-z0-9.+-]+$/i.test(type)))
        fail(key, `type must be a media type like "audio/mpeg", got ${describe(type)}`);
      const length = record.length ?? record.size_in_bytes;
      if (length !== undefined && (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0))
        fail(key, `length must be a whole number of bytes, got ${describe(length)}`);
      out.push({
        ref: clean,
        ...(typeof type === "string" ? { type: type.toLowerCase() } : {}),
        ...(typeof length === "number" ? { length } : {}),
      });
    }
  }
  if (out.length > MAX_ENCLOSURES) fail("enclosure", `has more than ${MAX_ENCLOSURES} files`);
  return out;
}
