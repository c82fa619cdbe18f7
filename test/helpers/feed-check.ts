/**
 * Independent checks for feedpub's output, for use in tests.
 *
 * - assertWellFormedXml: libxml2's xmllint (Debian package libxml2-utils).
 * - assertValidJsonFeed: ajv against test/helpers/jsonfeed-1.1.schema.json, plus unique item ids.
 * - readWith*: three unrelated feed readers (rss-parser, @rowanmanning/feed-parser and Python
 *   feedparser from the Debian package python3-feedparser) mapped onto one small shape, so tests can
 *   assert that every reader sees the same thing.
 *
 * Missing tools are errors, never skips: a check that silently does nothing proves nothing.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseFeed } from "@rowanmanning/feed-parser";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import RssParser from "rss-parser";

export type ReadItem = {
  id?: string;
  title?: string;
  link?: string;
  content?: string;
  summary?: string;
  published?: string;
  updated?: string;
  categories: string[];
  authors: string[];
};

export type ReadFeed = {
  title: string;
  link?: string;
  updated?: string;
  items: ReadItem[];
};

export type AllReaders = { rssParser: ReadFeed; rowan: ReadFeed; python: ReadFeed };

const PYTHON = "/usr/bin/python3";
const PYTHON_SCRIPT = fileURLToPath(new URL("./feedparser_read.py", import.meta.url));
const SCHEMA_URL = new URL("./jsonfeed-1.1.schema.json", import.meta.url);
/** Generous cap for child process output; feeds under test are small. */
const MAX_BUFFER = 64 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------

/** Normalize a date the reader produced to `Date#toISOString()` form; loud on garbage. */
function isoDate(value: unknown, reader: string, field: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" && !(value instanceof Date)) {
    throw new Error(`${reader}: ${field} is not a date string: ${JSON.stringify(value)}`);
  }
  const date = new Date(typeof value === "string" ? value.trim() : value);
  if (Number.isNaN(date.getTime())) {
    throw new Error(`${reader}: ${field} is not a parseable date: ${JSON.stringify(value)}`);
  }
  return date.toISOString();
}

/** Unwrap xml2js text nodes (`"x"` or `{ _: "x", $: {...} }`) to a string. */
function xmlText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object" && "_" in value) {
    const text = (value as { _: unknown })._;
    if (typeof text === "string") return text;
  }
  return undefined;
}

function optString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Drop keys whose value is undefined so test failure diffs stay readable. */
function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] === undefined) delete value[key];
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// ---------------------------------------------------------------------------
// xmllint
// ---------------------------------------------------------------------------

/** Throws unless `xml` is well-formed XML according to libxml2 (`xmllint --noout`). */
export function assertWellFormedXml(xml: string): void {
  const result = spawnSync("xmllint", ["--noout", "--nonet", "-"], {
    input: xml,
    encoding: "utf8",
    maxBuffer: MAX_BUFFER,
  });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new Error(
        "assertWellFormedXml: `xmllint` was not found on PATH. Install it with " +
          "`apt-get install -y libxml2-utils`. This check is never skipped.",
      );
    }
    throw new Error(`assertWellFormedXml: could not run xmllint: ${result.error.message}`);
  }
  if (result.status !== 0) {
    const detail = (result.stderr || result.stdout || "").trim();
    throw new Error(
      `XML is not well-formed (xmllint exit ${result.status ?? `signal ${result.signal}`}):\n${detail}`,
    );
  }
}

// ---------------------------------------------------------------------------
// JSON Feed 1.1
// ---------------------------------------------------------------------------

type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
// ajv-formats is CommonJS with `module.exports = plugin` and `exports.default = plugin`; under
// NodeNext the default import is typed as the namespace, at runtime it is the function itself.
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  (addFormatsModule as unknown as FormatsPlugin);

let jsonFeedValidator: ValidateFunction | undefined;

function getJsonFeedValidator(): ValidateFunction {
  if (!jsonFeedValidator) {
    const schema = JSON.parse(readFileSync(SCHEMA_URL, "utf8")) as Record<string, unknown>;
    // strictRequired is off because `not: { required: ["author"] }` deliberately names a property the
    // schema does not define (it forbids the JSON Feed 1.0 singular `author`).
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    addFormats(ajv);
    jsonFeedValidator = ajv.compile(schema);
  }
  return jsonFeedValidator;
}

function describeAjvError(error: ErrorObject): string {
  const where = error.instancePath === "" ? "(root)" : error.instancePath;
  return `${where}: ${error.message ?? error.keyword} [${error.schemaPath}] ${JSON.stringify(error.params)}`;
}

/**
 * Parses `text` as JSON and validates it as JSON Feed 1.1 (schema + unique item ids).
 * Throws an Error listing every problem found; returns the parsed object when valid.
 */
export function assertValidJsonFeed(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`JSON Feed is not valid JSON: ${(error as Error).message}`);
  }

  const validate = getJsonFeedValidator();
  const problems: string[] = [];
  if (!validate(parsed)) {
    for (const error of validate.errors ?? []) problems.push(describeAjvError(error));
  }

  if (isRecord(parsed) && Array.isArray(parsed.items)) {
    const seen = new Map<string, number>();
    parsed.items.forEach((item: unknown, index: number) => {
      if (!isRecord(item) || typeof item.id !== "string") return;
      const first = seen.get(item.id);
      if (first === undefined) seen.set(item.id, index);
      else
        problems.push(
          `/items/${index}/id: duplicate id ${JSON.stringify(item.id)} (first at /items/${first})`,
        );
    });
  }

  if (problems.length > 0 || !isRecord(parsed)) {
    if (problems.length === 0) problems.push("(root): not a JSON object");
    throw new Error(`Invalid JSON Feed 1.1 (${problems.length} problem(s)):\n  ${problems.join("\n  ")}`);
  }
  return parsed;
}

// ---------------------------------------------------------------------------
// rss-parser
// ---------------------------------------------------------------------------

type RssParserFeedExtra = { updated?: unknown; lastBuildDate?: unknown; pubDate?: unknown };
type RssParserItemExtra = {
  id?: unknown;
  updated?: unknown;
  published?: unknown;
  "content:encoded"?: unknown;
  rawAuthors?: unknown[];
  rawCreators?: unknown[];
  rawCategories?: unknown[];
};

// A fresh parser per call: rss-parser reuses one xml2js/sax parser per instance, and after some errors
// (e.g. "Non-whitespace before first tag") that parser's state leaks into the next parseString call,
// which then silently accepts malformed XML such as an unescaped "&".
const newRssParser = () =>
  new RssParser<RssParserFeedExtra, RssParserItemExtra>({
    customFields: {
      feed: ["updated"],
      item: [
        // Atom-only raw fields; rss-parser folds published/updated into `pubDate` otherwise.
        "updated",
        "published",
        // keepArray: rss-parser keeps only the first value of these by default.
        ["author", "rawAuthors", { keepArray: true }],
        ["dc:creator", "rawCreators", { keepArray: true }],
        ["category", "rawCategories", { keepArray: true }],
      ],
    },
  });

/** Root element is an (unprefixed) Atom <feed>, the same test rss-parser applies to the xml2js result. */
const ATOM_ROOT = /^\uFEFF?\s*(?:(?:<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>)\s*)*<feed[\s>/]/;

/** RSS `<author>` is "email (Name)"; return Name when it has that shape. */
function rssAuthorName(value: string): string {
  const match = /^\s*\S+@\S+\s*\((.+)\)\s*$/.exec(value);
  return (match?.[1] ?? value).trim();
}

function rssParserAuthors(item: RssParserItemExtra): string[] {
  const names: string[] = [];
  for (const raw of [...(item.rawAuthors ?? []), ...(item.rawCreators ?? [])]) {
    const text = xmlText(raw);
    if (text !== undefined) {
      if (text.trim()) names.push(rssAuthorName(text));
      continue;
    }
    // Atom <author><name>..</name></author> arrives as { name: ["..."], email: [...] }.
    if (isRecord(raw) && Array.isArray(raw.name)) {
      const name = xmlText(raw.name[0]);
      if (name?.trim()) names.push(name.trim());
    }
  }
  return names;
}

function rssParserCategories(item: RssParserItemExtra): string[] {
  const terms: string[] = [];
  for (const raw of item.rawCategories ?? []) {
    const text = xmlText(raw); // RSS <category>text</category>
    const term = text ?? (isRecord(raw) && isRecord(raw.$) ? optString(raw.$.term) : undefined); // Atom
    if (term?.trim()) terms.push(term.trim());
  }
  return terms;
}

/** Reads an RSS 2.0 or Atom 1.0 document with rss-parser (xml2js underneath). */
export async function readWithRssParser(xml: string): Promise<ReadFeed> {
  const R = "rss-parser";
  const feed = await newRssParser().parseString(xml);
  const isAtom = ATOM_ROOT.test(xml);
  const items = feed.items.map((item): ReadItem => {
    if (isAtom) {
      return compact({
        id: xmlText(item.id),
        title: optString(item.title),
        link: optString(item.link),
        content: optString(item.content),
        summary: optString(item.summary),
        published: isoDate(xmlText(item.published), R, "published"),
        updated: isoDate(xmlText(item.updated), R, "updated"),
        categories: rssParserCategories(item),
        authors: rssParserAuthors(item),
      });
    }
    return compact({
      id: optString(item.guid),
      title: optString(item.title),
      link: optString(item.link),
      // rss-parser calls <description> `content`; the real full text is content:encoded.
      content: xmlText(item["content:encoded"]),
      summary: optString(item.content),
      published: isoDate(item.isoDate, R, "pubDate"),
      updated: undefined,
      categories: rssParserCategories(item),
      authors: rssParserAuthors(item),
    });
  });
  return compact({
    title: optString(feed.title) ?? "",
    link: optString(feed.link),
    updated: isoDate(
      isAtom ? xmlText(feed.updated) : (xmlText(feed.lastBuildDate) ?? xmlText(feed.pubDate)),
      R,
      "feed updated",
    ),
    items,
  });
}

// ---------------------------------------------------------------------------
// @rowanmanning/feed-parser
// ---------------------------------------------------------------------------

/** Reads an RSS 2.0 or Atom 1.0 document with @rowanmanning/feed-parser (fast-xml-parser underneath). */
export function readWithRowanmanning(xml: string): ReadFeed {
  const R = "@rowanmanning/feed-parser";
  const feed = parseFeed(xml);
  return compact({
    title: feed.title ?? "",
    link: feed.url ?? undefined,
    updated: isoDate(feed.updated, R, "feed updated"),
    items: feed.items.map(
      (item): ReadItem =>
        compact({
          id: item.id ?? undefined,
          title: item.title ?? undefined,
          link: item.url ?? undefined,
          content: item.content ?? undefined,
          summary: item.description ?? undefined,
          published: isoDate(item.published, R, "published"),
          updated: isoDate(item.updated, R, "updated"),
          categories: item.categories.map((c) => c.term),
          authors: item.authors
            .map((a) => a.name ?? a.email ?? a.url)
            .filter((n): n is string => typeof n === "string" && n !== ""),
        }),
    ),
  });
}

// ---------------------------------------------------------------------------
// Python feedparser (Debian python3-feedparser)
// ---------------------------------------------------------------------------

type PyItem = {
  id: string | null;
  title: string | null;
  link: string | null;
  content: string | null;
  summary: string | null;
  published: string | null;
  updated: string | null;
  categories: string[];
  authors: string[];
};
type PyFeed = {
  bozo: boolean;
  bozo_exception: string | null;
  version: string;
  feedparser_version: string;
  title: string;
  link: string | null;
  updated: string | null;
  items: PyItem[];
};

/**
 * Reads a feed with Python feedparser via /usr/bin/python3 test/helpers/feedparser_read.py.
 * Throws if feedparser sets `bozo` (it does so for XML that is not well-formed, among other things).
 */
export function readWithPythonFeedparser(text: string): ReadFeed {
  const R = "python feedparser";
  if (!existsSync(PYTHON)) {
    throw new Error(
      `readWithPythonFeedparser: ${PYTHON} does not exist. Install Debian's python3 and ` +
        "`apt-get install -y python3-feedparser`. This check is never skipped.",
    );
  }
  const result = spawnSync(PYTHON, ["-I", PYTHON_SCRIPT], {
    input: text,
    encoding: "utf8",
    maxBuffer: MAX_BUFFER,
  });
  if (result.error) {
    throw new Error(`readWithPythonFeedparser: could not run ${PYTHON}: ${result.error.message}`);
  }
  if (result.status === 3) {
    throw new Error(
      `readWithPythonFeedparser: the feedparser module is missing for ${PYTHON}. ` +
        `Install it with \`apt-get install -y python3-feedparser\`.\n${result.stderr.trim()}`,
    );
  }
  if (result.status !== 0) {
    throw new Error(
      `readWithPythonFeedparser: ${PYTHON} ${PYTHON_SCRIPT} failed (exit ${result.status ?? result.signal}):\n` +
        result.stderr.trim(),
    );
  }
  let out: PyFeed;
  try {
    out = JSON.parse(result.stdout) as PyFeed;
  } catch (error) {
    throw new Error(
      `readWithPythonFeedparser: script printed invalid JSON (${(error as Error).message}):\n${result.stdout}`,
    );
  }
  if (out.bozo) {
    throw new Error(
      `python feedparser flagged the feed as malformed (bozo): ${out.bozo_exception ?? "(no exception)"}`,
    );
  }
  if (out.version === "") {
    throw new Error("python feedparser did not recognise the document as any feed format (version '')");
  }
  return compact({
    title: out.title,
    link: out.link ?? undefined,
    updated: isoDate(out.updated, R, "feed updated"),
    items: out.items.map(
      (item): ReadItem =>
        compact({
          id: item.id ?? undefined,
          title: item.title ?? undefined,
          link: item.link ?? undefined,
          content: item.content ?? undefined,
          summary: item.summary ?? undefined,
          published: isoDate(item.published, R, "published"),
          updated: isoDate(item.updated, R, "updated"),
          categories: item.categories,
          authors: item.authors,
        }),
    ),
  });
}

// ---------------------------------------------------------------------------

/** Reads an RSS/Atom document with all three readers. Any reader's failure rejects the promise. */
export async function readWithAllReaders(xml: string): Promise<AllReaders> {
  const rssParserResult = await readWithRssParser(xml);
  return {
    rssParser: rssParserResult,
    rowan: readWithRowanmanning(xml),
    python: readWithPythonFeedparser(xml),
  };
}
