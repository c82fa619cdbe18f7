import type { Article } from "./article.ts";
import type { SiteConfig } from "./config.ts";
import type { ArticleProblem } from "./errors.ts";
import { feedId } from "./feed-id.ts";
import type { SanitizedHtml } from "./html.ts";
import { idClaims } from "./ids.ts";
import { type Enclosure, guessType, type MediaRef, resolveEnclosure } from "./media.ts";
import { FEED_FILES, type FeedItem, type FeedModel } from "./model.ts";
import { podcastChannel } from "./podcast-config.ts";
import { EpisodeError, itemEpisode } from "./podcast-fields.ts";
import { renderAtom } from "./render/atom.ts";
import { ATOM_XSL, FEED_CSS, type ListedFeed, RSS_XSL, renderLandingPage } from "./render/browser.ts";
import { renderJsonFeed } from "./render/json-feed.ts";
import { renderRss } from "./render/rss.ts";
import { renderBody } from "./render-body.ts";
import { collapseWhitespace, cutUtf16, escapeControls, truncateWords } from "./text.ts";
import { articleId, articleUrl } from "./urls.ts";

/** What the publisher remembers about a file between builds. */
export interface SeenRecord {
  /** When the file was first seen (ISO text or epoch ms): the date of articles that give none. */
  readonly firstSeen: string | number;
  /** Hash of the file's bytes at the last build. */
  readonly hash: string;
  /** When the bytes last changed: the `updated` date of articles that give no lastmod. */
  readonly changed: string | number;
}

/** Path → record. */
export type SeenState = Readonly<Record<string, SeenRecord>>;

/** Why an article that parsed fine is not in the feed (yet). */
export interface HeldBack {
  readonly file: string;
  readonly reason: "draft" | "scheduled" | "expired";
  readonly until?: Date;
}

/** The article fields that decide whether and where an article appears; no body needed. */
export type PlanEntry = Pick<
  Article,
  "path" | "hash" | "date" | "updated" | "publishDate" | "expiryDate" | "draft" | "id"
>;

class LazyChosen implements Chosen {
  private cachedId: string | undefined;
  constructor(
    private readonly entry: PlanEntry,
    readonly published: Date,
    readonly updated: Date,
    private readonly config: SiteConfig,
  ) {}
  get path(): string {
    return this.entry.path;
  }
  get id(): string {
    this.cachedId ??= articleId(this.entry, this.config);
    return this.cachedId;
  }
}

/** An article chosen for the feed, with its id and resolved dates. */
export interface Chosen {
  readonly path: string;
  readonly id: string;
  readonly published: Date;
  readonly updated: Date;
}

export interface PlanInput {
  readonly config: SiteConfig;
  readonly entries: readonly PlanEntry[];
  /** First-seen records, already up to date (see updateSeen); read only. */
  readonly seen: SeenState;
  readonly now: Date;
}

export interface Plan {
  /** Every publishable article, newest first; the feed takes the first `itemLimit` it can render. */
  readonly chosen: readonly Chosen[];
  readonly held: readonly HeldBack[];
  /** Articles refused at this stage (a duplicate id). */
  readonly problems: readonly ArticleProblem[];
  /** The earliest time a held-back article becomes due or an expiring one must go. */
  readonly nextChange?: Date;
}

export interface BuildInput {
  readonly config: SiteConfig;
  readonly articles: readonly Article[];
  readonly seen: SeenState;
  readonly now: Date;
  readonly keep?: readonly string[];
}

export interface BuildResult extends Omit<Plan, "chosen"> {
  readonly feed: FeedModel;
  readonly seen: SeenState;
}

const SUMMARY_LENGTH = 300;

/** Updates the seen-records for the current set of articles; records of removed files are dropped. */
export function updateSeen(
  articles: readonly Pick<PlanEntry, "path" | "hash">[],
  seen: SeenState,
  now: Date,
  keep: readonly string[] = [],
): SeenState {
  const next: Record<string, SeenRecord> = {};
  const stamp = now.toISOString();
  for (const article of articles) {
    const previous = seen[article.path];
    if (!previous) next[article.path] = { firstSeen: stamp, hash: article.hash, changed: stamp };
    else if (previous.hash !== article.hash)
      next[article.path] = { ...previous, hash: article.hash, changed: stamp };
    else next[article.path] = previous;
  }
  for (const path of keep) {
    const previous = seen[path];
    if (previous && !next[path]) next[path] = previous;
  }
  // Path order, so that the state serialises to the same bytes whatever order the files were listed in.
  return Object.fromEntries(Object.entries(next).sort(([a], [b]) => compare(a, b)));
}

/**
 * Decides which articles are published, with which ids and dates, newest first. Needs only
 * metadata, so it can run over thousands of articles without touching their bodies.
 */
export function planFeed(input: PlanInput): Plan {
  const { config, now, seen } = input;
  const held: HeldBack[] = [];
  const problems: ArticleProblem[] = [];
  let nextChange: Date | undefined;
  const noteChange = (date: Date) => {
    if (!nextChange || date < nextChange) nextChange = date;
  };

  const publishable: { entry: PlanEntry; published: Date; updated: Date }[] = [];
  for (const entry of [...input.entries].sort((a, b) => compare(a.path, b.path))) {
    if (entry.draft) {
      held.push({ file: entry.path, reason: "draft" });
      continue;
    }
    const record = seen[entry.path];
    const firstSeen = record?.firstSeen ? new Date(record.firstSeen) : now;
    // Like Hugo, an article without `date` is dated by its `publishDate`: it appears then.
    const published = entry.date ?? entry.publishDate ?? firstSeen;
    const edited = record && record.changed !== record.firstSeen ? new Date(record.changed) : published;
    const updatedRaw = entry.updated ?? edited;
    const updated = updatedRaw < published ? published : updatedRaw;
    const notBefore = entry.publishDate && entry.publishDate > published ? entry.publishDate : published;
    // Only a date the author wrote can schedule an article. A first-seen date recorded by another
    // invocation whose clock ran a little ahead (or that started later) is never "in the future".
    const scheduled = entry.date !== undefined || entry.publishDate !== undefined;
    if (scheduled && notBefore > now) {
      held.push({ file: entry.path, reason: "scheduled", until: notBefore });
      noteChange(notBefore);
      continue;
    }
    if (entry.expiryDate && entry.expiryDate <= now) {
      held.push({ file: entry.path, reason: "expired", until: entry.expiryDate });
      continue;
    }
    if (entry.expiryDate) noteChange(entry.expiryDate);
    publishable.push({ entry, published, updated });
  }
  const refused = idClaims(
    publishable.map(({ entry }) => entry),
    config,
  );
  problems.push(...refused.values());
  const chosen: Chosen[] = [];
  for (const { entry, published, updated } of publishable) {
    // Derived ids are computed lazily: only the few articles that make the feed need theirs.
    if (!refused.has(entry.path)) chosen.push(new LazyChosen(entry, published, updated, config));
  }
  chosen.sort((a, b) => b.published.getTime() - a.published.getTime() || compare(a.path, b.path));
  return { chosen, held, problems, ...(nextChange ? { nextChange } : {}) };
}

/**
 * Bodies longer than this (in characters of source) are carried in feeds by their summary, as
 * archive pages carry every article: a feed is polled whole, so one such article in full would
 * make each of its feeds (the main one, its tags', its authors') megabytes on every poll, and
 * rendering it into all of them would cost seconds. The link leads to the full text.
 */
export const FULL_TEXT_LIMIT = 128 * 1024;
/** How much of a body is rendered to take its summary from, when its full text is not shown. */
export const SUMMARY_SOURCE_LIMIT = 32 * 1024;

/** What of a body is rendered: all of it, or (`whole` false) its start, cut at a blank line. */
function summarySource(
  format: Article["format"],
  body: string,
  whole: boolean,
): Pick<Article, "format" | "body"> {
  if (whole || body.length <= SUMMARY_SOURCE_LIMIT) return { format, body };
  const start = cutUtf16(body, SUMMARY_SOURCE_LIMIT);
  const blank = start.lastIndexOf("\n\n");
  return { format, body: blank > SUMMARY_SOURCE_LIMIT / 2 ? start.slice(0, blank) : start };
}

/**
 * Renders one chosen article into a feed item. Throws if its body cannot be rendered. With
 * `fullText: false` (archive pages), or a body over FULL_TEXT_LIMIT, the item is carried by its
 * summary alone (no contentHtml), and only the start of the body is rendered when the summary
 * has to be taken from it.
 */
export function toFeedItem(
  article: Article,
  chosen: Chosen,
  config: SiteConfig,
  sizeOf: (mediaKey: string) => number | undefined = () => undefined,
  { fullText = true }: { fullText?: boolean } = {},
): FeedItem {
  const url = articleUrl(article, chosen.published, config);
  // The body is read once, and only when something is taken from it.
  const source = fullText || article.summary === undefined ? article.body : undefined;
  const full = source !== undefined && fullText && source.length <= FULL_TEXT_LIMIT;
  const body: SanitizedHtml | undefined =
    source === undefined ? undefined : renderBody(summarySource(article.format, source, full), url);
  const summary = article.summary ?? truncateWords(collapseWhitespace(body?.text ?? ""), SUMMARY_LENGTH);
  // A file uploaded beside the article is published under feeds/media/ with its real type and
  // size; any other reference is taken as a link on the site (or the web), its size unknown.
  const attach = (media: MediaRef): Enclosure | undefined =>
    resolveEnclosure(article.path, media, config.feedsUrl, sizeOf) ?? external(media, url);
  const image = article.image ? attach({ ref: article.image }) : undefined;
  const enclosures = (article.enclosures ?? []).flatMap((media) => attach(media) ?? []);
  if (config.podcast && article.episodeProblem && enclosures.length)
    throw new EpisodeError(article.episodeProblem.reason, article.episodeProblem.line);
  const episode = itemEpisode(article.episode, enclosures, url, config.podcast?.type === "serial");
  return {
    id: chosen.id,
    url,
    title: article.title,
    published: chosen.published,
    updated: chosen.updated,
    // Without its full text the item has no content, so it is written as a summary: a reader
    // cannot take a truncated copy for the article (it follows the link instead).
    ...(full && body ? { contentHtml: body.html } : {}),
    summary,
    tags: article.tags,
    authors: article.authors.length ? article.authors : [config.author ?? { name: config.title }],
    ...(image ? { image } : {}),
    ...(enclosures.length ? { enclosures } : {}),
    ...(article.language ? { language: article.language } : {}),
    ...(episode ? { episode } : {}),
  };
}

/** The problem reported for an article whose body could not be rendered. */
export function renderProblem(path: string, error: unknown): ArticleProblem {
  if (error instanceof EpisodeError)
    return { file: path, reason: error.message, ...(error.line !== undefined ? { line: error.line } : {}) };
  // marked overflows the stack on absurdly deep nesting; the element budget refuses worse.
  const reason = cutUtf16((error as Error).message.split("\n")[0] ?? "", 200);
  return { file: path, reason: `the body could not be rendered: ${escapeControls(reason)}` };
}

/** Which feed a model is for: the site's main feed, or a tag's or an author's. */
export interface FeedScope {
  /** Folder under feeds/ ("" for the main feed, "tags/news/" for a tag). */
  readonly folder: string;
  /** Shown after the site title, e.g. "Tag: News". */
  readonly label?: string;
  /** Archive links (RFC 5005, JSON Feed next_url). */
  readonly paging?: FeedModel["paging"];
  /** On an archive page: the folder of the feed it archives, whose id it carries (RFC 5005). */
  readonly archiveOf?: string;
  /** The feed's language, when not the site's (a language feed's). */
  readonly language?: string;
}

/** The feed around its items; its date is the newest item's, never the build time. */
export function assembleFeed(
  config: SiteConfig,
  items: readonly FeedItem[],
  scope: FeedScope = { folder: "" },
): FeedModel {
  const updated = items.reduce((max, item) => (item.updated > max ? item.updated : max), new Date(0));
  const base = new URL(scope.folder, config.feedsUrl);
  return {
    id: feedId(config, scope.archiveOf ?? scope.folder),
    title: scope.label ? `${config.title} · ${scope.label}` : config.title,
    description: scope.label ? `${scope.label}, from ${config.title}` : config.description,
    homeUrl: config.url,
    language: scope.language ?? config.language,
    author: config.author ?? { name: config.title },
    updated,
    links: {
      rss: new URL("rss.xml", base).href,
      atom: new URL("atom.xml", base).href,
      json: new URL("feed.json", base).href,
    },
    ...(config.hub ? { hub: config.hub } : {}),
    ...(scope.paging ? { paging: scope.paging } : {}),
    // Every subscription feed of a podcast site is a show; an archive page is not (podcast-config.ts).
    ...(config.podcast && !scope.paging?.archive
      ? {
          podcast: podcastChannel(
            config.podcast,
            new URL("rss.xml", base).href,
            config.author?.name ?? config.title,
            scope.folder === "",
          ),
        }
      : {}),
    items,
  };
}

/**
 * Chooses, dates and renders the items of the feed from parsed articles. Pure: the same input
 * gives the same feed, byte for byte. Only the bodies of the items that make the cut are
 * rendered; one that cannot be is reported and the next article takes its place.
 */
export function buildFeed(input: BuildInput): BuildResult {
  const { config, now } = input;
  // A draft is not public yet, so its first-seen clock (the date of an undated article) only
  // starts once it stops being a draft.
  const drafts = input.articles.filter((article) => article.draft).map((article) => article.path);
  const seen = updateSeen(
    input.articles.filter((article) => !article.draft),
    input.seen,
    now,
    [...(input.keep ?? []), ...drafts],
  );
  const plan = planFeed({ config, now, seen, entries: input.articles });
  const byPath = new Map(input.articles.map((article) => [article.path, article]));
  const problems = [...plan.problems];
  const items: FeedItem[] = [];
  for (const chosen of plan.chosen) {
    if (items.length >= config.itemLimit) break;
    const article = byPath.get(chosen.path);
    if (!article) continue;
    try {
      items.push(toFeedItem(article, chosen, config));
    } catch (error) {
      problems.push(renderProblem(chosen.path, error));
    }
  }
  const { chosen: _chosen, ...rest } = plan;
  return { ...rest, seen, problems, feed: assembleFeed(config, items) };
}

/** Renders the three formats of a feed: output key, content type and text. */
export function renderFeedFiles(
  feed: FeedModel,
  scope: FeedScope = { folder: "" },
): { key: string; contentType: string; body: string }[] {
  const at = (key: string) => `feeds/${scope.folder}${key.slice("feeds/".length)}`;
  // The stylesheets sit in feeds/, a family's feeds any number of folders below (tags/news/,
  // sections/world/asia/). The pages take the way up to feeds/ for their own links from this
  // same href (render/feed-xsl.ts), so it must stay "../" steps and the file name.
  const up = "../".repeat(scope.folder.split("/").filter(Boolean).length);
  return [
    { ...FEED_FILES.rss, key: at(FEED_FILES.rss.key), body: renderRss(feed, `${up}rss.xsl`) },
    { ...FEED_FILES.atom, key: at(FEED_FILES.atom.key), body: renderAtom(feed, `${up}atom.xsl`) },
    { ...FEED_FILES.json, key: at(FEED_FILES.json.key), body: renderJsonFeed(feed) },
  ];
}

/** The browser files of feeds/: the landing page and the stylesheets. */
export function renderBrowserFiles(
  feed: FeedModel,
  others: readonly ListedFeed[] = [],
): { key: string; contentType: string; body: string }[] {
  return [
    { ...FEED_FILES.html, body: renderLandingPage(feed, others) },
    { ...FEED_FILES.rssXsl, body: RSS_XSL },
    { ...FEED_FILES.atomXsl, body: ATOM_XSL },
    { ...FEED_FILES.css, body: FEED_CSS },
  ];
}

function external(media: MediaRef, base: string): Enclosure | undefined {
  try {
    const url = new URL(media.ref, base);
    if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
    return { url: url.href, type: media.type ?? guessType(url.pathname), length: media.length ?? 0 };
  } catch {
    return undefined;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
