import type { Person } from "./config.ts";
import type { Enclosure } from "./media.ts";
import type { PodcastChannel } from "./podcast-config.ts";
import type { Episode } from "./podcast-fields.ts";

/** One entry of a feed, ready to render in any format. */
export interface FeedItem {
  readonly id: string;
  readonly url: string;
  readonly title: string;
  readonly published: Date;
  readonly updated: Date;
  /**
   * The full text: sanitised HTML with absolute URLs. Absent when the item is carried by its
   * summary (an archive page's copy, or a body over FULL_TEXT_LIMIT): it is then written as a
   * summary in every format, never as content, so that no reader takes it for the article. Empty
   * (an article with no body) is written the same way: there is no full text to give either.
   */
  readonly contentHtml?: string;
  /** Plain text. */
  readonly summary: string;
  /** Without "<" or ">" (removed when articles are read): feed cannot write "<" in an Atom category term. */
  readonly tags: readonly string[];
  /** Never empty: the article's authors, else the site's. */
  readonly authors: readonly Person[];
  /** Lead image, with its type and size (0 when unknown). */
  readonly image?: Enclosure;
  /** Attached files: RSS carries the first, Atom the first and the image, JSON Feed all. */
  readonly enclosures?: readonly Enclosure[];
  /** The article's own language (BCP 47); marked on the item where it is not the feed's. */
  readonly language?: string;
  /** Episode fields (duration, numbers, transcripts...): written when the feed is a podcast. */
  readonly episode?: Episode;
}

/** A whole feed, independent of format. */
export interface FeedModel {
  /** The Atom feed id: unique to the feed and permanent (see feed-id.ts). */
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly homeUrl: string;
  readonly language: string;
  readonly author: Person;
  /** Newest item's `updated`, so unchanged input renders to unchanged bytes. */
  readonly updated: Date;
  readonly links: { readonly rss: string; readonly atom: string; readonly json: string };
  /** WebSub hub advertised beside each format's self link. */
  readonly hub?: string;
  /** Set when the feed is a podcast: its channel's `itunes:` and `podcast:` fields (RSS only). */
  readonly podcast?: PodcastChannel;
  /**
   * RFC 5005 archived feeds: the subscription feed links to the newest archive page
   * (`prev-archive`; JSON Feed `next_url`), each archive page to the current feed and the page
   * before it. Pages link backwards only, so a full page never changes when a newer one appears.
   */
  readonly paging?: {
    /** This document is an archive page (`<fh:archive/>`). */
    readonly archive?: true;
    /** The subscription feed, from an archive page. */
    readonly current?: FeedModel["links"];
    /** The next older page. */
    readonly prevArchive?: FeedModel["links"];
  };
  readonly items: readonly FeedItem[];
}

/** The files a build writes, relative to the output root. */
export const FEED_FILES = {
  rss: { key: "feeds/rss.xml", contentType: "application/rss+xml; charset=utf-8" },
  atom: { key: "feeds/atom.xml", contentType: "application/atom+xml; charset=utf-8" },
  json: { key: "feeds/feed.json", contentType: "application/feed+json; charset=utf-8" },
  /** The landing page: autodiscovery links, subscribe links and the latest items. */
  html: { key: "feeds/index.html", contentType: "text/html; charset=utf-8" },
  /** What RSS and Atom look like in a browser (see render/browser.ts). */
  rssXsl: { key: "feeds/rss.xsl", contentType: "text/xsl; charset=utf-8" },
  atomXsl: { key: "feeds/atom.xsl", contentType: "text/xsl; charset=utf-8" },
  css: { key: "feeds/feed.css", contentType: "text/css; charset=utf-8" },
} as const;
