/**
 * The published podcast feed requirements, as checks on a feed's XML. Each rule is one line of
 * `podcastViolations`' answer when it is broken, starting with the rule's name, so a test can
 * show that a rule catches what it claims to (feed a broken document, expect that name).
 *
 * Sources:
 * - Apple, "Podcast RSS feed requirements" (https://podcasters.apple.com/support/823-podcast-requirements)
 *   and "A Podcaster's Guide to RSS" (help.apple.com/itc/podcasts_connect/#/itcb54353390, archived
 *   in Podcastindex-org/podcast-namespace as itunes_reference.md): RSS 2.0; the itunes and content
 *   namespaces declared on <rss>; required channel tags title, description (at most 4,000 bytes),
 *   itunes:image (JPEG or PNG, .jpg/.png), language, itunes:category (Apple's list, exact case),
 *   itunes:explicit (true/false); itunes:type episodic/serial, serial shows numbering every
 *   episode; an enclosure with url, length and type on each episode, unique URLs, ASCII URLs; a
 *   guid that never changes; RFC 2822 dates; episode/season non-zero integers; episodeType
 *   full/trailer/bonus; tag values at most 255 characters, without leading or trailing spaces.
 * - Podcast Index namespace 1.0 (https://podcastindex.org/namespace/1.0, docs/tags/*.md):
 *   podcast:guid once per channel, the UUIDv5 of the feed URL without scheme and trailing
 *   slashes in namespace ead4c236-bf58-58c6-a2c6-a6b28d128cb6; podcast:locked yes/no with an
 *   optional owner e-mail; podcast:transcript (url and type required, rel="captions" only);
 *   podcast:chapters once per item, url and type required.
 *
 * Elements are looked up by namespace URI in a tree that Python's ElementTree resolved
 * (xml_tree.py), so a feed that bound the right names to the wrong URI fails too.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd";
export const PODCAST = "https://podcastindex.org/namespace/1.0";
export const CONTENT = "http://purl.org/rss/1.0/modules/content/";
const ATOM = "http://www.w3.org/2005/Atom";

/** Apple Podcasts' categories, copied from Apple's page (podcasters.apple.com/support/1691). */
export const APPLE_LIST = `
Arts: Books | Design | Fashion & Beauty | Food | Performing Arts | Visual Arts
Business: Careers | Entrepreneurship | Investing | Management | Marketing | Non-Profit
Comedy: Comedy Interviews | Improv | Stand-Up
Education: Courses | How To | Language Learning | Self-Improvement
Fiction: Comedy Fiction | Drama | Science Fiction
Government:
History:
Health & Fitness: Alternative Health | Fitness | Medicine | Mental Health | Nutrition | Sexuality
Kids & Family: Education for Kids | Parenting | Pets & Animals | Stories for Kids
Leisure: Animation & Manga | Automotive | Aviation | Crafts | Games | Hobbies | Home & Garden | Video Games
Music: Music Commentary | Music History | Music Interviews
News: Business News | Daily News | Entertainment News | News Commentary | Politics | Sports News | Tech News
Religion & Spirituality: Buddhism | Christianity | Hinduism | Islam | Judaism | Religion | Spirituality
Science: Astronomy | Chemistry | Earth Sciences | Life Sciences | Mathematics | Natural Sciences | Nature | Physics | Social Sciences
Society & Culture: Documentary | Personal Journals | Philosophy | Places & Travel | Relationships
Sports: Baseball | Basketball | Cricket | Fantasy Sports | Football | Golf | Hockey | Rugby | Running | Soccer | Swimming | Tennis | Volleyball | Wilderness | Wrestling
Technology:
True Crime:
TV & Film: After Shows | Film History | Film Interviews | Film Reviews | TV Reviews
`
  .trim()
  .split("\n")
  .map((line) => {
    const [name = "", subs = ""] = line.split(":");
    return [
      name.trim(),
      subs
        .split("|")
        .map((s) => s.trim())
        .filter(Boolean),
    ] as const;
  });

/** The media types Apple lists for episodes. */
export const APPLE_ENCLOSURE_TYPES = [
  "audio/x-m4a",
  "audio/mpeg",
  "video/quicktime",
  "video/mp4",
  "video/x-m4v",
  "application/pdf",
];

export interface XmlNode {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly text: string;
  readonly children: readonly XmlNode[];
}

const SCRIPT = fileURLToPath(new URL("./xml_tree.py", import.meta.url));

/** The document as ElementTree resolved it, and Python's uuid5 of each name (podcast namespace). */
export function readTree(
  xml: string,
  names: string[] = [],
): { tree: XmlNode; uuid5: Record<string, string> } {
  const result = spawnSync("/usr/bin/python3", ["-I", SCRIPT, ...names], { input: xml, encoding: "utf8" });
  if (result.error) throw new Error(`xml_tree.py could not run: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`not namespace-well-formed XML: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout) as { tree: XmlNode; uuid5: Record<string, string> };
}

/** xmllint reports an undeclared prefix on stderr but still exits 0: both must be clean. */
export function assertNamespacesDeclared(xml: string): void {
  const result = spawnSync("xmllint", ["--noout", "--nonet", "-"], { input: xml, encoding: "utf8" });
  if (result.error)
    throw new Error(`xmllint could not run (apt-get install libxml2-utils): ${result.error.message}`);
  if (result.status !== 0 || result.stderr.trim())
    throw new Error(`xmllint: ${result.stderr.trim() || `exit ${result.status}`}`);
}

const name = (uri: string, local: string) => `{${uri}}${local}`;
const kids = (node: XmlNode | undefined, tag: string) => node?.children.filter((c) => c.tag === tag) ?? [];
const kid = (node: XmlNode | undefined, tag: string) => kids(node, tag)[0];
const textOf = (node: XmlNode | undefined) => node?.text ?? "";
const bytes = (text: string) => Buffer.byteLength(text, "utf8");

function httpUrl(value: string | undefined): URL | undefined {
  try {
    const url = new URL(value ?? "");
    return url.protocol === "https:" || url.protocol === "http:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/** The spec's seed: "the RSS feed url, with the protocol scheme and trailing slashes stripped off". */
export const guidSeed = (url: string) => url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/\/+$/, "");

export interface RuleOptions {
  /** A guid the settings pinned for this feed (it then need not be derived from the URL). */
  readonly pinnedGuid?: string;
}

/** Every broken rule of a podcast feed; empty when the feed meets them all. */
export function podcastViolations(xml: string, options: RuleOptions = {}): string[] {
  const out: string[] = [];
  const rssTag = /<rss\b[^>]*>/.exec(xml)?.[0] ?? "";
  for (const [prefix, uri] of [
    ["itunes", ITUNES],
    ["content", CONTENT],
  ] as const)
    if (!rssTag.includes(`xmlns:${prefix}="${uri}"`))
      out.push(`namespaces: <rss> does not declare xmlns:${prefix}="${uri}"`);
  if (xml.includes("<podcast:") && !rssTag.includes(`xmlns:podcast="${PODCAST}"`))
    out.push(`namespaces: podcast: elements without xmlns:podcast="${PODCAST}" on <rss>`);
  const selfHref = /<atom:link[^>]*rel="self"[^>]*>/.exec(xml)?.[0]?.match(/href="([^"]+)"/)?.[1] ?? "";
  const { tree, uuid5 } = readTree(xml, [guidSeed(selfHref)]);
  if (tree.tag !== "rss" || tree.attrs.version !== "2.0")
    out.push('rss: the root is not <rss version="2.0">');
  const channels = kids(tree, "channel");
  if (channels.length !== 1) out.push(`rss: ${channels.length} channels`);
  const channel = channels[0];
  if (!channel) return out;
  channelRules(channel, out);
  guidRules(channel, uuid5[guidSeed(selfHref)] ?? "", options, out);
  const items = kids(channel, "item");
  const serial = textOf(kid(channel, name(ITUNES, "type"))) === "serial";
  itemRules(items, serial, out);
  // Apple: "Tag values are limited to 255 characters ... Don't add leading or trailing spaces".
  const walk = (node: XmlNode) => {
    if (node.tag.startsWith(`{${ITUNES}}`) && node.children.length === 0) {
      if (node.text.length > 255) out.push(`length: ${node.tag} has ${node.text.length} characters`);
      if (node.text !== node.text.trim()) out.push(`spaces: ${node.tag} has leading or trailing spaces`);
    }
    node.children.forEach(walk);
  };
  walk(channel);
  return out;
}

function channelRules(channel: XmlNode, out: string[]): void {
  for (const tag of ["title", "description", "link", "language"])
    if (!textOf(kid(channel, tag)).trim()) out.push(`channel: no ${tag}`);
  if (bytes(textOf(kid(channel, "description"))) > 4000) out.push("description: over 4,000 bytes");
  // Apple takes ISO 639 codes "with some possible modifiers, such as en-us".
  if (!/^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i.test(textOf(kid(channel, "language"))))
    out.push(`language: ${JSON.stringify(textOf(kid(channel, "language")))} is not an ISO 639 code`);
  const images = kids(channel, name(ITUNES, "image"));
  const href = images[0]?.attrs.href;
  if (images.length !== 1) out.push(`itunes:image: ${images.length} on the channel`);
  else if (!httpUrl(href) || !/\.(jpe?g|png)$/i.test(httpUrl(href)?.pathname ?? ""))
    out.push(`itunes:image: ${JSON.stringify(href)} is not an absolute http(s) URL of a .jpg or .png`);
  const categories = kids(channel, name(ITUNES, "category"));
  if (!categories.length) out.push("itunes:category: none");
  for (const category of categories) {
    const text = category.attrs.text ?? "";
    const known = APPLE_LIST.find(([top]) => top === text);
    if (!known) out.push(`itunes:category: ${JSON.stringify(text)} is not one of Apple's categories`);
    const subs = kids(category, name(ITUNES, "category"));
    if (subs.length > 1) out.push(`itunes:category: ${text} has ${subs.length} subcategories`);
    for (const sub of subs)
      if (!known?.[1].includes(sub.attrs.text ?? ""))
        out.push(`itunes:category: ${JSON.stringify(sub.attrs.text)} is not a subcategory of ${text}`);
  }
  const explicit = kids(channel, name(ITUNES, "explicit"));
  if (explicit.length !== 1 || !/^(true|false)$/.test(textOf(explicit[0])))
    out.push(`itunes:explicit: the channel needs exactly one, true or false (got ${explicit.map(textOf)})`);
  if (!textOf(kid(channel, name(ITUNES, "author"))).trim()) out.push("itunes:author: none");
  const owner = kid(channel, name(ITUNES, "owner"));
  if (
    owner &&
    (!textOf(kid(owner, name(ITUNES, "name"))).trim() ||
      !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(textOf(kid(owner, name(ITUNES, "email")))))
  )
    out.push("itunes:owner: needs itunes:name and an itunes:email address");
  const type = kid(channel, name(ITUNES, "type"));
  if (type && !/^(episodic|serial)$/.test(textOf(type)))
    out.push(`itunes:type: ${JSON.stringify(textOf(type))} is not episodic or serial`);
  const locked = kids(channel, name(PODCAST, "locked"));
  if (locked.length > 1) out.push("podcast:locked: more than one");
  for (const lock of locked) {
    if (!/^(yes|no)$/.test(textOf(lock))) out.push(`podcast:locked: ${JSON.stringify(textOf(lock))}`);
    if (lock.attrs.owner !== undefined && !/^[^\s@]+@[^\s@]+$/.test(lock.attrs.owner))
      out.push("podcast:locked: owner is not an e-mail address");
  }
}

function guidRules(channel: XmlNode, expected: string, options: RuleOptions, out: string[]): void {
  const guids = kids(channel, name(PODCAST, "guid"));
  if (guids.length !== 1) {
    out.push(`podcast:guid: ${guids.length} on the channel`);
    return;
  }
  const guid = textOf(guids[0]);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(guid))
    out.push(`podcast:guid: ${JSON.stringify(guid)} is not a lowercase UUIDv5`);
  else if (guid !== (options.pinnedGuid ?? expected))
    out.push(`podcast:guid: ${guid} is not the UUIDv5 of the feed's URL (${expected})`);
}

function itemRules(items: readonly XmlNode[], serial: boolean, out: string[]): void {
  const guids = new Set<string>();
  const files = new Set<string>();
  const episodeOnly = ["duration", "episode", "season", "episodeType", "explicit", "image"].map((l) =>
    name(ITUNES, l),
  );
  for (const [index, item] of items.entries()) {
    const at = `item ${index + 1}`;
    if (!textOf(kid(item, "title")).trim()) out.push(`${at}: no title`);
    const guid = textOf(kid(item, "guid"));
    if (!guid || guids.has(guid)) out.push(`guid: ${at} has no guid or a repeated one`);
    guids.add(guid);
    // RFC 2822: "day of week, day month year" and a 24-hour time with a zone.
    if (
      !/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} (GMT|[+-]\d{4})$/.test(
        textOf(kid(item, "pubDate")),
      )
    )
      out.push(`pubDate: ${at} has ${JSON.stringify(textOf(kid(item, "pubDate")))}`);
    if (bytes(textOf(kid(item, "description"))) > 4000) out.push(`description: ${at} is over 4,000 bytes`);
    const enclosures = kids(item, "enclosure");
    const enclosure = enclosures[0];
    if (enclosures.length > 1) out.push(`enclosure: ${at} has ${enclosures.length}`);
    if (!enclosure) {
      const stray = item.children.filter(
        (c) => episodeOnly.includes(c.tag) || c.tag.startsWith(`{${PODCAST}}`),
      );
      if (stray.length) out.push(`episode fields: ${at} has ${stray[0]?.tag} but no enclosure`);
      continue;
    }
    const { url = "", length = "", type = "" } = enclosure.attrs;
    if (!httpUrl(url) || !/^[\x21-\x7e]+$/.test(url))
      out.push(`enclosure: ${at} url ${JSON.stringify(url)} is not an ASCII http(s) URL`);
    if (!/^\d+$/.test(length)) out.push(`enclosure: ${at} length ${JSON.stringify(length)}`);
    if (!/^(audio|video)\/[a-z0-9.+-]+$/.test(type))
      out.push(`enclosure: ${at} type ${JSON.stringify(type)} is not audio or video`);
    if (files.has(url)) out.push(`enclosure: ${at} repeats ${url} (Apple ignores duplicates)`);
    files.add(url);
    episodeRules(item, at, serial, out);
  }
}

function episodeRules(item: XmlNode, at: string, serial: boolean, out: string[]): void {
  const one = (local: string) => {
    const found = kids(item, name(ITUNES, local));
    if (found.length > 1) out.push(`itunes:${local}: ${at} has ${found.length}`);
    return found[0];
  };
  const duration = one("duration");
  if (duration && !/^(\d+|(\d+:)?[0-5]?\d:[0-5]\d)$/.test(textOf(duration)))
    out.push(`itunes:duration: ${at} has ${JSON.stringify(textOf(duration))}, not seconds or [HH:]MM:SS`);
  for (const local of ["episode", "season"]) {
    const number = one(local);
    if (number && !/^[1-9]\d*$/.test(textOf(number)))
      out.push(`itunes:${local}: ${at} has ${JSON.stringify(textOf(number))}, not a positive integer`);
  }
  const episodeType = one("episodeType");
  if (episodeType && !/^(full|trailer|bonus)$/.test(textOf(episodeType)))
    out.push(`itunes:episodeType: ${at} has ${JSON.stringify(textOf(episodeType))}`);
  if (serial && (textOf(episodeType) || "full") === "full" && !one("episode"))
    out.push(`itunes:episode: ${at} is a full episode of a serial show without a number`);
  const explicit = one("explicit");
  if (explicit && !/^(true|false)$/.test(textOf(explicit)))
    out.push(`itunes:explicit: ${at} has ${textOf(explicit)}`);
  const image = one("image");
  if (
    image &&
    !(httpUrl(image.attrs.href) && /\.(jpe?g|png)$/i.test(httpUrl(image.attrs.href)?.pathname ?? ""))
  )
    out.push(`itunes:image: ${at} has ${JSON.stringify(image.attrs.href)}`);
  for (const transcript of kids(item, name(PODCAST, "transcript"))) {
    const { url, type, rel, language } = transcript.attrs;
    if (!httpUrl(url) || !/^[a-z]+\/[a-z0-9.+-]+$/.test(type ?? ""))
      out.push(`podcast:transcript: ${at} needs an http(s) url and a media type`);
    if (rel !== undefined && rel !== "captions")
      out.push(`podcast:transcript: ${at} rel ${JSON.stringify(rel)}`);
    if (language !== undefined && !/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(language))
      out.push(`podcast:transcript: ${at} language ${JSON.stringify(language)}`);
  }
  const chapters = kids(item, name(PODCAST, "chapters"));
  if (chapters.length > 1) out.push(`podcast:chapters: ${at} has ${chapters.length}`);
  for (const chapter of chapters)
    if (!httpUrl(chapter.attrs.url) || !/^[a-z]+\/[a-z0-9.+-]+$/.test(chapter.attrs.type ?? ""))
      out.push(`podcast:chapters: ${at} needs an http(s) url and a media type`);
}

/** The podcast markup of a document that must not be a podcast (an archive page): none at all. */
export function podcastMarkup(xml: string): string[] {
  const { tree } = readTree(xml);
  const found: string[] = [];
  const walk = (node: XmlNode) => {
    if (node.tag.startsWith(`{${ITUNES}}`) || node.tag.startsWith(`{${PODCAST}}`)) found.push(node.tag);
    node.children.forEach(walk);
  };
  walk(tree);
  return found;
}

/** The channel's podcast:guid, or undefined. */
export function guidOf(xml: string): string | undefined {
  const channel = kid(readTree(xml).tree, "channel");
  const guid = kid(channel, name(PODCAST, "guid"));
  return guid ? textOf(guid) : undefined;
}

/** The channel's atom:link rel="self" href, read from the resolved tree. */
export function selfUrlOf(xml: string): string | undefined {
  const channel = kid(readTree(xml).tree, "channel");
  return kids(channel, name(ATOM, "link")).find((link) => link.attrs.rel === "self")?.attrs.href;
}
