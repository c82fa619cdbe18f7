import type { FeedModel } from "../model.ts";
import { escapeHtml } from "../text.ts";

/**
 * What a person sees when a feed is opened in a browser. RSS and Atom carry an
 * `<?xml-stylesheet?>` instruction naming an XSLT 1.0 stylesheet that turns them into a page
 * (browsers without XSLT show the XML, which is still the valid feed); the landing page
 * `index.html` lists the feeds with autodiscovery links and the latest items. Only titles, dates
 * and links are shown from the feed: the item bodies stay in the feed, for readers.
 */

/** The processing instruction RSS and Atom carry, relative so it works on any host. */
export function stylesheetInstruction(href: string): string {
  return `<?xml-stylesheet type="text/xsl" href="${href}"?>`;
}

/** Puts the stylesheet instruction right after the XML declaration. */
export function withStylesheet(xml: string, href: string): string {
  const end = xml.startsWith("<?xml") ? xml.indexOf("?>") + 2 : 0;
  return `${xml.slice(0, end)}\n${stylesheetInstruction(href)}${xml.slice(end)}`;
}

/** The months in English, as the pages show them. */
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
/** `|01=January|02=February|...|`: XSLT 1.0 has no maps, so the stylesheet looks months up in text. */
const MONTH_TABLE = `|${MONTHS.map((name, i) => `${String(i + 1).padStart(2, "0")}=${name}`).join("|")}|`;
/** `|Jan=01|Feb=02|...|`: RSS dates (RFC 822) name the month. */
const RFC822_MONTHS = `|${MONTHS.map((name, i) => `${name.slice(0, 3)}=${String(i + 1).padStart(2, "0")}`).join("|")}|`;

/** A date as the browser pages show it: "1 March 2024" (UTC), as the stylesheets' "date" template. */
export function displayDate(date: Date): string {
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

const XSL_HEAD = `<?xml version="1.0" encoding="utf-8"?>
<!-- feedpub: shows this feed as a page in a browser. Feed readers ignore it. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat"/>
  <!-- One date format for both pages (and index.html): "1 March 2024", the UTC day. -->
  <xsl:template name="date">
    <xsl:param name="year"/>
    <xsl:param name="month"/>
    <xsl:param name="day"/>
    <time datetime="{concat($year, '-', $month, '-', $day)}">
      <xsl:value-of select="concat(number($day), ' ', substring-before(substring-after('${MONTH_TABLE}', concat('|', $month, '=')), '|'), ' ', $year)"/>
    </time>
  </xsl:template>`;

function page(
  format: string,
  body: { title: string; description: string; home: string; self: string; items: string },
) {
  return `
    <html>
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="${body.title}"/> · ${format} feed</title>
        <link rel="stylesheet" href="feed.css"/>
      </head>
      <body>
        <header>
          <p class="about">This is a web feed (${format}). To follow it, copy its address into a feed reader:
            <code class="address"><xsl:value-of select="${body.self}"/></code></p>
          <h1><xsl:value-of select="${body.title}"/></h1>
          <p><xsl:value-of select="${body.description}"/></p>
          <nav><a href="{${body.home}}">Visit the site</a> · <a href="index.html">All feeds</a></nav>
        </header>
        <main>${body.items}
        </main>
      </body>
    </html>`;
}

export const RSS_XSL = `${XSL_HEAD}
  <xsl:template match="/">
    <xsl:apply-templates select="rss/channel"/>
  </xsl:template>
  <xsl:template match="channel">${page("RSS", {
    title: "title",
    description: "description",
    home: "link",
    self: "atom:link[@rel='self']/@href",
    items: `
          <xsl:for-each select="item">
            <article>
              <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
              <p class="date"><xsl:call-template name="date">
                <!-- pubDate is RFC 822 as feedpub writes it: "Fri, 01 Mar 2024 09:00:00 GMT". -->
                <xsl:with-param name="year" select="substring(pubDate, 13, 4)"/>
                <xsl:with-param name="month" select="substring-before(substring-after('${RFC822_MONTHS}', concat('|', substring(pubDate, 9, 3), '=')), '|')"/>
                <xsl:with-param name="day" select="substring(pubDate, 6, 2)"/>
              </xsl:call-template></p>
              <p><xsl:value-of select="description" disable-output-escaping="yes"/></p>
            </article>
          </xsl:for-each>`,
  })}
  </xsl:template>
</xsl:stylesheet>
`;

// RSS descriptions and Atom entry titles and summaries hold HTML-escaped plain text (see rss.ts and
// atom.ts): written without escaping again, they read as the text they are. They never hold
// markup of their own.
export const ATOM_XSL = `${XSL_HEAD}
  <xsl:template match="/">
    <xsl:apply-templates select="atom:feed"/>
  </xsl:template>
  <xsl:template match="atom:feed">${page("Atom", {
    title: "atom:title",
    description: "atom:subtitle",
    home: "atom:link[@rel='alternate' or not(@rel)][1]/@href",
    self: "atom:link[@rel='self']/@href",
    items: `
          <xsl:for-each select="atom:entry">
            <article>
              <h2><a href="{atom:link[@rel='alternate' or not(@rel)][1]/@href}"><xsl:value-of select="atom:title" disable-output-escaping="yes"/></a></h2>
              <p class="date"><xsl:call-template name="date">
                <xsl:with-param name="year" select="substring(atom:published, 1, 4)"/>
                <xsl:with-param name="month" select="substring(atom:published, 6, 2)"/>
                <xsl:with-param name="day" select="substring(atom:published, 9, 2)"/>
              </xsl:call-template></p>
              <p><xsl:value-of select="atom:summary" disable-output-escaping="yes"/></p>
            </article>
          </xsl:for-each>`,
  })}
  </xsl:template>
</xsl:stylesheet>
`;

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
