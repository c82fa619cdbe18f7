import { ConfigError } from "./errors.ts";

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
}

export const DEFAULT_ITEM_LIMIT = 50;
export const DEFAULT_PERMALINK = "/:path/";
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

/** Reads a person from a string ("Name <email>") or an object with name/email/url. */
export function parsePerson(value: unknown): Person | string {
  if (typeof value === "string") {
    const match = /^\s*([^<]*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(value);
    if (match?.[1]) return { name: match[1], email: match[2] };
    const name = value.trim();
    return name ? { name } : "must not be empty";
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const { name, email, url } = value as Record<string, unknown>;
    if (typeof name !== "string" || !name.trim()) return "needs a non-empty `name`";
    if (email !== undefined && (typeof email !== "string" || !/^[^\s@<>]+@[^\s@<>]+$/.test(email)))
      return "`email` must be an email address";
    if (url !== undefined && (typeof url !== "string" || !parseHttpUrl(url)))
      return "`url` must be an absolute http(s) URL";
    return {
      name: name.trim(),
      ...(email ? { email: email as string } : {}),
      ...(url ? { url: url as string } : {}),
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
  const str = (field: string, required: boolean): string | undefined => {
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

  const title = str("title", true);
  const urlText = str("url", true);
  const url = urlText === undefined ? undefined : parseHttpUrl(urlText);
  if (urlText !== undefined && !url) problems.push(`url: must be an absolute http(s) URL, got "${urlText}"`);

  const feedsText = str("feedsUrl", false);
  const feedsUrl = feedsText === undefined ? undefined : parseHttpUrl(feedsText);
  if (feedsText !== undefined && !feedsUrl)
    problems.push(`feedsUrl: must be an absolute http(s) URL, got "${feedsText}"`);

  const description = str("description", false) ?? "";
  const language = str("language", false) ?? "en";
  if (!LANGUAGE_TAG.test(language))
    problems.push(`language: must be a language tag like "en" or "en-GB", got "${language}"`);

  let author: Person | undefined;
  if (input.author !== undefined && input.author !== null) {
    const parsed = parsePerson(input.author);
    if (typeof parsed === "string") problems.push(`author: ${parsed}`);
    else author = parsed;
  }

  let itemLimit = DEFAULT_ITEM_LIMIT;
  if (input.itemLimit !== undefined && input.itemLimit !== null) {
    const n = input.itemLimit;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 1000) {
      problems.push(`itemLimit: must be a whole number from 1 to 1000, got ${JSON.stringify(n)}`);
    } else itemLimit = n;
  }

  const permalink = str("permalink", false) ?? DEFAULT_PERMALINK;
  if (!permalink.startsWith("/")) problems.push(`permalink: must start with "/", got "${permalink}"`);
  else if (!permalink.match(PERMALINK_TOKEN)?.some((t) => t === ":path" || t === ":slug"))
    problems.push(
      `permalink: must contain :path or :slug so every article gets its own link, got "${permalink}"`,
    );
  else if (/[?#\\]|\/\.\.?(\/|$)/.test(permalink))
    problems.push(
      `permalink: must be a plain path without "?", "#", "\\" or dot segments, got "${permalink}"`,
    );

  const hubText = str("hub", false);
  const hub = hubText === undefined ? undefined : parseHttpUrl(hubText);
  if (hubText !== undefined && !hub) problems.push(`hub: must be an absolute http(s) URL, got "${hubText}"`);

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
  };
}
