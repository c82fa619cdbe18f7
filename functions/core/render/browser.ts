import type { FeedModel } from "../model.ts";
import { escapeHtml } from "../text.ts";
import { displayDate } from "./feed-xsl.ts";

export { ATOM_XSL, displayDate, RSS_XSL } from "./feed-xsl.ts";

/**
 * What a person sees when a feed is opened in a browser. RSS and Atom carry an
 * `<?xml-stylesheet?>` instruction naming an XSLT 1.0 stylesheet that turns them into a page
 * (browsers without XSLT show the XML, which is still the valid feed); the landing page
 * `index.html` lists the feeds with autodiscovery links and the latest items. Only titles, dates
 * and links are shown from the feed: the item bodies stay in the feed, for readers.
 */

/**
 * The processing instruction RSS and Atom carry, relative so it works on any host: "rss.xsl" in
 * feeds/, "../../rss.xsl" two folders below. The stylesheets read this very href to find feeds/
 * for their own links (feed-xsl.ts), so it stays `href="…"`: "../" steps, then the file name.
 */
export function stylesheetInstruction(href: string): string {
  return `<?xml-stylesheet type="text/xsl" href="${href}"?>`;
}

/** Puts the stylesheet instruction right after the XML declaration. */
export function withStylesheet(xml: string, href: string): string {
  const end = xml.startsWith("<?xml") ? xml.indexOf("?>") + 2 : 0;
  return `${xml.slice(0, end)}\n${stylesheetInstruction(href)}${xml.slice(end)}`;
}

export const FEED_CSS = `/* feedpub: the look of the feeds' browser pages and of index.html. */
:root { color-scheme: light dark; --muted: #666; --rule: #ddd; --note: #fff8dc; }
@media (prefers-color-scheme: dark) { :root { --muted: #aaa; --rule: #444; --note: #333018; } }
body { font: 17px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
h1 { font-size: 2rem; margin: 0.5rem 0; }
h2 { font-size: 1.2rem; margin: 0 0 0.2rem; }
a { color: #1a5fb4; }
@media (prefers-color-scheme: dark) { a { color: #8cb4ff; } }
.about { background: var(--note); border: 1px solid var(--rule); border-radius: 6px; padding: 0.6rem 0.8rem; }
.address { display: block; margin-top: 0.3rem; word-break: break-all; user-select: all; }
.date, .muted { color: var(--muted); font-size: 0.9rem; margin: 0; }
article, .latest li { border-top: 1px solid var(--rule); padding: 0.9rem 0; }
.feeds, .latest { list-style: none; padding: 0; }
.feeds li { margin: 0.4rem 0; }
.formats { margin-top: 0.3rem; }
.paging { border-top: 1px solid var(--rule); padding-top: 0.9rem; display: flex; gap: 1.5rem; }
`;

/** A link target that is safe in an href: http(s) only. */
function safeUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

const attr = (value: string) => escapeHtml(value).replace(/"/g, "&quot;");

/** A feed the landing page lists, in its three formats. */
export interface ListedFeed {
  readonly title: string;
  /** Absolute addresses: the autodiscovery links and the addresses shown to copy. */
  readonly links: FeedModel["links"];
  /** The same files relative to feeds/, for navigation that also works on a local preview. */
  readonly paths: FeedModel["links"];
}

/**
 * The landing page, `feeds/index.html`: autodiscovery links for every feed, subscribe links with
 * the addresses to copy, and the latest items of the main feed. Every text is escaped and every
 * link is http(s), whatever the articles say.
 */
export function renderLandingPage(feed: FeedModel, others: readonly ListedFeed[] = [], latest = 10): string {
  const main = { rss: "rss.xml", atom: "atom.xml", json: "feed.json" };
  const feeds: ListedFeed[] = [{ title: feed.title, links: feed.links, paths: main }, ...others];
  const alternates = feeds.flatMap((listed) => [
    `<link rel="alternate" type="application/rss+xml" title="${attr(listed.title)} (RSS)" href="${attr(listed.links.rss)}">`,
    `<link rel="alternate" type="application/atom+xml" title="${attr(listed.title)} (Atom)" href="${attr(listed.links.atom)}">`,
    `<link rel="alternate" type="application/feed+json" title="${attr(listed.title)} (JSON Feed)" href="${attr(listed.links.json)}">`,
  ]);
  const subscribe = feeds.map(
    (listed) =>
      `<li><strong>${escapeHtml(listed.title)}</strong>: <a href="${attr(listed.paths.rss)}">RSS</a> · ` +
      `<a href="${attr(listed.paths.atom)}">Atom</a> · <a href="${attr(listed.paths.json)}">JSON Feed</a>` +
      `<code class="address">${escapeHtml(listed.links.rss)}</code></li>`,
  );
  const items = feed.items.slice(0, latest).map((item) => {
    const url = safeUrl(item.url);
    const title = escapeHtml(item.title);
    return (
      `<li><h3>${url ? `<a href="${attr(url)}">${title}</a>` : title}</h3>` +
      `<p class="date"><time datetime="${item.published.toISOString()}">${displayDate(item.published)}</time></p>` +
      `<p>${escapeHtml(item.summary)}</p></li>`
    );
  });
  const home = safeUrl(feed.homeUrl);
  return `<!doctype html>
<html lang="${attr(feed.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(feed.title)} · feeds</title>
${alternates.join("\n")}
<link rel="stylesheet" href="feed.css">
</head>
<body>
<header>
<h1>${escapeHtml(feed.title)}</h1>
${feed.description ? `<p>${escapeHtml(feed.description)}</p>\n` : ""}${home ? `<nav><a href="${attr(home)}">Visit the site</a></nav>\n` : ""}</header>
<main>
<section>
<h2>Subscribe</h2>
<p class="muted">Copy an address into your feed reader, or open a feed to see it as a page.</p>
<ul class="feeds">
${subscribe.join("\n")}
</ul>
</section>
<section>
<h2>Latest</h2>
${items.length ? `<ol class="latest">\n${items.join("\n")}\n</ol>` : `<p class="muted">Nothing published yet.</p>`}
</section>
</main>
</body>
</html>
`;
}

const HISTORY_NS = "http://purl.org/syndication/history/1.0";

/**
 * Adds the RFC 5005 links (and the fh:archive marker) right after the root's opening tags, which
 * precede every item, so no article text can be where they go.
 */
export function withPaging(xml: string, model: FeedModel, format: "rss" | "atom"): string {
  const paging = model.paging;
  if (!paging) return xml;
  const link = (rel: string, href: string) =>
    format === "rss"
      ? `<atom:link rel="${rel}" href="${attr(href)}"/>`
      : `<link rel="${rel}" href="${attr(href)}"/>`;
  const parts = [
    ...(paging.archive ? [`<fh:archive xmlns:fh="${HISTORY_NS}"/>`] : []),
    ...(paging.current ? [link("current", paging.current[format])] : []),
    ...(paging.prevArchive ? [link("prev-archive", paging.prevArchive[format])] : []),
  ];
  if (!parts.length) return xml;
  const anchor =
    format === "rss"
      ? xml.indexOf("<channel>") + "<channel>".length
      : xml.indexOf(">", xml.indexOf("<feed")) + 1;
  return `${xml.slice(0, anchor)}\n${parts.map((part) => `    ${part}`).join("\n")}${xml.slice(anchor)}`;
}
