import { createHash } from "node:crypto";
import { collapseWhitespace, cutUtf16, quote, stripForbiddenChars } from "./text.ts";

/**
 * The `podcast:` block of the site settings. A site that has one publishes its subscription
 * feeds (the main feed and every tag, author, section and language feed) as podcast feeds for
 * Apple Podcasts and Podcasting 2.0 apps: the channel-level fields come from here, the
 * episode-level ones from each article's front matter (podcast-fields.ts). Without the block the
 * feeds stay plain RSS: Apple refuses a show without artwork, a category and a parental advisory,
 * and none of those can be guessed.
 */
export interface PodcastSettings {
  /** Show artwork: an absolute http(s) URL of a JPEG or PNG (Apple: square, 1400 to 3000 px). */
  readonly image: string;
  /** One to three of Apple's categories, the first being the one Apple lists the show under. */
  readonly categories: readonly PodcastCategory[];
  /** Apple's parental advisory for the show. */
  readonly explicit: boolean;
  /** `itunes:author`: who makes the show; the site's author (or title) when not given. */
  readonly author?: string;
  /** `itunes:owner`: whom Apple and directories contact about the show. */
  readonly owner?: { readonly name: string; readonly email: string };
  /** Episodic (newest first, the default) or serial (in order, every episode numbered). */
  readonly type: "episodic" | "serial";
  /** `podcast:locked`: whether other hosting platforms may import the feed. */
  readonly locked?: boolean;
  /** The main feed's `podcast:guid`, kept when the feed moves (else derived from its URL). */
  readonly guid?: string;
  /** The show's copyright notice (RSS `copyright`). */
  readonly copyright?: string;
}

export interface PodcastCategory {
  readonly name: string;
  readonly sub?: string;
}

/** What one feed carries at channel level: the settings, with this feed's guid and author. */
export interface PodcastChannel extends Omit<PodcastSettings, "guid" | "author"> {
  readonly guid: string;
  readonly author: string;
}

/**
 * Apple Podcasts' categories and their subcategories, as Apple lists them
 * (https://podcasters.apple.com/support/1691-apple-podcasts-categories). Apple matches them
 * case-sensitively, so settings are matched without case and written in Apple's spelling.
 */
export const APPLE_CATEGORIES: Readonly<Record<string, readonly string[]>> = {
  Arts: ["Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"],
  Business: ["Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"],
  Comedy: ["Comedy Interviews", "Improv", "Stand-Up"],
  Education: ["Courses", "How To", "Language Learning", "Self-Improvement"],
  Fiction: ["Comedy Fiction", "Drama", "Science Fiction"],
  Government: [],
  History: [],
  "Health & Fitness": [
    "Alternative Health",
    "Fitness",
    "Medicine",
    "Mental Health",
    "Nutrition",
    "Sexuality",
  ],
  "Kids & Family": ["Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"],
  Leisure: [
    "Animation & Manga",
    "Automotive",
    "Aviation",
    "Crafts",
    "Games",
    "Hobbies",
    "Home & Garden",
    "Video Games",
  ],
  Music: ["Music Commentary", "Music History", "Music Interviews"],
  News: [
    "Business News",
    "Daily News",
    "Entertainment News",
    "News Commentary",
    "Politics",
    "Sports News",
    "Tech News",
  ],
  "Religion & Spirituality": [
    "Buddhism",
    "Christianity",
    "Hinduism",
    "Islam",
    "Judaism",
    "Religion",
    "Spirituality",
  ],
  Science: [
    "Astronomy",
    "Chemistry",
    "Earth Sciences",
    "Life Sciences",
    "Mathematics",
    "Natural Sciences",
    "Nature",
    "Physics",
    "Social Sciences",
  ],
  "Society & Culture": ["Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"],
  Sports: [
    "Baseball",
    "Basketball",
    "Cricket",
    "Fantasy Sports",
    "Football",
    "Golf",
    "Hockey",
    "Rugby",
    "Running",
    "Soccer",
    "Swimming",
    "Tennis",
    "Volleyball",
    "Wilderness",
    "Wrestling",
  ],
  Technology: [],
  "True Crime": [],
  "TV & Film": ["After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"],
};

/** Apple: tag values are limited to 255 characters (descriptions to 4,000 bytes). */
export const PODCAST_TEXT_LIMIT = 255;
/** Apple recognises the first category; directories read up to three. */
export const MAX_PODCAST_CATEGORIES = 3;
/** Apple: a show's and an episode's description may be at most 4,000 bytes. */
export const PODCAST_DESCRIPTION_BYTES = 4000;

const KNOWN = ["image", "category", "explicit", "author", "owner", "type", "locked", "guid", "copyright"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;

/**
 * Validates the `podcast:` block. Every problem is pushed onto `problems`, each naming its field
 * (`podcast.image: ...`), as parseConfig reports the other settings; undefined when absent or bad.
 */
export function parsePodcastSettings(
  value: unknown,
  problems: string[],
  siteDescription = "",
): PodcastSettings | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    problems.push("podcast: must be a mapping of settings (image, category, explicit, ...)");
    return undefined;
  }
  const input = value as Record<string, unknown>;
  const before = problems.length;
  const fail = (key: string, reason: string): undefined => {
    problems.push(`podcast.${key}: ${reason}`);
    return undefined;
  };
  for (const key of Object.keys(input))
    if (!KNOWN.includes(key)) fail(key, `unknown setting (known: ${KNOWN.join(", ")})`);
  const image = readImage(input.image, fail);
  const categories = readCategories(input.category, fail);
  const explicit = typeof input.explicit === "boolean" ? input.explicit : undefined;
  if (explicit === undefined)
    fail(
      "explicit",
      `is required: true or false (Apple's parental advisory), got ${describe(input.explicit)}`,
    );
  const author = readText(input.author, "author", fail);
  const owner = readOwner(input.owner, fail);
  const type = input.type ?? "episodic";
  if (type !== "episodic" && type !== "serial")
    fail("type", `must be episodic or serial, got ${describe(type)}`);
  const locked = input.locked;
  if (locked !== undefined && typeof locked !== "boolean")
    fail("locked", `must be true or false, got ${describe(locked)}`);
  const guid = input.guid;
  if (guid !== undefined && (typeof guid !== "string" || !UUID.test(guid)))
    fail("guid", `must be a UUID like ead4c236-bf58-58c6-a2c6-a6b28d128cb6, got ${describe(guid)}`);
  const copyright = readText(input.copyright, "copyright", fail);
  // The site's description is the show's: Apple refuses one over 4,000 bytes.
  if (Buffer.byteLength(siteDescription) > PODCAST_DESCRIPTION_BYTES)
    problems.push(
      `description: a podcast's description may be at most ${PODCAST_DESCRIPTION_BYTES} bytes (Apple)`,
    );
  if (problems.length > before || !image || !categories || explicit === undefined) return undefined;
  return {
    image,
    categories,
    explicit,
    ...(author ? { author } : {}),
    ...(owner ? { owner } : {}),
    type: type as PodcastSettings["type"],
    ...(typeof locked === "boolean" ? { locked } : {}),
    ...(typeof guid === "string" ? { guid: guid.toLowerCase() } : {}),
    ...(copyright ? { copyright } : {}),
  };
}

type Fail = (key: string, reason: string) => undefined;

function readImage(value: unknown, fail: Fail): string | undefined {
  if (value === undefined || value === null)
    return fail("image", "is required: the show's artwork, an absolute http(s) URL of a .jpg or .png");
  const url = typeof value === "string" && value.length <= 2000 ? httpUrl(value.trim()) : undefined;
  if (!url) return fail("image", `must be an absolute http(s) URL, got ${describe(value)}`);
  // Apple: "in JPEG or PNG format ... with appropriate file extensions (.jpg, .png)".
  if (!/\.(jpe?g|png)$/i.test(url.pathname))
    return fail("image", `must be a JPEG or PNG whose URL ends in .jpg or .png, got ${quote(url.href)}`);
  return url.href;
}

/** `category`: "News", "News > Daily News", a bare subcategory ("Daily News"), or a list of them. */
function readCategories(value: unknown, fail: Fail): PodcastCategory[] | undefined {
  if (value === undefined || value === null)
    return fail("category", 'is required: one of Apple\'s categories, e.g. "News > Daily News"');
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0 || values.length > MAX_PODCAST_CATEGORIES)
    return fail("category", `must name 1 to ${MAX_PODCAST_CATEGORIES} categories, got ${values.length}`);
  const out: PodcastCategory[] = [];
  for (const entry of values) {
    if (typeof entry !== "string" || entry.length > 200)
      return fail("category", `must be a category name like "News > Daily News", got ${describe(entry)}`);
    const found = appleCategory(entry);
    if (typeof found === "string") return fail("category", found);
    out.push(found);
  }
  return out;
}

/** The category a setting names, in Apple's spelling, or why it names none. */
export function appleCategory(text: string): PodcastCategory | string {
  const [first = "", second, ...rest] = text.split(">").map((part) => collapseWhitespace(part));
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const list = "https://podcasters.apple.com/support/1691-apple-podcasts-categories";
  if (rest.length || second === "")
    return `must be "Category" or "Category > Subcategory", got ${quote(text)}`;
  const name = Object.keys(APPLE_CATEGORIES).find((known) => same(known, first));
  if (!name) {
    // A subcategory alone ("Daily News") names its parent too: no subcategory is in two lists.
    if (second === undefined)
      for (const [parent, subs] of Object.entries(APPLE_CATEGORIES)) {
        const sub = subs.find((known) => same(known, first));
        if (sub) return { name: parent, sub };
      }
    return `${quote(first)} is not one of Apple's categories (${list})`;
  }
  if (second === undefined) return { name };
  const subs = APPLE_CATEGORIES[name] ?? [];
  const sub = subs.find((known) => same(known, second));
  if (!sub)
    return subs.length
      ? `${quote(second)} is not a subcategory of ${name} (it has ${subs.join(", ")})`
      : `${name} has no subcategories, got ${quote(second)}`;
  return { name, sub };
}

function readText(value: unknown, key: string, fail: Fail): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") return fail(key, `must be text, got ${describe(value)}`);
  const clean = collapseWhitespace(stripForbiddenChars(value.slice(0, 4 * PODCAST_TEXT_LIMIT)));
  if (value.length > PODCAST_TEXT_LIMIT || clean.length > PODCAST_TEXT_LIMIT)
    return fail(key, `is longer than ${PODCAST_TEXT_LIMIT} characters (Apple's limit)`);
  return clean || fail(key, "must not be empty");
}

/** `owner`: {name, email} or "Name <email>"; Apple writes to the address, so both are needed. */
function readOwner(value: unknown, fail: Fail): PodcastSettings["owner"] {
  if (value === undefined || value === null) return undefined;
  let raw: Record<string, unknown> | undefined;
  if (typeof value === "string") {
    const match = /^([^<>]*)<([^<>]*)>$/.exec(value.trim());
    raw = match ? { name: match[1], email: match[2] } : undefined;
  } else if (typeof value === "object" && !Array.isArray(value)) raw = value as Record<string, unknown>;
  const shape = 'must be {name, email} or "Name <email>"';
  if (!raw) return fail("owner", `${shape}, got ${describe(value)}`);
  const extra = Object.keys(raw).filter((key) => key !== "name" && key !== "email");
  if (extra.length) return fail("owner", `${shape}; unknown field ${quote(extra[0])}`);
  const name = readText(raw.name, "owner.name", fail) ?? fail("owner.name", "is required");
  const email = typeof raw.email === "string" ? raw.email.trim() : undefined;
  if (!email || email.length > 254 || !EMAIL.test(email))
    return fail("owner.email", `must be an email address, got ${describe(raw.email)}`);
  return name ? { name, email } : undefined;
}

function httpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (value && typeof value === "object") return "a mapping";
  return typeof value === "string" ? quote(value) : String(value);
}

/** The Podcasting 2.0 namespace's own UUID, the namespace of every `podcast:guid`. */
export const PODCAST_GUID_NAMESPACE = "ead4c236-bf58-58c6-a2c6-a6b28d128cb6";

/** An RFC 4122 version 5 UUID: SHA-1 of the namespace's 16 bytes and the name's UTF-8. */
export function uuidV5(namespace: string, name: string): string {
  const bytes = createHash("sha1")
    .update(Buffer.from(namespace.replace(/-/g, ""), "hex"))
    .update(name, "utf8")
    .digest()
    .subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A feed's `podcast:guid` as the namespace defines it: the UUIDv5 of its URL without the scheme
 * and without trailing slashes ("podnews.net/rss").
 */
export function podcastGuid(feedUrl: string): string {
  return uuidV5(PODCAST_GUID_NAMESPACE, feedUrl.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/\/+$/, ""));
}

/**
 * The channel fields of one feed. Each feed is a podcast of its own (an app subscribes to a tag's
 * or a host's feed as a show), so each gets its own guid: two feeds with one guid would be
 * merged into one show by the directories. A pinned `guid` is the main feed's alone.
 */
export function podcastChannel(
  settings: PodcastSettings,
  rssUrl: string,
  fallbackAuthor: string,
  main: boolean,
): PodcastChannel {
  const { guid, author, ...rest } = settings;
  return {
    ...rest,
    guid: main && guid ? guid : podcastGuid(rssUrl),
    author: author ?? cutUtf16(collapseWhitespace(fallbackAuthor), PODCAST_TEXT_LIMIT),
  };
}
