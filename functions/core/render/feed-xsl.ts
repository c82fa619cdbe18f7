import { FEED_FILES } from "../model.ts";

/**
 * The XSLT 1.0 stylesheets that turn RSS and Atom into a page when a feed is opened in a browser
 * (see browser.ts). There is one copy of each, in feeds/, for every feed at every depth
 * (feeds/rss.xml, feeds/tags/news/rss.xml, feeds/archive/2024-01/rss.xml, deeper folders alike),
 * so every link the page makes to another file of feeds/ is worked out in the stylesheet from the
 * feed it is showing; see LOCATION below. The stylesheets are the same for every site: they hold
 * no setting and nothing an article says, and show the feed's text as text.
 */

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

/** How deep below feeds/ a feed may be for its page to find feeds/ (far more than any family nests). */
export const MAX_FEED_DEPTH = 32;

/** The names of a feed's three files, which sit side by side in its folder (see renderFeedFiles). */
const FILE = {
  rss: FEED_FILES.rss.key.slice("feeds/".length),
  atom: FEED_FILES.atom.key.slice("feeds/".length),
  json: FEED_FILES.json.key.slice("feeds/".length),
  landing: FEED_FILES.html.key.slice("feeds/".length),
  css: FEED_FILES.css.key.slice("feeds/".length),
};

/*
 * LOCATION. A page's links to feed.css and index.html must climb from the feed's folder to feeds/,
 * and that climb is already written in the feed: its xml-stylesheet instruction names this
 * stylesheet by the same path ("../../rss.xsl" from feeds/tags/news/). `$up` is that path less the
 * file name, kept only when it is nothing but "../" steps (else it is empty and links stay beside
 * the feed). Being relative, the links work wherever feeds/ is served: the local server, the
 * CloudFront distribution, a custom domain. Links to other feeds (the RFC 5005 archive links) are
 * absolute in the feed, under the feeds URL of the settings, which is not where a local preview
 * runs; `$feeds`, that URL as the feed's own self link shows it (the self link less its file name
 * and the `$up` folders), turns each such link into `$up` and the rest of its path.
 */
const LOCATION = `
  <xsl:variable name="stylesheet" select="substring-before(substring-after(/processing-instruction('xml-stylesheet')[1], 'href=&quot;'), '&quot;')"/>
  <xsl:variable name="steps" select="string-length($stylesheet) - string-length(translate($stylesheet, '/', ''))"/>
  <xsl:variable name="up">
    <xsl:if test="substring($stylesheet, 1, 3 * $steps) = substring('${"../".repeat(MAX_FEED_DEPTH)}', 1, 3 * $steps)">
      <xsl:value-of select="substring($stylesheet, 1, 3 * $steps)"/>
    </xsl:if>
  </xsl:variable>
  <xsl:variable name="self" select="string((/rss/channel/atom:link[@rel='self'] | /atom:feed/atom:link[@rel='self'])[1]/@href)"/>
  <xsl:variable name="feeds">
    <xsl:call-template name="through-slash">
      <xsl:with-param name="text" select="$self"/>
      <xsl:with-param name="slashes" select="string-length($self) - string-length(translate($self, '/', '')) - string-length($up) div 3"/>
    </xsl:call-template>
  </xsl:variable>
  <!-- The start of a text up to and with its n-th slash. -->
  <xsl:template name="through-slash">
    <xsl:param name="text"/>
    <xsl:param name="slashes"/>
    <xsl:if test="$slashes &gt; 0 and contains($text, '/')">
      <xsl:value-of select="concat(substring-before($text, '/'), '/')"/>
      <xsl:call-template name="through-slash">
        <xsl:with-param name="text" select="substring-after($text, '/')"/>
        <xsl:with-param name="slashes" select="$slashes - 1"/>
      </xsl:call-template>
    </xsl:if>
  </xsl:template>
  <!-- A link to another feed (the context node's href), relative to this one when it is in feeds/. -->
  <xsl:template match="atom:link" mode="href">
    <xsl:attribute name="href">
      <xsl:choose>
        <xsl:when test="string($feeds) and starts-with(@href, $feeds)">
          <xsl:value-of select="concat($up, substring-after(@href, $feeds))"/>
        </xsl:when>
        <xsl:otherwise><xsl:value-of select="@href"/></xsl:otherwise>
      </xsl:choose>
    </xsl:attribute>
  </xsl:template>`;

const XSL_HEAD = `<?xml version="1.0" encoding="utf-8"?>
<!-- feedpub: shows this feed as a page in a browser. Feed readers ignore it. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat"/>${LOCATION}
  <!-- The language of the feed (RSS language, Atom xml:lang) and of an item in another one, for
       the page's fonts, hyphenation and screen readers. -->
  <xsl:template match="language | @xml:lang" mode="lang">
    <xsl:attribute name="lang"><xsl:value-of select="normalize-space(.)"/></xsl:attribute>
  </xsl:template>
  <!-- One date format for both pages (and index.html): "1 March 2024", the UTC day. -->
  <xsl:template name="date">
    <xsl:param name="year"/>
    <xsl:param name="month"/>
    <xsl:param name="day"/>
    <time datetime="{concat($year, '-', $month, '-', $day)}">
      <xsl:value-of select="concat(number($day), ' ', substring-before(substring-after('${MONTH_TABLE}', concat('|', $month, '=')), '|'), ' ', $year)"/>
    </time>
  </xsl:template>`;

/** The formats a page links to besides its own: the same feed's other files, beside it. */
const OTHER_FORMATS = {
  RSS: [
    ["Atom", FILE.atom],
    ["JSON Feed", FILE.json],
  ],
  Atom: [
    ["RSS", FILE.rss],
    ["JSON Feed", FILE.json],
  ],
} as const;

function page(
  format: keyof typeof OTHER_FORMATS,
  body: { title: string; description: string; home: string; self: string; language: string; items: string },
) {
  const others = OTHER_FORMATS[format].map(([name, file]) => `<a href="${file}">${name}</a>`).join(" · ");
  // RSS carries its archive links as atom:link, like Atom itself: one expression serves both.
  return `
    <html>
      <xsl:apply-templates select="${body.language}" mode="lang"/>
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="${body.title}"/> · ${format} feed</title>
        <link rel="stylesheet" href="{$up}${FILE.css}"/>
      </head>
      <body>
        <header>
          <p class="about">This is a web feed (${format}). To follow it, copy its address into a feed reader:
            <code class="address"><xsl:value-of select="${body.self}"/></code></p>
          <h1><xsl:value-of select="${body.title}"/></h1>
          <p><xsl:value-of select="${body.description}"/></p>
          <nav><a href="{${body.home}}">Visit the site</a> · <a href="{$up}${FILE.landing}">All feeds</a></nav>
          <p class="muted formats">Also as ${others}</p>
        </header>
        <main>${body.items}
        </main>
        <xsl:if test="atom:link[@rel='current' or @rel='prev-archive']">
          <nav class="paging">
            <xsl:for-each select="atom:link[@rel='current'][1]">
              <a rel="current"><xsl:apply-templates select="." mode="href"/>The latest items</a>
            </xsl:for-each>
            <xsl:for-each select="atom:link[@rel='prev-archive'][1]">
              <a rel="prev-archive"><xsl:apply-templates select="." mode="href"/>Older items</a>
            </xsl:for-each>
          </nav>
        </xsl:if>
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
    language: "language",
    items: `
          <xsl:for-each select="item">
            <article><xsl:apply-templates select="@xml:lang" mode="lang"/>
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
    language: "@xml:lang",
    items: `
          <xsl:for-each select="atom:entry">
            <article><xsl:apply-templates select="@xml:lang" mode="lang"/>
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
