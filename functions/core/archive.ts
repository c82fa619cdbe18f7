import { assembleFeed, type FeedScope } from "./build.ts";
import type { SiteConfig } from "./config.ts";
import type { FeedItem, FeedModel } from "./model.ts";

/**
 * RFC 5005 archived feeds, one archive page per calendar month (UTC) of publication. The
 * subscription feed keeps the newest items and links to the newest page (`prev-archive`, JSON Feed
 * `next_url`); each page holds every article published in its month and links to the page before
 * it and back to the feed. A month gets its page once it is over: a new article never changes a
 * page, and an edit or a backdated upload changes only the page of its own month, so the pages
 * of the past keep their bytes. Until then the current month's articles are in the feed.
 */

/** A page's month, "YYYY-MM", of an instant (epoch ms), in UTC. */
export function monthOf(ms: number): string {
  const date = new Date(ms);
  return `${String(date.getUTCFullYear()).padStart(4, "0")}-${String(date.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** The first instant of the month after `month` (epoch ms). */
export function monthEnd(month: string): number {
  const [year, index] = month.split("-").map(Number) as [number, number];
  return Date.UTC(year, index, 1);
}

/** The folder of a month's page under feeds/. */
export function archiveFolder(month: string): string {
  return `archive/${month}/`;
}

export function archiveFileKeys(month: string): string[] {
  return ["rss.xml", "atom.xml", "feed.json"].map((file) => `feeds/${archiveFolder(month)}${file}`);
}

/** The month of an archive file key, or undefined for any other file. */
export function archiveMonthOfKey(key: string): string | undefined {
  return /^feeds\/archive\/(\d{4}-\d{2})\/[^/]+$/.exec(key)?.[1];
}

function linksOf(config: SiteConfig, folder: string): FeedModel["links"] {
  return assembleFeed(config, [], { folder }).links;
}

/** The subscription feed's scope: it links to the newest page, if there is one. */
export function mainScope(config: SiteConfig, newest: string | undefined): FeedScope {
  return newest
    ? { folder: "", paging: { prevArchive: linksOf(config, archiveFolder(newest)) } }
    : { folder: "" };
}

/**
 * A page's scope: marked as an archive, linking to the feed and to the page before, if any. A
 * page carries the id of the feed it archives: RFC 5005 makes the subscription document and its
 * archive documents one logical feed (its section 4 example gives them the same atom:id), and
 * RFC 4287's id names the feed, not the document; readers that merge by id merge what belongs
 * together. Entries are told apart by their own ids (RFC 5005 4.2).
 */
export function archiveScope(config: SiteConfig, month: string, previous: string | undefined): FeedScope {
  return {
    folder: archiveFolder(month),
    archiveOf: "",
    label: `Archive ${month}`,
    paging: {
      archive: true,
      current: linksOf(config, ""),
      ...(previous ? { prevArchive: linksOf(config, archiveFolder(previous)) } : {}),
    },
  };
}

/** Each page's previous page, by month, for a set of page months. */
export function previousPages(months: Iterable<string>): Map<string, string | undefined> {
  const sorted = [...new Set(months)].sort();
  return new Map(sorted.map((month, i) => [month, sorted[i - 1]]));
}

/**
 * An item as archive pages carry it: everything but the full text, so it is written as a summary
 * with its link (a reader backfilling the archive can tell it from the article). A month of a
 * busy site can hold hundreds of articles; with their full text a page (and the state kept to
 * rewrite it) would run to megabytes. (An empty article reads the same here as in the feed: the
 * renderers write an item with empty full text as its summary too.)
 */
export function archivedItem(item: FeedItem): FeedItem {
  const { contentHtml: _fullText, ...summary } = item;
  return summary;
}
