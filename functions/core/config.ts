import { ConfigError } from "./errors.ts";
import { type PodcastSettings, parsePodcastSettings } from "./podcast-config.ts";
import { quote } from "./text.ts";

/** A person credited for the site or an article. */
export interface Person {
  readonly name: string;
  readonly email?: string;
  readonly url?: string;
}

/** Validated site settings. Built only by `parseConfig`. */
export interface SiteConfig {
  /** Feed title. */
  readonly title: string;
  /** The site's home page; article links are formed under it. Always ends with "/". */
  readonly url: string;
  /** Where the `feeds/` folder is served from; self links point here. Ends with "/". */
  readonly feedsUrl: string;
  readonly description: string;
  /** BCP 47 language tag of the site, e.g. "en" or "en-GB". */
  readonly language: string;
  /** Credited on articles that name no author. */
  readonly author?: Person;
  /** How many of the newest articles each feed holds. */
  readonly itemLimit: number;
  /** Pattern for an article's link, relative to `url`; tokens :path :slug :section :year :month :day. */
  readonly permalink: string;
  /** WebSub hub the feeds advertise and that is pinged after each change (absolute http(s) URL). */
  readonly hub?: string;
  /** The `podcast:` block: the subscription feeds are podcast feeds (podcast-config.ts). */
  readonly podcast?: PodcastSettings;
  /**
   * How many folder levels under content/ get a section feed (feeds/sections/<path>/): 1 for the
   * top-level folders (the default), up to MAX_SECTION_DEPTH; 0 for none.
   */
  readonly sectionDepth: number;
  /**
   * Which languages get a feed of their own (feeds/lang/<tag>/): "auto" (the default) each
   * language articles declare other than the site's, "all" the site's too, "none" none.
   */
  readonly languageFeeds: "auto" | "all" | "none";
}

export const DEFAULT_ITEM_LIMIT = 50;
export const DEFAULT_PERMALINK = "/:path/";
/** Deepest folder level with section feeds: each level costs every article one more feed to update. */
export const MAX_SECTION_DEPTH = 4;
const KNOWN_FIELDS = new Set([
  "title",
  "url",
  "feedsUrl",
  "description",
  "language",
  "author",
  "itemLimit",
  "permalink",
  "hub",
  "podcast",
  "sectionFeeds",
  "languageFeeds",
]);
const LANGUAGE_TAG = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/;
const PERMALINK_TOKEN = /:(path|slug|section|year|month|day)\b/g;

/** Parses an absolute http(s) URL, or returns undefined. */
export function parseHttpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}

function withSlash(url: URL): string {
  const href = url.href.split(/[?#]/)[0] ?? url.href;
  return href.endsWith("/") ? href : `${href}/`;
}

/** Longest name, email address and URL a person may have. */
export const PERSON_LIMITS = { name: 200, email: 254, url: 2000 } as const;

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

/**
 * `Name <email>` split by hand: a regex with a lazy name beside optional spaces backtracks
 * cubically on a value of thousands of spaces. Undefined when the text is not of that form.
 */
function nameAndEmail(text: string): { name: string; email: string } | undefined {
  if (!text.endsWith(">")) return undefined;
  const open = text.lastIndexOf("<");
  const name = text.slice(0, Math.max(open, 0)).trim();
  const email = text.slice(open + 1, -1);
  // As "[^<>\s]+@[^<>\s]+": no brackets or spaces, an @ with something on each side.
  if (open < 0 || !name || name.includes("<") || /[<>\s]/.test(email)) return undefined;
  return email.slice(1, -1).includes("@") ? { name, email } : undefined;
}

function checkPerson(name: string, email?: string, url?: string): string | undefined {
  if (name.length > PERSON_LIMITS.name) return `the name is longer than ${PERSON_LIMITS.name} characters`;
  if (email !== undefined && email.length > PERSON_LIMITS.email)
    return `the email address is longer than ${PERSON_LIMITS.email} characters`;
  if (url !== undefined && url.length > PERSON_LIMITS.url)
    return `the url is longer than ${PERSON_LIMITS.url} characters`;
  return undefined;
}

/** Reads a person from a string ("Name <email>") or an object with name/email/url. */
export function parsePerson(value: unknown): Person | string {
  if (typeof value === "string") {
    const text = value.trim();
    const split = nameAndEmail(text);
    const person = split ?? { name: text };
    if (!person.name) return "must not be empty";
    return checkPerson(person.name, split?.email) ?? person;
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const { name, email, url } = value as Record<string, unknown>;
    if (typeof name !== "string" || !name.trim()) return "needs a non-empty `name`";
    if (
      email !== undefined &&
      (typeof email !== "string" || email.length > PERSON_LIMITS.email || !EMAIL.test(email))
    )
      return "`email` must be an email address";
    const href =
      typeof url === "string" && url.length <= PERSON_LIMITS.url ? parseHttpUrl(url)?.href : undefined;
    if (url !== undefined && !href) return "`url` must be an absolute http(s) URL";
    const problem = checkPerson(name.trim(), email as string | undefined, href);
    if (problem) return problem;
    return {
      name: name.trim(),
      ...(email ? { email: email as string } : {}),
      // Normalised (as Atom's writer does), so every format carries the same URL.
      ...(href ? { url: href } : {}),
    };
  }
  return 'must be a name string or an object like {name: "Ann", email: "ann@example.com"}';
}

/**
 * Validates raw settings (as read from feedpub.config.yaml or the Lambda environment).
 * Every bad field is reported at once, each naming the field.
 */
export function parseConfig(raw: unknown, source = "config"): SiteConfig {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(source, ["the file must hold a mapping of settings (title, url, ...)"]);
  }
  const input = raw as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(input)) {
    if (!KNOWN_FIELDS.has(key))
      problems.push(`${key}: unknown setting (known: ${[...KNOWN_FIELDS].join(", ")})`);
  }
  const read = settingReader(input, problems);
  const title = read.text("title", true);
  const url = read.url("url", true);
  const feedsUrl = read.url("feedsUrl", false);
  const description = read.text("description", false) ?? "";
  const language = read.text("language", false) ?? "en";
  if (!LANGUAGE_TAG.test(language))
    problems.push(`language: must be a language tag like "en" or "en-GB", got ${quote(language)}`);
  let author: Person | undefined;
  if (input.author !== undefined && input.author !== null) {
    const parsed = parsePerson(input.author);
    if (typeof parsed === "string") problems.push(`author: ${parsed}`);
    else author = parsed;
  }
  const itemLimit = readItemLimit(input.itemLimit, problems);
  const permalink = readPermalink(read.text("permalink", false) ?? DEFAULT_PERMALINK, problems);
  const hub = read.url("hub", false);
  const podcast = parsePodcastSettings(input.podcast, problems, description);
  const sectionDepth = readSectionFeeds(input.sectionFeeds, problems);
  const languageFeeds = readLanguageFeeds(input.languageFeeds, problems);
  if (problems.length > 0 || !title || !url) throw new ConfigError(source, problems);
  const siteUrl = withSlash(url);
  return {
    title,
    url: siteUrl,
    feedsUrl: feedsUrl ? withSlash(feedsUrl) : `${siteUrl}feeds/`,
    description,
    language,
    ...(author ? { author } : {}),
    itemLimit,
    permalink,
    ...(hub ? { hub: hub.href } : {}),
    ...(podcast ? { podcast } : {}),
    sectionDepth,
    languageFeeds,
  };
}

/** `sectionFeeds: true` (the default: top-level folders), `false`, or `{ depth: N }`. */
function readSectionFeeds(value: unknown, problems: string[]): number {
  if (value === undefined || value === null || value === true) return 1;
  if (value === false) return 0;
  const depth =
    typeof value === "object" && !Array.isArray(value) ? (value as { depth?: unknown }).depth : value;
  const extra =
    typeof value === "object" && value !== null ? Object.keys(value).filter((k) => k !== "depth") : [];
  if (
    typeof depth !== "number" ||
    !Number.isInteger(depth) ||
    depth < 0 ||
    depth > MAX_SECTION_DEPTH ||
    extra.length
  ) {
    problems.push(
      `sectionFeeds: must be true, false or { depth: 0 to ${MAX_SECTION_DEPTH} }, got ${JSON.stringify(value)}`,
    );
    return 1;
  }
  return depth;
}

/** `languageFeeds: auto` (the default), `true` (the site's language too) or `false`. */
function readLanguageFeeds(value: unknown, problems: string[]): SiteConfig["languageFeeds"] {
  if (value === undefined || value === null || value === "auto") return "auto";
  if (value === true) return "all";
  if (value === false) return "none";
  problems.push(`languageFeeds: must be auto, true or false, got ${JSON.stringify(value)}`);
  return "auto";
}

/** Reads of settings that record a problem (and give undefined) instead of throwing. */
function settingReader(input: Record<string, unknown>, problems: string[]) {
  const text = (field: string, required: boolean): string | undefined => {
    const value = input[field];
    if (value === undefined || value === null) {
      if (required) problems.push(`${field}: is required`);
      return undefined;
    }
    if (typeof value !== "string" || (required && !value.trim())) {
      problems.push(
        `${field}: must be a ${required ? "non-empty " : ""}string, got ${JSON.stringify(value)}`,
      );
      return undefined;
    }
    return value.trim();
  };
  const url = (field: string, required: boolean): URL | undefined => {
    const written = text(field, required);
    const parsed = written === undefined ? undefined : parseHttpUrl(written);
    if (written !== undefined && !parsed)
      problems.push(`${field}: must be an absolute http(s) URL, got ${quote(written)}`);
    return parsed;
  };
  return { text, url };
}

function readItemLimit(value: unknown, problems: string[]): number {
  if (value === undefined || value === null) return DEFAULT_ITEM_LIMIT;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 1000) {
    problems.push(`itemLimit: must be a whole number from 1 to 1000, got ${JSON.stringify(value)}`);
    return DEFAULT_ITEM_LIMIT;
  }
  return value;
}

function readPermalink(permalink: string, problems: string[]): string {
  if (!permalink.startsWith("/")) problems.push(`permalink: must start with "/", got ${quote(permalink)}`);
  else if (!permalink.match(PERMALINK_TOKEN)?.some((t) => t === ":path" || t === ":slug"))
    problems.push(
      `permalink: must contain :path or :slug so every article gets its own link, got ${quote(permalink)}`,
    );
  else if (/[?#\\]|\/\.\.?(\/|$)/.test(permalink))
    problems.push(
      `permalink: must be a plain path without "?", "#", "\\" or dot segments, got ${quote(permalink)}`,
    );
  return permalink;
}
