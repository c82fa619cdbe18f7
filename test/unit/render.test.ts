import { readdirSync, readFileSync } from "node:fs";
import { load as parseYaml } from "js-yaml";
import { describe, expect, it } from "vitest";
import type { Article } from "../../functions/core/article.ts";
import { buildFeed, renderFeedFiles } from "../../functions/core/build.ts";
import { parseConfig } from "../../functions/core/config.ts";
import type { FeedItem, FeedModel } from "../../functions/core/model.ts";
import { parseArticle, sourceKind } from "../../functions/core/parse.ts";
import { renderAtom } from "../../functions/core/render/atom.ts";
import { renderJsonFeed } from "../../functions/core/render/json-feed.ts";
import { renderRss } from "../../functions/core/render/rss.ts";
import { stripForbiddenChars } from "../../functions/core/text.ts";
import {
  type AllReaders,
  assertValidJsonFeed,
  assertWellFormedXml,
  type ReadFeed,
  readWithAllReaders,
} from "../helpers/feed-check.ts";
import { BASE_ITEM, BASE_MODEL, decodeEntities, parseText, SITE } from "./support.ts";

// ---------------------------------------------------------------------------
// How each reader hands back text
// ---------------------------------------------------------------------------
//
// - "text" fields (RSS title, category and dc:creator; Atom feed title, author name): rss-parser and
//   Python feedparser return the text exactly. @rowanmanning/feed-parser decodes character
//   references once more (a literal "AT&amp;T" comes back as "AT&T"); no publisher can prevent it
//   without breaking the other readers, so its expectation is the text decoded once.
// - "html" fields (RSS description, Atom type="html" title and summary): rss-parser and feedparser
//   return the HTML, which decodes to the exact text; rowanmanning returns the decoded text.
// - Python feedparser guesses that an RSS text field holding real HTML tags (<b>, <br>) is HTML;
//   that guess is documented below. The hostile text here uses "<live>", which is not a tag name.

type ReaderName = keyof AllReaders;
const READERS: readonly ReaderName[] = ["rssParser", "rowan", "python"];

function expectText(reader: ReaderName, actual: string | undefined, expected: string): void {
  expect(actual, `${reader} (text)`).toBe(reader === "rowan" ? decodeEntities(expected) : expected);
}

function expectExact(reader: ReaderName, actual: string | undefined, expected: string): void {
  expect(actual, `${reader} (exact)`).toBe(expected);
}

function expectHtmlText(reader: ReaderName, actual: string | undefined, expected: string): void {
  expect(reader === "rowan" ? actual : decodeEntities(actual ?? ""), `${reader} (html)`).toBe(expected);
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const CONTROLS = "\u0001\u0008\u000B\u000C\u001F";
/** Everything that has broken feeds: markup, entities, a literal "&amp;", CDATA ends, astral characters. */
const HOSTILE = `Q&A <live> & "quoted" 'single' AT&amp;T ]]> and ]]]]> x${CONTROLS}y 😀 𝄞 a<b &nbsp; > end`;
/** What XML can carry of it: the control characters are gone, nothing else changes. */
const HOSTILE_XML = stripForbiddenChars(HOSTILE);
const HOSTILE_TAGS = [
  "R&D",
  'say "hi"',
  "AT&amp;T",
  "x > y",
  "]]>",
  "😀 emoji",
  `ctl${CONTROLS}x`,
  "&lt;escaped&gt;",
];
const HOSTILE_AUTHORS = [
  { name: `Ann "The Pen" O'Neil & <Co> AT&amp;T ]]> 😀${CONTROLS}`, email: "ann@news.example.org" },
  { name: "Zoë > Bob < Cy" },
];

const HOSTILE_ITEM: FeedItem = {
  ...BASE_ITEM,
  title: HOSTILE,
  summary: HOSTILE,
  tags: HOSTILE_TAGS,
  authors: HOSTILE_AUTHORS,
  contentHtml: "<p>Body ]]&gt; &amp; &lt;b&gt; 😀</p>",
};

const HOSTILE_MODEL: FeedModel = {
  ...BASE_MODEL,
  title: HOSTILE,
  description: HOSTILE,
  author: { name: HOSTILE },
  items: [
    HOSTILE_ITEM,
    {
      ...BASE_ITEM,
      id: "tag:news.example.org,2024:second",
      url: "https://news.example.org/posts/second/?a=1&b=2",
      published: new Date("2024-02-01T00:00:00Z"),
      updated: new Date("2024-02-01T00:00:00Z"),
    },
  ],
};

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

// ---------------------------------------------------------------------------
// RSS 2.0
// ---------------------------------------------------------------------------

describe("RSS 2.0", () => {
  it("is well-formed, and hostile text round-trips through all three readers", async () => {
    const xml = renderRss(HOSTILE_MODEL);

    assertWellFormedXml(xml);
    const all = await readWithAllReaders(xml);

    for (const reader of READERS) {
      const feed: ReadFeed = all[reader];
      expectText(reader, feed.title, HOSTILE_XML);
      expect(feed.link).toBe("https://news.example.org/");
      expect(feed.items).toHaveLength(2);
      const [item, second] = feed.items;
      expectText(reader, item?.title, HOSTILE_XML);
      expectHtmlText(reader, item?.summary, HOSTILE_XML);
      expect(item?.categories.length).toBe(HOSTILE_TAGS.length);
      HOSTILE_TAGS.forEach((tag, i) => {
        expectText(reader, item?.categories[i], stripForbiddenChars(tag));
      });
      expect(item?.authors.length).toBe(2);
      expectText(reader, item?.authors[0], stripForbiddenChars(HOSTILE_AUTHORS[0]?.name ?? ""));
      expectText(reader, item?.authors[1], "Zoë > Bob < Cy");
      expect(item?.id).toBe(BASE_ITEM.id);
      expect(item?.link).toBe(BASE_ITEM.url);
      expect(item?.published).toBe(BASE_ITEM.published.toISOString());
      expect(second?.link).toBe("https://news.example.org/posts/second/?a=1&b=2");
      expect(second?.id).toBe("tag:news.example.org,2024:second");
    }
    expect(all.rssParser.items[0]?.content).toBe(HOSTILE_ITEM.contentHtml);
    expect(all.python.items[0]?.content).toBe(HOSTILE_ITEM.contentHtml);
  });

  it("names authors with dc:creator, never a bare-name <author>, and guids are not permalinks", () => {
    const xml = renderRss(BASE_MODEL);

    expect(xml).toContain('xmlns:dc="http://purl.org/dc/elements/1.1/"');
    expect(xml).toContain("<dc:creator>Ann Author</dc:creator>");
    expect(xml).not.toMatch(/<author>/);
    expect(xml).toContain(`<guid isPermaLink="false">${BASE_ITEM.id}</guid>`);
  });

  it("links to itself with atom:link rel=self and dates the channel by its newest item", () => {
    const xml = renderRss(BASE_MODEL);

    expect(xml).toMatch(/<atom:link href="https:\/\/news\.example\.org\/feeds\/rss\.xml" rel="self"/);
    expect(xml).toContain("<lastBuildDate>Sat, 02 Mar 2024 10:30:00 GMT</lastBuildDate>");
    expect(xml).toContain("<pubDate>Fri, 01 Mar 2024 09:00:00 GMT</pubDate>");
  });

  it("declares the dc namespace even when no item has content", async () => {
    const xml = renderRss({ ...BASE_MODEL, items: [{ ...BASE_ITEM, contentHtml: "" }] });

    assertWellFormedXml(xml);
    const all = await readWithAllReaders(xml);

    for (const reader of READERS) expect(all[reader].items[0]?.authors).toEqual(["Ann Author"]);
  });

  it("documents a reader guess: Python feedparser reads an RSS title with real HTML tags as HTML", async () => {
    const title = "Q&A: <b>bold</b> claims";
    const xml = renderRss({ ...BASE_MODEL, items: [{ ...BASE_ITEM, title }] });

    const all = await readWithAllReaders(xml);

    expect(xml).toContain("<title>Q&amp;A: &lt;b&gt;bold&lt;/b&gt; claims</title>");
    expect(all.rssParser.items[0]?.title).toBe(title);
    expect(all.rowan.items[0]?.title).toBe(title);
    expect(all.python.items[0]?.title).toBe("Q&amp;A: <b>bold</b> claims");
    // The same title in Atom (type="html", escaped) comes back exactly.
    const atom = await readWithAllReaders(renderAtom({ ...BASE_MODEL, items: [{ ...BASE_ITEM, title }] }));
    expect(decodeEntities(atom.python.items[0]?.title ?? "")).toBe(title);
  });

  it("one dc:creator per author", () => {
    const xml = renderRss({
      ...BASE_MODEL,
      items: [{ ...BASE_ITEM, authors: [{ name: "A" }, { name: "B" }] }],
    });

    expect(count(xml, /<dc:creator>/g)).toBe(2);
  });

  it("an empty feed is still a valid, readable channel", async () => {
    const xml = renderRss({ ...BASE_MODEL, items: [], description: "" });

    assertWellFormedXml(xml);
    const all = await readWithAllReaders(xml);
    for (const reader of READERS) expect(all[reader].items).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Atom 1.0
// ---------------------------------------------------------------------------

describe("Atom 1.0", () => {
  it("is well-formed, and hostile text round-trips through all three readers", async () => {
    const xml = renderAtom(HOSTILE_MODEL);

    assertWellFormedXml(xml);
    const all = await readWithAllReaders(xml);

    for (const reader of READERS) {
      const feed = all[reader];
      expectText(reader, feed.title, HOSTILE_XML);
      expect(feed.updated).toBe(BASE_MODEL.updated.toISOString());
      const [item, second] = feed.items;
      expectHtmlText(reader, item?.title, HOSTILE_XML);
      expectHtmlText(reader, item?.summary, HOSTILE_XML);
      // Category terms are attributes: every reader returns them exactly.
      expect(item?.categories).toEqual(HOSTILE_TAGS.map(stripForbiddenChars));
      expect(item?.authors.length).toBe(2);
      expectText(reader, item?.authors[0], stripForbiddenChars(HOSTILE_AUTHORS[0]?.name ?? ""));
      expectText(reader, item?.authors[1], "Zoë > Bob < Cy");
      expect(item?.id).toBe(BASE_ITEM.id);
      expect(item?.link).toBe(BASE_ITEM.url);
      expect(item?.published).toBe(BASE_ITEM.published.toISOString());
      expect(item?.updated).toBe(BASE_ITEM.updated.toISOString());
      expect(second?.link).toBe("https://news.example.org/posts/second/?a=1&b=2");
    }
    expect(all.rssParser.items[0]?.content).toBe(HOSTILE_ITEM.contentHtml);
    expect(all.python.items[0]?.content).toBe(HOSTILE_ITEM.contentHtml);
  });

  it("has an author in every entry and a rel=self link", () => {
    const model = {
      ...BASE_MODEL,
      items: [BASE_ITEM, { ...BASE_ITEM, id: "urn:x:2", authors: [{ name: "Only" }] }],
    };

    const xml = renderAtom(model);

    const entries = xml.split("<entry>").slice(1);
    expect(entries).toHaveLength(2);
    for (const entry of entries) expect(entry).toMatch(/<author>\s*<name>[^<]+<\/name>/);
    expect(xml).toContain('<link rel="self" href="https://news.example.org/feeds/atom.xml"/>');
    expect(xml).toContain('<link rel="alternate" href="https://news.example.org/"/>');
    // The document states the feed's language (feed writes none in Atom).
    expect(xml).toMatch(/<feed xmlns="http:\/\/www\.w3\.org\/2005\/Atom" xml:lang="en">/);
  });

  it("writes author email and uri", () => {
    const xml = renderAtom({
      ...BASE_MODEL,
      items: [
        {
          ...BASE_ITEM,
          authors: [{ name: "Ann", email: "ann@example.org", url: "https://ann.example.org/" }],
        },
      ],
    });

    expect(xml).toMatch(
      /<name>Ann<\/name>\s*<email>ann@example.org<\/email>\s*<uri>https:\/\/ann.example.org\/<\/uri>/,
    );
  });

  it("an empty feed is valid and dated by the model, not the clock", async () => {
    const xml = renderAtom({ ...BASE_MODEL, items: [], updated: new Date(0) });

    assertWellFormedXml(xml);
    expect(xml).toContain("<updated>1970-01-01T00:00:00.000Z</updated>");
    const all = await readWithAllReaders(xml);
    for (const reader of READERS) expect(all[reader].items).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// JSON Feed 1.1
// ---------------------------------------------------------------------------

describe("JSON Feed 1.1", () => {
  it("is valid, version 1.1, and hostile text round-trips exactly through JSON.parse", () => {
    const text = renderJsonFeed(HOSTILE_MODEL);

    const feed = assertValidJsonFeed(text);

    expect(feed).toMatchObject({
      version: "https://jsonfeed.org/version/1.1",
      title: HOSTILE,
      description: HOSTILE,
      home_page_url: "https://news.example.org/",
      feed_url: "https://news.example.org/feeds/feed.json",
      language: "en",
      authors: [{ name: HOSTILE }],
    });
    const items = feed.items as Record<string, unknown>[];
    expect(items[0]).toEqual({
      id: BASE_ITEM.id,
      url: BASE_ITEM.url,
      title: HOSTILE,
      content_html: HOSTILE_ITEM.contentHtml,
      summary: HOSTILE,
      date_published: "2024-03-01T09:00:00.000Z",
      date_modified: "2024-03-02T10:30:00.000Z",
      authors: HOSTILE_AUTHORS.map((a) => ({ name: a.name })),
      tags: HOSTILE_TAGS,
    });
  });

  it("uses `authors` arrays, never the 1.0 `author`", () => {
    const feed = JSON.parse(renderJsonFeed(BASE_MODEL)) as Record<string, unknown>;
    const item = (feed.items as Record<string, unknown>[])[0] ?? {};

    expect(feed).not.toHaveProperty("author");
    expect(item).not.toHaveProperty("author");
    expect(Array.isArray(feed.authors)).toBe(true);
    expect(item.authors).toEqual([{ name: "Ann Author" }]);
  });

  it("writes author URLs, item image and language, and leaves out empty optional fields", () => {
    const feed = JSON.parse(
      renderJsonFeed({
        ...BASE_MODEL,
        description: "",
        items: [
          {
            ...BASE_ITEM,
            summary: "",
            tags: [],
            image: { url: "https://news.example.org/cover.jpg", type: "image/jpeg", length: 0 },
            language: "ko",
            authors: [{ name: "Ann", url: "https://ann.example.org/", email: "private@example.org" }],
          },
        ],
      }),
    ) as Record<string, unknown>;
    const item = (feed.items as Record<string, unknown>[])[0] ?? {};

    expect(feed).not.toHaveProperty("description");
    expect(item).not.toHaveProperty("summary");
    expect(item).not.toHaveProperty("tags");
    expect(item).toMatchObject({
      image: "https://news.example.org/cover.jpg",
      language: "ko",
      authors: [{ name: "Ann", url: "https://ann.example.org/" }],
    });
  });

  it("an empty feed is valid", () => {
    expect(assertValidJsonFeed(renderJsonFeed({ ...BASE_MODEL, items: [] })).items).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// From files to feeds
// ---------------------------------------------------------------------------

const CONTENT_ROOT = new URL("../../content/", import.meta.url);

function readContentFolder(): Article[] {
  const files = readdirSync(CONTENT_ROOT, { recursive: true, encoding: "utf8" })
    .map((path) => path.split("\\").join("/"))
    .filter((path) => sourceKind(path))
    .sort();
  return files.map((path) => parseArticle(path, readFileSync(new URL(path, CONTENT_ROOT))));
}

describe("from article files to feeds", () => {
  it("hostile front matter comes out of every format intact (minus what XML cannot carry)", async () => {
    const markdown = [
      "---",
      `title: "Q&A <live> AT&amp;T ]]> \\x01 😀 'q' \\"dq\\""`,
      "summary: 'Less < more & ]]> done'",
      'tags: ["R&D", "<script>", "a > b", "AT&amp;T"]',
      "author: 'Ann & <Co>'",
      "date: 2024-03-01",
      "---",
      "Body with ]]> and <script>alert(1)</script> & more.",
    ].join("\n");
    const article = parseText("posts/hostile.md", markdown);
    const title = `Q&A <live> AT&amp;T ]]> 😀 'q' "dq"`;
    const summary = "Less < more & ]]> done";
    const tags = ["R&D", "script", "a b", "AT&amp;T"];

    const { feed } = buildFeed({
      config: SITE,
      articles: [article],
      seen: {},
      now: new Date("2024-06-01T00:00:00Z"),
    });
    const [rss, atom, json] = renderFeedFiles(feed).map((f) => f.body);

    expect(article.title).toBe(title);
    const jsonItem = (assertValidJsonFeed(json ?? "").items as Record<string, unknown>[])[0];
    expect(jsonItem).toMatchObject({ title, summary, tags, authors: [{ name: "Ann & <Co>" }] });
    expect(jsonItem?.content_html).toBe("<p>Body with ]]&gt; and  &amp; more.</p>\n");
    // RSS titles and categories are text; Atom titles are type="html" and categories attributes.
    const checks = [
      { xml: rss ?? "", expectTitle: expectText, expectTag: expectText },
      { xml: atom ?? "", expectTitle: expectHtmlText, expectTag: expectExact },
    ];
    for (const { xml, expectTitle, expectTag } of checks) {
      assertWellFormedXml(xml);
      const all = await readWithAllReaders(xml);
      for (const reader of READERS) {
        const item = all[reader].items[0];
        expectTitle(reader, item?.title, title);
        expectHtmlText(reader, item?.summary, summary);
        expectText(reader, item?.authors[0], "Ann & <Co>");
        expect(item?.categories.length).toBe(tags.length);
        tags.forEach((tag, i) => {
          expectTag(reader, item?.categories[i], tag);
        });
      }
    }
  });

  it("control characters in the site settings do not break the XML feeds", async () => {
    const config = parseConfig(
      parseYaml('title: "Daily\\x01 Digest\\x1F"\nurl: https://news.example.org/\n'),
    );
    const { feed } = buildFeed({
      config,
      articles: [parseText("a.md", "# A\n\nText")],
      seen: {},
      now: new Date("2024-06-01T00:00:00Z"),
    });

    for (const file of renderFeedFiles(feed).slice(0, 2)) {
      assertWellFormedXml(file.body);
      const all = await readWithAllReaders(file.body);
      for (const reader of READERS) expect(all[reader].title).toBe("Daily Digest");
    }
  });

  it("the sample content folder builds into feeds that every reader and the schema accept", async () => {
    const config = parseConfig(
      parseYaml(readFileSync(new URL("../../feedpub.config.yaml", import.meta.url), "utf8")),
    );
    const articles = readContentFolder();

    const result = buildFeed({ config, articles, seen: {}, now: new Date("2027-01-01T00:00:00Z") });
    const files = renderFeedFiles(result.feed);

    expect(articles.length).toBeGreaterThanOrEqual(4);
    expect(result.problems).toEqual([]);
    const published = articles.filter((a) => !a.draft).map((a) => a.title);
    expect(result.feed.items.map((i) => i.title).sort()).toEqual(published.sort());
    const [rss, atom, json] = files;
    assertValidJsonFeed(json?.body ?? "");
    for (const file of [rss, atom]) {
      assertWellFormedXml(file?.body ?? "");
      const all = await readWithAllReaders(file?.body ?? "");
      for (const reader of READERS) {
        expect(all[reader].items.map((i) => i.id)).toEqual(result.feed.items.map((i) => i.id));
        for (const item of all[reader].items) expect(item.authors.length).toBeGreaterThan(0);
      }
    }
  });
});
