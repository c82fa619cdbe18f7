import type { Article } from "./article.ts";
import type { SiteConfig } from "./config.ts";
import type { ArticleProblem } from "./errors.ts";
import type { SanitizedHtml } from "./html.ts";
import { FEED_FILES, type FeedItem, type FeedModel } from "./model.ts";
import { renderAtom } from "./render/atom.ts";
import { renderJsonFeed } from "./render/json-feed.ts";
import { renderRss } from "./render/rss.ts";
import { renderBody } from "./render-body.ts";
import { collapseWhitespace, truncateWords } from "./text.ts";
import { articleId, articleUrl } from "./urls.ts";

/** What the publisher remembers about a file between builds. */
export interface SeenRecord {
  /** When the file was first seen: the date of articles that give none. */
  readonly firstSeen: string;
  /** Hash of the file's bytes at the last build. */
  readonly hash: string;
  /** When the bytes last changed: the `updated` date of articles that give no lastmod. */
  readonly changed: string;
}

/** Path → record. */
export type SeenState = Readonly<Record<string, SeenRecord>>;

/** Why an article that parsed fine is not in the feed (yet). */
export interface HeldBack {
  readonly file: string;
  readonly reason: "draft" | "scheduled" | "expired";
  readonly until?: Date;
}

export interface BuildInput {
  readonly config: SiteConfig;
  readonly articles: readonly Article[];
  readonly seen: SeenState;
  readonly now: Date;
}

export interface BuildResult {
  readonly feed: FeedModel;
  readonly seen: SeenState;
  readonly held: readonly HeldBack[];
  /** Articles refused at this stage (e.g. a duplicate id). */
  readonly problems: readonly ArticleProblem[];
  /** The earliest time a held-back article becomes due, for scheduling a rebuild. */
  readonly nextChange?: Date;
}

const SUMMARY_LENGTH = 300;

/** Updates the seen-records for the current set of articles; records of removed files are dropped. */
export function updateSeen(articles: readonly Article[], seen: SeenState, now: Date): SeenState {
  const next: Record<string, SeenRecord> = {};
  const stamp = now.toISOString();
  // Path order, so that the state serialises to the same bytes whatever order the files were listed in.
  for (const article of [...articles].sort((a, b) => compare(a.path, b.path))) {
    const previous = seen[article.path];
    if (!previous) next[article.path] = { firstSeen: stamp, hash: article.hash, changed: stamp };
    else if (previous.hash !== article.hash)
      next[article.path] = { ...previous, hash: article.hash, changed: stamp };
    else next[article.path] = previous;
  }
  return next;
}

/**
 * Chooses, dates and renders the items of the feed from parsed articles. Pure: the same input
 * gives the same feed, byte for byte. Only the bodies of the items that make the cut are rendered.
 */
export function buildFeed(input: BuildInput): BuildResult {
  const { config, now } = input;
  // A draft is not public yet, so its first-seen clock (the date of an undated article) only
  // starts once it stops being a draft.
  const seen = updateSeen(
    input.articles.filter((article) => !article.draft),
    input.seen,
    now,
  );
  const held: HeldBack[] = [];
  const problems: ArticleProblem[] = [];
  let nextChange: Date | undefined;
  const noteChange = (date: Date) => {
    if (!nextChange || date < nextChange) nextChange = date;
  };

  const candidates: { article: Article; id: string; published: Date; updated: Date }[] = [];
  const idOwner = new Map<string, string>();
  for (const article of [...input.articles].sort((a, b) => compare(a.path, b.path))) {
    const record = seen[article.path];
    const firstSeen = record ? new Date(record.firstSeen) : now;
    // Like Hugo, an article without `date` is dated by its `publishDate`: it appears then.
    const published = article.date ?? article.publishDate ?? firstSeen;
    const edited = record && record.changed !== record.firstSeen ? new Date(record.changed) : published;
    const updatedRaw = article.updated ?? edited;
    const updated = updatedRaw < published ? published : updatedRaw;
    if (article.draft) {
      held.push({ file: article.path, reason: "draft" });
      continue;
    }
    const notBefore =
      article.publishDate && article.publishDate > published ? article.publishDate : published;
    if (notBefore > now) {
      held.push({ file: article.path, reason: "scheduled", until: notBefore });
      noteChange(notBefore);
      continue;
    }
    if (article.expiryDate && article.expiryDate <= now) {
      held.push({ file: article.path, reason: "expired", until: article.expiryDate });
      continue;
    }
    if (article.expiryDate) noteChange(article.expiryDate);
    const id = articleId(article, config);
    const owner = idOwner.get(id);
    if (owner) {
      problems.push({ file: article.path, reason: `duplicate id "${id}": ${owner} already uses it` });
      continue;
    }
    idOwner.set(id, article.path);
    candidates.push({ article, id, published, updated });
  }

  candidates.sort(
    (a, b) => b.published.getTime() - a.published.getTime() || compare(a.article.path, b.article.path),
  );
  const items: FeedItem[] = [];
  for (const { article, id, published, updated } of candidates) {
    if (items.length >= config.itemLimit) break;
    const url = articleUrl(article, published, config);
    let body: SanitizedHtml;
    try {
      body = renderBody(article, url);
    } catch (error) {
      // One body that cannot be rendered (marked overflows the stack on absurdly deep nesting)
      // must not stop the whole feed: report it and let the next article take its place.
      const reason = (error as Error).message.split("\n")[0];
      problems.push({ file: article.path, reason: `the body could not be rendered: ${reason}` });
      continue;
    }
    const image = article.image ? safeImage(article.image, url) : undefined;
    items.push({
      id,
      url,
      title: article.title,
      published,
      updated,
      contentHtml: body.html,
      summary: article.summary ?? truncateWords(collapseWhitespace(body.text), SUMMARY_LENGTH),
      tags: article.tags,
      authors: article.authors.length ? article.authors : [config.author ?? { name: config.title }],
      ...(image ? { image } : {}),
      ...(article.language ? { language: article.language } : {}),
    });
  }

  const updated = items.reduce((max, item) => (item.updated > max ? item.updated : max), new Date(0));
  const feed: FeedModel = {
    title: config.title,
    description: config.description,
    homeUrl: config.url,
    language: config.language,
    author: config.author ?? { name: config.title },
    updated,
    links: {
      rss: new URL("rss.xml", config.feedsUrl).href,
      atom: new URL("atom.xml", config.feedsUrl).href,
      json: new URL("feed.json", config.feedsUrl).href,
    },
    items,
  };
  return { feed, seen, held, problems, ...(nextChange ? { nextChange } : {}) };
}

/** Renders every format of a feed: output key, content type and text. */
export function renderFeedFiles(feed: FeedModel): { key: string; contentType: string; body: string }[] {
  return [
    { ...FEED_FILES.rss, body: renderRss(feed) },
    { ...FEED_FILES.atom, body: renderAtom(feed) },
    { ...FEED_FILES.json, body: renderJsonFeed(feed) },
  ];
}

function safeImage(image: string, base: string): string | undefined {
  try {
    const url = new URL(image, base);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
