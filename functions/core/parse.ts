import { createHash } from "node:crypto";
import type { Article } from "./article.ts";
import { PERSON_LIMITS } from "./config.ts";
import { dateFromFileName, parseDateValue } from "./dates.ts";
import { ArticleError } from "./errors.ts";
import {
  type ArticleFields,
  FAN_OUT_LIMITS,
  MAX_FIELD_LENGTH,
  MAX_TAG_LENGTH,
  readFields,
} from "./fields.ts";
import { splitFrontMatter } from "./front-matter.ts";
import { readHtmlDocument } from "./html.ts";
import { checkMarkdownShape, firstHeading } from "./markdown-scan.ts";
import {
  collapseWhitespace,
  decodeUtf8,
  lineAt,
  normalizeNewlines,
  stripForbiddenChars,
  truncateWords,
} from "./text.ts";

/** Largest article file accepted; larger ones are reported, not published. */
export const MAX_ARTICLE_BYTES = 1024 * 1024;

/** Longer titles are cut at a word boundary (a text file whose first line is a whole paragraph). */
export const MAX_TITLE_LENGTH = 300;

/** The message for a file over MAX_ARTICLE_BYTES. */
export function tooLargeReason(size: number): string {
  return `the file is ${size.toLocaleString("en-US")} bytes; articles are limited to 1 MiB (${MAX_ARTICLE_BYTES.toLocaleString("en-US")} bytes)`;
}

/** The kinds of source file that are articles. */
export type SourceKind = "markdown" | "text" | "html" | "json";

const KINDS: Record<string, SourceKind> = {
  md: "markdown",
  markdown: "markdown",
  mdown: "markdown",
  txt: "text",
  text: "text",
  html: "html",
  htm: "html",
  json: "json",
};

/**
 * Which kind of article a path holds, or undefined for files that are not articles: media,
 * dotfiles and dot-folders, Jekyll's `_drafts/`, Hugo's `_index.md` list pages, editor backups.
 */
export function sourceKind(path: string): SourceKind | undefined {
  const segments = path.split("/");
  if (segments.some((s) => s.startsWith(".") || s === "" || s === "_drafts")) return undefined;
  const name = segments[segments.length - 1] ?? "";
  if (name.startsWith("_") || name.endsWith("~")) return undefined;
  const dot = name.lastIndexOf(".");
  return dot > 0 ? KINDS[name.slice(dot + 1).toLowerCase()] : undefined;
}

/** Parses one article file. Throws ArticleError (with a line where known) when it is unusable. */
export function parseArticle(path: string, bytes: Uint8Array): Article {
  const kind = sourceKind(path);
  if (!kind) throw new ArticleError("not an article file (expected .md, .txt, .html or .json)");
  const text = decodeArticle(bytes);
  const hash = createHash("sha1").update(bytes).digest("hex");
  const fromName = dateFromFileName(baseName(path));
  const defaults: ArticleFields = fromName ? { date: fromName.date, slug: fromName.slug } : {};
  const { fields, format, body } = READERS[kind](text);
  const title = fields.title
    ? truncateWords(collapseWhitespace(stripForbiddenChars(fields.title)), MAX_TITLE_LENGTH)
    : "";
  if (!title) throw new ArticleError(NO_TITLE[kind], 1);
  const { title: _ignored, ...rest } = fields;
  return {
    ...defaults,
    ...rest,
    path,
    title,
    draft: fields.draft ?? false,
    tags: fields.tags ?? [],
    authors: fields.authors ?? [],
    format,
    body,
    hash,
  };
}

/** The file's text, with newlines normalised; refuses what is not UTF-8 text of a bounded size. */
function decodeArticle(bytes: Uint8Array): string {
  if (bytes.byteLength === 0) throw new ArticleError("the file is empty");
  if (bytes.byteLength > MAX_ARTICLE_BYTES) throw new ArticleError(tooLargeReason(bytes.byteLength));
  if (bytes.includes(0)) throw new ArticleError("the file is binary (it contains NUL bytes), not text");
  const decoded = decodeUtf8(bytes);
  if (decoded === undefined) throw new ArticleError("the file is not valid UTF-8 text; save it as UTF-8");
  return normalizeNewlines(decoded);
}

interface Read {
  readonly fields: ArticleFields;
  readonly format: Article["format"];
  readonly body: string;
}

const NO_TITLE: Record<SourceKind, string> = {
  markdown: "no title: add `title: ...` to the front matter or start the body with a # heading",
  text: "no title: the first line of a text article is its title",
  html: "no title: add a <title> or an <h1>",
  json: "no title: add a `title` field",
};

/** One reader per source format: its fields, its body and the body's format. */
const READERS: Record<SourceKind, (text: string) => Read> = {
  markdown(text) {
    const fm = splitFrontMatter(text);
    let fields = readFields(fm.data, fm.lineOf);
    checkMarkdownShape(fm.body, fm.bodyLine);
    if (fields.title === undefined) {
      const heading = firstHeading(fm.body);
      if (heading) fields = { ...fields, title: heading };
    }
    return { fields, format: "markdown", body: fm.body };
  },
  text(text) {
    const match = /^\s*(.*)\n?/.exec(text);
    const firstLine = match?.[1]?.trim();
    return {
      fields: firstLine ? { title: firstLine } : {},
      format: "text",
      body: text.slice(match?.[0].length ?? 0),
    };
  },
  html(text) {
    const doc = readHtmlDocument(text);
    let fields = htmlFields(doc.meta);
    const title = doc.title?.trim() || doc.h1?.trim();
    if (title) fields = { ...fields, title };
    if (doc.language && /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(doc.language)) {
      fields = { ...fields, language: doc.language };
    }
    return { fields, format: "html", body: doc.body };
  },
  json(text) {
    const json = parseJson(text);
    const fields = readFields(json.data, json.lineOf);
    const html = json.data.content_html;
    const plain = json.data.content_text ?? json.data.content;
    if (typeof html === "string") return { fields, format: "html", body: html };
    if (typeof plain === "string") return { fields, format: "text", body: plain };
    throw new ArticleError("needs content_html or content_text (a string)", json.lineOf("content_html"));
  },
};

function baseName(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

function parseJson(text: string): {
  data: Record<string, unknown>;
  lineOf: (key: string) => number | undefined;
} {
  checkJsonDepth(text);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    // V8 says "at position N" for most errors but not for "Unexpected token 'x', ...".
    const position = /position (\d+)/.exec(message)?.[1];
    const offset = position === undefined ? jsonErrorOffset(text) : Number(position);
    throw new ArticleError(
      `not valid JSON: ${message}`,
      offset === undefined ? undefined : lineAt(text, offset),
    );
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    throw new ArticleError("a JSON article must be an object with title and content_html or content_text", 1);
  }
  return {
    data: data as Record<string, unknown>,
    lineOf: (key) => {
      const index = text.indexOf(`"${key}"`);
      return index < 0 ? undefined : lineAt(text, index);
    },
  };
}

/** Deepest nesting of arrays and objects a JSON article may have (its fields need two or three). */
export const MAX_JSON_DEPTH = 64;

/**
 * Counts brackets outside strings in one pass, before JSON.parse: half a million nested arrays
 * parse in linear time but hold tens of megabytes of nested values for nothing.
 */
function checkJsonDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > MAX_JSON_DEPTH)
        throw new ArticleError(
          `the JSON nests arrays or objects more than ${MAX_JSON_DEPTH} deep`,
          lineAt(text, i),
        );
    } else if (c === 93 || c === 125) depth--;
  }
}

// RFC 8259 tokens, for locating a syntax error.
const JSON_SPACE = /[ \t\n\r]*/y;
const JSON_STRING = /"(?:[^"\\\u0000-\u001F]|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*"/y;
const JSON_SCALAR = new RegExp(
  `${JSON_STRING.source}|-?(?:0|[1-9]\\d*)(?:\\.\\d+)?(?:[eE][+-]?\\d+)?|true|false|null`,
  "y",
);

/** Offset of the first JSON syntax error, found by a small scanner; undefined if there is none. */
function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const token = (pattern: RegExp) => {
    pattern.lastIndex = i;
    if (!pattern.test(text)) throw i;
    i = pattern.lastIndex;
  };
  const expect = (char: string) => {
    if (text[i] !== char) throw i;
    i++;
  };
  const value = (): void => {
    token(JSON_SPACE);
    const open = text[i];
    if (open !== "{" && open !== "[") {
      token(JSON_SCALAR);
      return;
    }
    const close = open === "{" ? "}" : "]";
    i++;
    token(JSON_SPACE);
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      if (open === "{") {
        token(JSON_SPACE);
        token(JSON_STRING);
        token(JSON_SPACE);
        expect(":");
      }
      value();
      token(JSON_SPACE);
      if (text[i] === close) {
        i++;
        return;
      }
      expect(",");
    }
  };
  try {
    value();
    token(JSON_SPACE);
    return i < text.length ? i : undefined;
  } catch (offset) {
    // Only the scanner's own offsets; a stack overflow on absurd nesting just means "unknown".
    return typeof offset === "number" ? offset : undefined;
  }
}

function htmlFields(meta: Readonly<Record<string, string>>): ArticleFields {
  const fields: { -readonly [K in keyof ArticleFields]: ArticleFields[K] } = {};
  const date = (...keys: string[]) => {
    for (const key of keys) {
      const value = meta[key];
      if (value === undefined) continue;
      const parsed = parseDateValue(value);
      if (typeof parsed === "string") throw new ArticleError(`<meta name="${key}"> ${parsed}`);
      return parsed;
    }
    return undefined;
  };
  const published = date("article:published_time", "date", "datepublished", "dc.date", "time");
  if (published) fields.date = published;
  const modified = date("article:modified_time", "datemodified", "last-modified");
  if (modified) fields.updated = modified;
  const summary = meta.description ?? meta["og:description"];
  if (summary) fields.summary = collapseWhitespace(stripForbiddenChars(summary));
  if (summary && (fields.summary?.length ?? 0) > MAX_FIELD_LENGTH)
    throw new ArticleError(`<meta name="description"> is longer than ${MAX_FIELD_LENGTH} characters`);
  const author = meta.author ?? meta["article:author"];
  if (author) fields.authors = [{ name: collapseWhitespace(stripForbiddenChars(author)) }];
  if ((fields.authors?.[0]?.name.length ?? 0) > PERSON_LIMITS.name)
    throw new ArticleError(`<meta name="author"> is longer than ${PERSON_LIMITS.name} characters`);
  const keywords = meta.keywords;
  if (keywords) {
    const tags = [
      ...new Set(
        keywords
          .split(",")
          // As for front-matter tags: angle brackets cannot be written in an Atom category term.
          .map((k) => collapseWhitespace(stripForbiddenChars(k).replace(/[<>]/g, "")))
          .filter(Boolean),
      ),
    ];
    // The same caps as front matter's: each tag has feeds of its own.
    if (tags.length > FAN_OUT_LIMITS.tags)
      throw new ArticleError(
        `<meta name="keywords"> names ${tags.length} tags; an article may have at most ${FAN_OUT_LIMITS.tags}`,
      );
    const long = tags.find((tag) => tag.length > MAX_TAG_LENGTH);
    if (long)
      throw new ArticleError(`<meta name="keywords"> has a tag longer than ${MAX_TAG_LENGTH} characters`);
    fields.tags = tags;
  }
  return fields;
}
