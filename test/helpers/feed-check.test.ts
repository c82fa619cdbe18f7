import { describe, expect, it } from "vitest";
import {
  assertValidJsonFeed,
  assertWellFormedXml,
  type ReadFeed,
  readWithAllReaders,
  readWithPythonFeedparser,
  readWithRowanmanning,
  readWithRssParser,
} from "./feed-check.ts";

// ---------------------------------------------------------------------------
// Hand-written fixtures
// ---------------------------------------------------------------------------

const RSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>Example &amp; Co. Blog</title>
    <link>https://example.com/</link>
    <description>Posts from Example &amp; Co.</description>
    <atom:link href="https://example.com/feed.xml" rel="self" type="application/rss+xml"/>
    <lastBuildDate>Tue, 02 Jan 2024 10:00:00 GMT</lastBuildDate>
    <item>
      <title>Second post</title>
      <link>https://example.com/posts/second</link>
      <guid isPermaLink="false">urn:uuid:2b8e4d6a-0000-4000-8000-000000000002</guid>
      <pubDate>Tue, 02 Jan 2024 10:00:00 +0000</pubDate>
      <description>A &lt;em&gt;short&lt;/em&gt; summary.</description>
      <content:encoded><![CDATA[<p>Full <strong>HTML</strong> body &amp; more.</p>]]></content:encoded>
      <dc:creator>Ada Lovelace</dc:creator>
      <category>news</category>
      <category domain="https://example.com/tags">release</category>
    </item>
    <item>
      <title>First post</title>
      <link>https://example.com/posts/first</link>
      <guid>https://example.com/posts/first</guid>
      <pubDate>Mon, 01 Jan 2024 09:30:00 +0100</pubDate>
      <description>Plain summary</description>
      <author>ada@example.com (Ada Lovelace)</author>
    </item>
  </channel>
</rss>
`;

const ATOM = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title type="text">Example Atom Feed</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6</id>
  <updated>2024-01-02T10:00:00Z</updated>
  <link rel="alternate" type="text/html" href="https://example.com/"/>
  <link rel="self" type="application/atom+xml" href="https://example.com/atom.xml"/>
  <author><name>Feed Author</name></author>
  <entry>
    <title>Second post</title>
    <id>tag:example.com,2024:second</id>
    <link rel="alternate" type="text/html" href="https://example.com/posts/second"/>
    <published>2024-01-02T09:00:00Z</published>
    <updated>2024-01-02T10:00:00Z</updated>
    <author><name>Ada Lovelace</name><email>ada@example.com</email></author>
    <author><name>Charles Babbage</name></author>
    <category term="news"/>
    <category term="release" label="Release"/>
    <summary type="text">Short summary</summary>
    <content type="html">&lt;p&gt;Full &lt;strong&gt;HTML&lt;/strong&gt; body &amp;amp; more.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>First post</title>
    <id>tag:example.com,2024:first</id>
    <link href="https://example.com/posts/first"/>
    <updated>2024-01-01T08:30:00Z</updated>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>XHTML <em>body</em></p></div></content>
  </entry>
</feed>
`;

const JSON_FEED_11 = {
  version: "https://jsonfeed.org/version/1.1",
  title: "Example JSON Feed",
  home_page_url: "https://example.com/",
  feed_url: "https://example.com/feed.json",
  description: "Posts from Example & Co.",
  icon: "https://example.com/icon.png",
  authors: [{ name: "Ada Lovelace", url: "https://example.com/ada" }],
  language: "en",
  hubs: [{ type: "WebSub", url: "https://hub.example.com/" }],
  _feedpub: { generator: "test" },
  items: [
    {
      id: "tag:example.com,2024:second",
      url: "https://example.com/posts/second",
      title: "Second post",
      content_html: "<p>Full <strong>HTML</strong> body &amp; more.</p>",
      summary: "Short summary",
      date_published: "2024-01-02T09:00:00Z",
      date_modified: "2024-01-02T10:00:00.000+00:00",
      authors: [{ name: "Ada Lovelace" }, { avatar: "https://example.com/babbage.png" }],
      tags: ["news", "release"],
      attachments: [
        {
          url: "https://example.com/a.mp3",
          mime_type: "audio/mpeg",
          size_in_bytes: 1234,
          duration_in_seconds: 61,
        },
      ],
      _ext: { anything: true },
    },
    { id: "tag:example.com,2024:first", content_text: "Plain text body" },
  ],
};

type Json = Record<string, unknown>;
const clone = <T>(value: T): T => structuredClone(value);
const firstItem = (feed: Json): Json => (feed.items as Json[])[0] as Json;

/** The fields all three readers agree on for the fixtures above. */
function common(feed: ReadFeed) {
  return {
    title: feed.title,
    link: feed.link,
    updated: feed.updated,
    items: feed.items.map((i) => ({
      id: i.id,
      title: i.title,
      link: i.link,
      published: i.published,
      categories: i.categories,
    })),
  };
}

// ---------------------------------------------------------------------------
// Readers on valid documents
// ---------------------------------------------------------------------------

describe("readers on a valid RSS 2.0 document", () => {
  it("is well-formed", () => {
    expect(() => assertWellFormedXml(RSS)).not.toThrow();
  });

  it("all three readers see the same title, links, ids, dates and categories", async () => {
    const all = await readWithAllReaders(RSS);
    const expected = {
      title: "Example & Co. Blog",
      link: "https://example.com/",
      updated: "2024-01-02T10:00:00.000Z",
      items: [
        {
          id: "urn:uuid:2b8e4d6a-0000-4000-8000-000000000002",
          title: "Second post",
          link: "https://example.com/posts/second",
          published: "2024-01-02T10:00:00.000Z",
          categories: ["news", "release"],
        },
        {
          id: "https://example.com/posts/first",
          title: "First post",
          link: "https://example.com/posts/first",
          published: "2024-01-01T08:30:00.000Z",
          categories: [],
        },
      ],
    };
    expect(common(all.rssParser)).toEqual(expected);
    expect(common(all.rowan)).toEqual(expected);
    expect(common(all.python)).toEqual(expected);

    for (const feed of [all.rssParser, all.rowan, all.python]) {
      const [second, first] = feed.items;
      // description -> summary, content:encoded -> content, dc:creator / "email (Name)" -> name
      expect(second?.summary).toBe("A <em>short</em> summary.");
      expect(second?.content).toContain("<p>Full <strong>HTML</strong> body");
      expect(second?.authors).toEqual(["Ada Lovelace"]);
      expect(first?.summary).toBe("Plain summary");
      expect(first?.content).toBeUndefined();
      expect(first?.authors).toEqual(["Ada Lovelace"]);
    }
  });

  it("documents reader differences on RSS", async () => {
    const all = await readWithAllReaders(RSS);
    // rss-parser and feedparser return the HTML as published; rowanmanning entity-decodes it once more.
    expect(all.rssParser.items[0]?.content).toBe("<p>Full <strong>HTML</strong> body &amp; more.</p>");
    expect(all.python.items[0]?.content).toBe("<p>Full <strong>HTML</strong> body &amp; more.</p>");
    expect(all.rowan.items[0]?.content).toBe("<p>Full <strong>HTML</strong> body & more.</p>");
    // RSS has no item "updated": rowanmanning falls back to pubDate, the others report nothing.
    expect(all.rowan.items[0]?.updated).toBe("2024-01-02T10:00:00.000Z");
    expect(all.rssParser.items[0]?.updated).toBeUndefined();
    expect(all.python.items[0]?.updated).toBeUndefined();
  });
});

describe("readers on a valid Atom 1.0 document", () => {
  it("is well-formed", () => {
    expect(() => assertWellFormedXml(ATOM)).not.toThrow();
  });

  it("all three readers see the same title, links, ids, dates and categories", async () => {
    const all = await readWithAllReaders(ATOM);
    const expected = {
      title: "Example Atom Feed",
      link: "https://example.com/",
      updated: "2024-01-02T10:00:00.000Z",
      items: [
        {
          id: "tag:example.com,2024:second",
          title: "Second post",
          link: "https://example.com/posts/second",
          published: "2024-01-02T09:00:00.000Z",
          categories: ["news", "release"],
        },
        {
          id: "tag:example.com,2024:first",
          title: "First post",
          link: "https://example.com/posts/first",
          published: undefined,
          categories: [],
        },
      ],
    };
    expect(common(all.rssParser)).toEqual(expected);
    expect(common(all.rowan)).toEqual(expected);
    expect(common(all.python)).toEqual(expected);

    for (const feed of [all.rssParser, all.rowan, all.python]) {
      const [second, first] = feed.items;
      expect(second?.updated).toBe("2024-01-02T10:00:00.000Z");
      expect(second?.summary).toBe("Short summary");
      expect(second?.content).toContain("<p>Full <strong>HTML</strong> body");
      expect(second?.authors).toEqual(["Ada Lovelace", "Charles Babbage"]);
      expect(first?.updated).toBe("2024-01-01T08:30:00.000Z");
      expect(first?.content).toContain("<p>XHTML <em>body</em></p>");
    }
  });

  it("documents reader differences on Atom", async () => {
    const all = await readWithAllReaders(ATOM);
    const [rpSecond, rpFirst] = all.rssParser.items;
    const [rwSecond, rwFirst] = all.rowan.items;
    const [pySecond, pyFirst] = all.python.items;
    // type="html" content: rowanmanning decodes entities one level too far.
    expect(rpSecond?.content).toBe("<p>Full <strong>HTML</strong> body &amp; more.</p>");
    expect(pySecond?.content).toBe("<p>Full <strong>HTML</strong> body &amp; more.</p>");
    expect(rwSecond?.content).toBe("<p>Full <strong>HTML</strong> body & more.</p>");
    // type="xhtml" content: rss-parser re-serialises the <content> element itself.
    expect(rpFirst?.content).toBe(
      '<div type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>XHTML <em>body</em></p></div></div>',
    );
    expect(rwFirst?.content).toBe("<p>XHTML <em>body</em></p>");
    expect(pyFirst?.content).toBe("<p>XHTML <em>body</em></p>");
    // No <summary>: feedparser copies the content into summary, the others leave it empty.
    expect(pyFirst?.summary).toBe("<p>XHTML <em>body</em></p>");
    expect(rpFirst?.summary).toBeUndefined();
    expect(rwFirst?.summary).toBeUndefined();
    // No entry <author>: rowanmanning inherits the feed-level author, the others do not.
    expect(rwFirst?.authors).toEqual(["Feed Author"]);
    expect(rpFirst?.authors).toEqual([]);
    expect(pyFirst?.authors).toEqual([]);
  });
});

describe("a valid JSON Feed 1.1 document", () => {
  it("passes the schema and comes back parsed", () => {
    const parsed = assertValidJsonFeed(JSON.stringify(JSON_FEED_11));
    expect(parsed.title).toBe("Example JSON Feed");
    const items = parsed.items as Json[];
    expect(items.map((i) => i.id)).toEqual(["tag:example.com,2024:second", "tag:example.com,2024:first"]);
    expect(items[0]?.content_html).toBe("<p>Full <strong>HTML</strong> body &amp; more.</p>");
  });

  it("is not readable by any of the three XML readers (none of them supports JSON Feed)", async () => {
    const text = JSON.stringify(JSON_FEED_11);
    await expect(readWithRssParser(text)).rejects.toThrow();
    expect(() => readWithRowanmanning(text)).toThrow();
    // Debian's python3-feedparser 6.0.x has no JSON Feed support; it reports bozo.
    expect(() => readWithPythonFeedparser(text)).toThrow(/bozo/);
  });
});

// ---------------------------------------------------------------------------
// The checks must be able to fail
// ---------------------------------------------------------------------------

describe("assertWellFormedXml rejects malformed XML", () => {
  const ok = (title: string) =>
    `<?xml version="1.0"?><rss version="2.0"><channel><title>${title}</title>` +
    "<link>https://example.com/</link><description>d</description></channel></rss>";

  it("accepts the control case", () => {
    expect(() => assertWellFormedXml(ok("A &amp; B"))).not.toThrow();
  });

  it("rejects an unescaped ampersand", () => {
    expect(() => assertWellFormedXml(ok("A & B"))).toThrow(/not well-formed[\s\S]*EntityRef/);
  });

  it("rejects a bare U+0001 control character", () => {
    expect(() => assertWellFormedXml(ok("bad \u0001 char"))).toThrow(/invalid Char value 1/);
  });

  it("rejects mismatched tags and non-XML", () => {
    expect(() => assertWellFormedXml("<rss><channel></rss>")).toThrow(/not well-formed/);
    expect(() => assertWellFormedXml("")).toThrow(/not well-formed/);
    expect(() => assertWellFormedXml(JSON.stringify(JSON_FEED_11))).toThrow(/not well-formed/);
  });

  it("python feedparser and rss-parser also refuse the unescaped ampersand (rowanmanning does not)", async () => {
    const bad = ok("A & B");
    expect(() => readWithPythonFeedparser(bad)).toThrow(/bozo/);
    await expect(readWithRssParser(bad)).rejects.toThrow();
    expect(readWithRowanmanning(bad).title).toBe("A & B");
  });
});

describe("assertValidJsonFeed rejects invalid JSON Feed 1.1", () => {
  it("rejects a JSON Feed 1.0 document (version 1, singular author)", () => {
    const v10 = {
      version: "https://jsonfeed.org/version/1",
      title: "Old feed",
      author: { name: "Ada Lovelace" },
      items: [{ id: "1", content_text: "x", author: { name: "Ada Lovelace" } }],
    };
    let message = "";
    try {
      assertValidJsonFeed(JSON.stringify(v10));
    } catch (error) {
      message = (error as Error).message;
    }
    // Every problem is listed, not just the first.
    expect(message).toMatch(/\/version: must be equal to constant/);
    expect(message).toMatch(/\(root\): must NOT be valid/);
    expect(message).toMatch(/\/items\/0: must NOT be valid/);
  });

  it("rejects a singular author even when the version is 1.1", () => {
    const feed = clone(JSON_FEED_11) as Json;
    firstItem(feed).author = { name: "Ada Lovelace" };
    expect(() => assertValidJsonFeed(JSON.stringify(feed))).toThrow(/\/items\/0: must NOT be valid/);
  });

  it("rejects an item without id", () => {
    const feed = clone(JSON_FEED_11) as Json;
    delete firstItem(feed).id;
    expect(() => assertValidJsonFeed(JSON.stringify(feed))).toThrow(
      /\/items\/0: must have required property 'id'/,
    );
  });

  it("rejects an item without content_html or content_text", () => {
    const feed = clone(JSON_FEED_11) as Json;
    delete firstItem(feed).content_html;
    expect(() => assertValidJsonFeed(JSON.stringify(feed))).toThrow(
      /\/items\/0: must match a schema in anyOf/,
    );
  });

  it("rejects a numeric id", () => {
    const feed = clone(JSON_FEED_11) as Json;
    firstItem(feed).id = 42;
    expect(() => assertValidJsonFeed(JSON.stringify(feed))).toThrow(/\/items\/0\/id: must be string/);
  });

  it("rejects duplicate item ids", () => {
    const feed = clone(JSON_FEED_11) as Json;
    (feed.items as Json[])[1] = { ...firstItem(feed) };
    expect(() => assertValidJsonFeed(JSON.stringify(feed))).toThrow(/\/items\/1\/id: duplicate id/);
  });

  it("rejects bad formats, authors and attachments", () => {
    const feed = clone(JSON_FEED_11) as Json;
    feed.feed_url = "not a url";
    feed.authors = [{}];
    feed.hubs = [{ type: "WebSub" }];
    const item = firstItem(feed);
    item.date_published = "2024-01-02 09:00";
    item.attachments = [{ url: "https://example.com/a.mp3" }];
    item.tags = ["ok", 3];
    let message = "";
    try {
      assertValidJsonFeed(JSON.stringify(feed));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/\/feed_url: must match format "uri"/);
    expect(message).toMatch(/\/authors\/0: must match a schema in anyOf/);
    expect(message).toMatch(/\/hubs\/0: must have required property 'url'/);
    expect(message).toMatch(/\/items\/0\/date_published: must match format "date-time"/);
    expect(message).toMatch(/\/items\/0\/attachments\/0: must have required property 'mime_type'/);
    expect(message).toMatch(/\/items\/0\/tags\/1: must be string/);
  });

  it("rejects non-JSON and missing top-level fields", () => {
    expect(() => assertValidJsonFeed("{not json")).toThrow(/not valid JSON/);
    expect(() => assertValidJsonFeed("[]")).toThrow(/Invalid JSON Feed/);
    expect(() =>
      assertValidJsonFeed(JSON.stringify({ version: "https://jsonfeed.org/version/1.1" })),
    ).toThrow(/must have required property 'title'[\s\S]*must have required property 'items'/);
  });
});
