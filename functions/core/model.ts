import type { Person } from "./config.ts";
import type { Enclosure } from "./media.ts";

/** One entry of a feed, ready to render in any format. */
export interface FeedItem {
  readonly id: string;
  readonly url: string;
  readonly title: string;
  readonly published: Date;
  readonly updated: Date;
  /** Sanitised HTML with absolute URLs. */
  readonly contentHtml: string;
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
  readonly language?: string;
}

/** A whole feed, independent of format. */
export interface FeedModel {
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
