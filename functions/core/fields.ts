import type { Article } from "./article.ts";
import { type Person, parsePerson } from "./config.ts";
import { parseDateValue } from "./dates.ts";
import { ArticleError } from "./errors.ts";
import type { MediaRef } from "./media.ts";
import { readEpisode } from "./podcast-fields.ts";
import { collapseWhitespace, quote, stripForbiddenChars } from "./text.ts";

/** The article metadata that front matter, JSON articles and HTML meta tags can set. */
export type ArticleFields = Partial<Omit<Article, "path" | "format" | "body" | "hash" | "draft">> & {
  draft?: boolean;
};

/**
 * What one article may fan out to. Each tag and author has feeds of its own that an upload
 * rewrites, so these bound the requests and bytes of one upload (README, "Limits").
 */
export const FAN_OUT_LIMITS = { tags: 20, authors: 10, enclosures: 10 } as const;
/** Longest text field (summary, id, slug, url, image, language). */
export const MAX_FIELD_LENGTH = 2_000;
/** Longest tag, category or keyword. */
export const MAX_TAG_LENGTH = 200;

/**
 * Maps Hugo / Jekyll / JSON Feed field names onto article fields, checking each type.
 * `lineOf` locates a field in the source file so errors can point at it.
 */
export function readFields(
  data: Record<string, unknown>,
  lineOf: (key: string) => number | undefined,
): ArticleFields {
  const read = fieldReader(data, lineOf);
  const fields: MutableFields = {};
  const title = read.text("title");
  if (title !== undefined) fields.title = title;
  readDates(read, data, fields);
  readTags(data, read.fail, fields);
  const summary = read.text("summary", "description", "excerpt");
  if (summary) fields.summary = summary;
  const authors = people(data, read.fail);
  if (authors.length) fields.authors = authors;
  readAddresses(read, data, fields);
  const enclosures = readEnclosures(data, read.fail);
  if (enclosures.length) fields.enclosures = enclosures;
  // Episode fields mean something only to a podcast, which the settings decide and parsing
  // cannot see: a bad one is kept as the article's podcast problem, reported only when the
  // feeds are podcast feeds (elsewhere `explicit: clean` or `duration: about an hour` is harmless).
  try {
    const episode = readEpisode(data, enclosures, read.fail);
    if (episode) fields.episode = episode;
  } catch (error) {
    if (!(error instanceof ArticleError)) throw error;
    fields.episodeProblem = {
      reason: error.message,
      ...(error.line !== undefined ? { line: error.line } : {}),
    };
  }
  const language = read.text("lang", "language");
  if (language !== undefined) {
    if (!/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(language))
      read.fail(
        data.lang !== undefined ? "lang" : "language",
        `must be a language tag like "en", got ${quote(language)}`,
      );
    fields.language = language;
  }
  return fields;
}

type MutableFields = { -readonly [K in keyof ArticleFields]: ArticleFields[K] };
type Fail = (key: string, reason: string) => never;

/** Typed reads of front-matter values, each failing with the key's line. */
interface FieldReader {
  readonly fail: Fail;
  /** The first of the keys that is set, as clean text of at most MAX_FIELD_LENGTH characters. */
  text(...keys: string[]): string | undefined;
  date(...keys: string[]): Date | undefined;
  bool(key: string): boolean | undefined;
}

function fieldReader(
  data: Record<string, unknown>,
  lineOf: (key: string) => number | undefined,
): FieldReader {
  const fail: Fail = (key, reason) => {
    throw new ArticleError(`${key}: ${reason}`, lineOf(key));
  };
  const pick = (...keys: string[]): [string, unknown] | undefined => {
    for (const key of keys) {
      const value = data[key];
      if (value !== undefined && value !== null) return [key, value];
    }
    return undefined;
  };
  return {
    fail,
    text(...keys) {
      const found = pick(...keys);
      if (!found) return undefined;
      const [key, value] = found;
      if (typeof value === "number") return String(value);
      if (typeof value !== "string") return fail(key, `must be text, got ${describe(value)}`);
      // Checked before any work on it: a 900 KB value is refused, not cleaned first.
      if (value.length > 4 * MAX_FIELD_LENGTH)
        return fail(key, `is longer than ${MAX_FIELD_LENGTH} characters`);
      const clean = collapseWhitespace(stripForbiddenChars(value));
      if (clean.length > MAX_FIELD_LENGTH) return fail(key, `is longer than ${MAX_FIELD_LENGTH} characters`);
      return clean || undefined;
    },
    date(...keys) {
      const found = pick(...keys);
      if (!found) return undefined;
      const parsed = parseDateValue(found[1]);
      return typeof parsed === "string" ? fail(found[0], parsed) : parsed;
    },
    bool(key) {
      const value = data[key];
      if (value === undefined || value === null) return undefined;
      if (typeof value === "boolean") return value;
      if (value === "true" || value === "false") return value === "true";
      return fail(key, `must be true or false, got ${describe(value)}`);
    },
  };
}

/** The dates (Hugo's and Jekyll's names) and the draft flag. */
function readDates(read: FieldReader, data: Record<string, unknown>, fields: MutableFields): void {
  const published = read.date("date", "date_published", "published_at");
  if (published) fields.date = published;
  const updated = read.date("lastmod", "updated", "modified", "date_modified", "last_modified_at");
  if (updated) fields.updated = updated;
  const publishDate = read.date("publishDate", "publishdate", "pubdate");
  if (publishDate) fields.publishDate = publishDate;
  const expiryDate = read.date("expiryDate", "expirydate", "unpublishdate");
  if (expiryDate) fields.expiryDate = expiryDate;
  const draft = read.bool("draft");
  // Jekyll marks unpublished posts with `published: false`.
  const jekyllPublished = typeof data.published === "boolean" ? data.published : undefined;
  if (draft !== undefined || jekyllPublished === false)
    fields.draft = draft === true || jekyllPublished === false;
}

/** Tags, categories and keywords together, at most FAN_OUT_LIMITS.tags distinct ones. */
function readTags(data: Record<string, unknown>, fail: Fail, fields: MutableFields): void {
  const tags = [
    ...list(data, "tags", fail),
    ...list(data, "categories", fail),
    ...list(data, "keywords", fail),
  ];
  const distinct = [...new Set(tags)];
  if (distinct.length > FAN_OUT_LIMITS.tags)
    fail(
      tagKey(data),
      `names ${distinct.length} tags, categories and keywords; an article may have at most ${FAN_OUT_LIMITS.tags}`,
    );
  if (distinct.length) fields.tags = distinct;
}

/** The id, the slug, the URL and the image: where the article is and what names it. */
function readAddresses(read: FieldReader, data: Record<string, unknown>, fields: MutableFields): void {
  const { fail } = read;
  const id = read.text("id", "guid");
  if (id) fields.id = id;
  const slug = read.text("slug");
  if (slug !== undefined) {
    if (/[/\\]|^\.{1,2}$/.test(slug))
      fail("slug", `must be a single path segment without "/" or "\\", got ${quote(slug)}`);
    fields.slug = slug;
  }
  const url = read.text("url", "permalink");
  if (url !== undefined) {
    const key = data.url !== undefined ? "url" : "permalink";
    if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^https?:\/\//i.test(url))
      fail(key, `must be a site path like /news/hello/ or an http(s) URL, got ${quote(url)}`);
    if (/\\|(^|\/)\.\.?(\/|$)|^\/\//.test(url))
      fail(key, `must not contain "..", "\\" or start with "//", got ${quote(url)}`);
    fields.url = url;
  }
  const image = read.text("image", "featured_image", "banner_image");
  if (image !== undefined) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(image) && !/^https?:\/\//i.test(image))
      fail("image", `must be a relative path or an http(s) URL, got ${quote(image)}`);
    fields.image = image;
  }
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
    if (name.length > MAX_TAG_LENGTH)
      return fail(key, `has an entry longer than ${MAX_TAG_LENGTH} characters`);
    return name ? [name] : [];
  });
}

function people(data: Record<string, unknown>, fail: (key: string, reason: string) => never): Person[] {
  const key = data.authors !== undefined && data.authors !== null ? "authors" : "author";
  const value = data[key];
  if (value === undefined || value === null) return [];
  const values = Array.isArray(value) ? value : [value];
  // Each author has feeds of their own, and every item lists all its authors: unbounded, one
  // article's output would grow with the square of its author count.
  if (values.length > FAN_OUT_LIMITS.authors)
    fail(key, `names ${values.length} authors; an article may name at most ${FAN_OUT_LIMITS.authors}`);
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

/** The field an editor wrote the tags in, for messages. */
function tagKey(data: Record<string, unknown>): string {
  return (
    ["tags", "categories", "keywords"].find((key) => data[key] !== undefined && data[key] !== null) ?? "tags"
  );
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${typeof value === "string" ? quote(value) : String(JSON.stringify(value))}`;
}

const ENCLOSURE_KEYS = ["enclosure", "enclosures", "audio", "video", "attachments"];

function enclosureKey(data: Record<string, unknown>): string {
  return ENCLOSURE_KEYS.find((key) => data[key] !== undefined && data[key] !== null) ?? "enclosure";
}

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
  for (const key of ENCLOSURE_KEYS) {
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
      if (clean.length > MAX_FIELD_LENGTH) fail(key, `has a url longer than ${MAX_FIELD_LENGTH} characters`);
      if (/^[a-z][a-z0-9+.-]*:/i.test(clean) && !/^https?:\/\//i.test(clean))
        fail(key, `must be a relative path or an http(s) URL, got ${quote(clean)}`);
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
  if (out.length > FAN_OUT_LIMITS.enclosures)
    fail(
      enclosureKey(data),
      `names ${out.length} files; an article may attach at most ${FAN_OUT_LIMITS.enclosures}`,
    );
  return out;
}
