/**
 * Apple's and the Podcast Index's published requirements (test/helpers/podcast-check.ts), held
 * against the RSS that feedpub writes for a podcast site; and proof that each rule can fail.
 */
import { execFileSync } from "node:child_process";
import { parseFeed } from "@rowanmanning/feed-parser";
import RssParser from "rss-parser";
import { describe, expect, it } from "vitest";
import { archiveScope } from "../../functions/core/archive.ts";
import { assembleFeed, type FeedScope } from "../../functions/core/build.ts";
import { parseConfig, type SiteConfig } from "../../functions/core/config.ts";
import type { FeedItem } from "../../functions/core/model.ts";
import { renderAtom } from "../../functions/core/render/atom.ts";
import { withPodcastChannel } from "../../functions/core/render/podcast.ts";
import { renderRss } from "../../functions/core/render/rss.ts";
import { assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import {
  APPLE_ENCLOSURE_TYPES,
  assertNamespacesDeclared,
  CONTENT,
  guidSeed,
  podcastMarkup,
  podcastViolations,
  readTree,
} from "../helpers/podcast-check.ts";

const SHOW = {
  image: "https://radio.example.org/art/show.png",
  category: ["News > Daily News", "Society & Culture > Documentary"],
  explicit: false,
  owner: { name: "Studio Desk", email: "studio@radio.example.org" },
  locked: true,
  copyright: "© 2025 Example Radio",
};
const site = (
  podcast: Record<string, unknown> | undefined,
  extra: Record<string, unknown> = {},
): SiteConfig =>
  parseConfig({
    title: "The Example Hour",
    url: "https://radio.example.org/",
    description: "Conversations about the news.",
    author: { name: "The Editors", email: "editors@radio.example.org" },
    ...(podcast ? { podcast } : {}),
    ...extra,
  });
const POD = site(SHOW);

const media = (path: string, type: string, length: number) => ({
  url: `https://radio.example.org/feeds/media/${path}`,
  type,
  length,
});
const ITEM: FeedItem = {
  id: "urn:uuid:00000000-0000-5000-8000-000000000001",
  url: "https://radio.example.org/shows/pilot/",
  title: "Pilot",
  published: new Date("2025-05-06T09:00:00Z"),
  updated: new Date("2025-05-06T09:00:00Z"),
  contentHtml: "<p>Show notes.</p>",
  summary: "Show notes.",
  tags: ["interviews"],
  authors: [{ name: "Ann Host" }],
  image: media("shows/pilot.png", "image/png", 50),
  enclosures: [media("shows/pilot.pdf", "application/pdf", 9), media("shows/pilot.mp3", "audio/mpeg", 1000)],
  episode: {
    duration: 754,
    episode: 1,
    season: 1,
    episodeType: "full",
    explicit: false,
    transcripts: [
      { url: "https://radio.example.org/shows/pilot/pilot.vtt", type: "text/vtt" },
      {
        url: "https://cdn.example/t.srt?a=1&b=2",
        type: "application/x-subrip",
        language: "ko",
        captions: true,
      },
    ],
    chapters: { url: "https://cdn.example/pilot.json", type: "application/json+chapters" },
  },
};
const SECOND: FeedItem = {
  ...ITEM,
  id: "tag:radio.example.org,2025:second",
  url: "https://radio.example.org/shows/second/",
  title: "Second",
  published: new Date("2025-06-03T09:00:00Z"),
  updated: new Date("2025-06-03T09:00:00Z"),
  image: media("shows/second.webp", "image/webp", 40),
  enclosures: [{ url: "https://media.example/second.m4a", type: "audio/mp4", length: 48213677 }],
  episode: { duration: 3723, episode: 2 },
};
const TEXT: FeedItem = {
  ...ITEM,
  id: "tag:radio.example.org,2025:notes",
  url: "https://radio.example.org/news/notes/",
  title: "Studio notes",
  image: media("news/studio.jpg", "image/jpeg", 60),
  enclosures: [],
  episode: undefined,
};
const ITEMS = [SECOND, TEXT, ITEM];
const feedXml = (config: SiteConfig, items = ITEMS, scope?: FeedScope) =>
  renderRss(assembleFeed(config, items, scope));

describe("a podcast site's RSS", () => {
  it("meets every rule, in the main feed and in a family feed", () => {
    for (const scope of [undefined, { folder: "tags/interviews/", label: "Tag: interviews" }]) {
      const xml = feedXml(POD, ITEMS, scope);
      assertWellFormedXml(xml);
      assertNamespacesDeclared(xml);
      expect(podcastViolations(xml)).toEqual([]);
    }
  });

  it("meets them as a serial show whose full episodes are numbered", () => {
    const serial = site({ ...SHOW, type: "serial" });
    expect(podcastViolations(feedXml(serial, [SECOND, ITEM]))).toEqual([]);
  });

  it("gives each feed its own podcast:guid, the UUIDv5 of its URL, and a pinned one to the main feed", () => {
    const scopes = [{ folder: "" }, { folder: "tags/interviews/" }, { folder: "authors/ann-host/" }];
    const guids = scopes.map((scope) => readTree(feedXml(POD, ITEMS, scope)).tree);
    const texts = guids.map(
      (tree) =>
        tree.children[0]?.children.find((c) => c.tag === "{https://podcastindex.org/namespace/1.0}guid")
          ?.text,
    );
    expect(new Set(texts).size).toBe(3);
    const pinned = "9b024349-ccf0-5f69-a609-6b82873eab3c";
    const pinnedSite = site({ ...SHOW, guid: pinned });
    expect(podcastViolations(feedXml(pinnedSite), { pinnedGuid: pinned })).toEqual([]);
    // A family feed is a show of its own: the pinned guid is the main feed's alone.
    expect(podcastViolations(feedXml(pinnedSite, ITEMS, scopes[1]))).toEqual([]);
    expect(guidSeed("https://radio.example.org/feeds/rss.xml/")).toBe("radio.example.org/feeds/rss.xml");
  });

  it("carries each episode's recording as its enclosure, in a type Apple lists, and no image enclosures", () => {
    const xml = feedXml(POD);
    const enclosures = [...xml.matchAll(/<enclosure [^>]*>/g)].map((m) => m[0]);
    expect(enclosures).toEqual([
      '<enclosure length="48213677" type="audio/x-m4a" url="https://media.example/second.m4a"/>',
      '<enclosure length="1000" type="audio/mpeg" url="https://radio.example.org/feeds/media/shows/pilot.mp3"/>',
    ]);
    for (const enclosure of enclosures)
      expect(APPLE_ENCLOSURE_TYPES).toContain(/type="([^"]+)"/.exec(enclosure)?.[1]);
    // Outside a podcast RSS keeps its first file (and the text article its image); Atom keeps them all.
    const plain = feedXml(site(undefined));
    expect(plain).toContain('type="audio/mp4" url="https://media.example/second.m4a"');
    expect(plain).toContain('url="https://radio.example.org/feeds/media/news/studio.jpg"');
    expect(renderAtom(assembleFeed(POD, ITEMS))).toContain(
      'href="https://radio.example.org/feeds/media/news/studio.jpg"',
    );
  });

  it("writes episode artwork only from a JPEG or PNG lead image", () => {
    const xml = feedXml(POD);
    expect(xml).toContain('<itunes:image href="https://radio.example.org/feeds/media/shows/pilot.png"/>');
    expect(xml).not.toContain("second.webp");
  });

  it("keeps every description within Apple's 4,000 bytes, cut at a word", () => {
    const long = { ...ITEM, summary: `${"청취자 질문과 답변 ".repeat(180)}& <끝>` };
    const xml = feedXml(POD, [long]);
    expect(podcastViolations(xml)).toEqual([]);
    const description = /<description><!\[CDATA\[([^\]]*)\]\]><\/description>/.exec(xml)?.[1] ?? "";
    expect(Buffer.byteLength(description)).toBeLessThanOrEqual(4000);
    expect(Buffer.byteLength(description)).toBeGreaterThan(3900);
    expect(description).toMatch(/답변…$/);
    // Other feeds keep the summary whole.
    expect(feedXml(site(undefined), [long])).toContain("&amp; &lt;끝&gt;");
  });

  it("finds the channel when its start tag carries attributes, and declares no namespace twice", () => {
    const model = assembleFeed(POD, []);
    const xml = withPodcastChannel(
      `<?xml version="1.0"?>\n<rss version="2.0" xmlns:content="${CONTENT}">\n<channel xml:lang="ko">\n<title>T</title></channel></rss>`,
      model,
    );
    expect(xml.match(/xmlns:content=/g)).toHaveLength(1);
    expect(xml).toMatch(/<channel xml:lang="ko">\n {8}<itunes:image href=/);
    assertNamespacesDeclared(xml);
  });

  it("has no podcast markup on a site without the settings, or on an archive page", () => {
    expect(podcastMarkup(feedXml(site(undefined)))).toEqual([]);
    const page = renderRss(assembleFeed(POD, ITEMS, archiveScope(POD, "2025-05", undefined)));
    assertNamespacesDeclared(page);
    expect(podcastMarkup(page)).toEqual([]);
  });
});

describe("each rule can fail", () => {
  const good = feedXml(POD);
  const serialXml = feedXml(site({ ...SHOW, type: "serial" }), [
    TEXT,
    { ...SECOND, episode: { duration: 5 } },
  ]);
  const broken: [string, string, string][] = [
    [
      "namespaces:",
      good.replace('xmlns:itunes="http://www.itunes.com/dtds/', 'xmlns:itunes="http://www.itunes.com/DTDs/'),
      "wrong-case itunes URI",
    ],
    [
      "namespaces:",
      good
        .replace(/ xmlns:content="[^"]+"/, ' xmlns:content2="http://purl.org/rss/1.0/modules/content/"')
        .replace(/content:encoded/g, "content2:encoded"),
      "no content namespace",
    ],
    ["itunes:image:", good.replace("art/show.png", "art/show.webp"), "channel artwork not JPEG or PNG"],
    [
      "itunes:category:",
      good.replace('text="Daily News"', 'text="Daily news"'),
      "subcategory in the wrong case",
    ],
    ["itunes:category:", good.replace('text="News"', 'text="Tech"'), "not Apple's"],
    [
      "itunes:explicit:",
      good.replace("<itunes:explicit>false</itunes:explicit>", "<itunes:explicit>clean</itunes:explicit>"),
      "old value",
    ],
    ["itunes:type:", good.replace("<itunes:type>episodic<", "<itunes:type>daily<"), "unknown type"],
    [
      "itunes:owner:",
      good.replace("studio@radio.example.org</itunes:email>", "nobody</itunes:email>"),
      "owner e-mail",
    ],
    [
      "podcast:guid:",
      good.replace(/<podcast:guid>[^<]+/, "<podcast:guid>917393e3-1b1e-5cef-ace4-edaa54e1f810"),
      "another feed's guid",
    ],
    ["podcast:locked:", good.replace(">yes</podcast:locked>", ">true</podcast:locked>"), "locked value"],
    [
      "itunes:duration:",
      good.replace("<itunes:duration>754<", "<itunes:duration>12m34s<"),
      "duration format",
    ],
    ["itunes:episode:", good.replace("<itunes:episode>1<", "<itunes:episode>0<"), "episode zero"],
    ["itunes:season:", good.replace("<itunes:season>1<", "<itunes:season>one<"), "season text"],
    [
      "itunes:episodeType:",
      good.replace("<itunes:episodeType>full<", "<itunes:episodeType>teaser<"),
      "episode type",
    ],
    ["itunes:episode:", serialXml, "serial show, unnumbered episode"],
    ["enclosure:", good.replace('length="1000" ', ""), "no length"],
    ["enclosure:", good.replace('type="audio/mpeg"', 'type="image/png"'), "image enclosure"],
    [
      "enclosure:",
      good.replace("media.example/second.m4a", "radio.example.org/feeds/media/shows/pilot.mp3"),
      "repeated URL",
    ],
    ["enclosure:", good.replace("media.example/second.m4a", "media.example/sécond.m4a"), "non-ASCII URL"],
    [
      "episode fields:",
      good.replace(
        "<dc:creator>Ann Host</dc:creator>\n        </item>",
        "<dc:creator>Ann Host</dc:creator><itunes:duration>5</itunes:duration></item>",
      ),
      "fields without a file",
    ],
    ["podcast:transcript:", good.replace('rel="captions"', 'rel="alternate"'), "transcript rel"],
    ["podcast:chapters:", good.replace('type="application/json+chapters"', 'type=""'), "chapters type"],
    ["pubDate:", good.replace(/<pubDate>[^<]+/, "<pubDate>2025-06-03T09:00:00Z"), "ISO date"],
    ["description:", good.replace("Show notes.]]", `${"x".repeat(4001)}]]`), "long description"],
    [
      "length:",
      good.replace("<itunes:author>The Editors<", `<itunes:author>${"a".repeat(256)}<`),
      "long author",
    ],
    ["spaces:", good.replace("<itunes:author>The Editors<", "<itunes:author> The Editors <"), "padded value"],
  ];

  // Named by rule and case; the broken document is the last argument.
  it.each(broken.map(([rule, xml, label]) => [rule, label, xml]))("%s (%s)", (rule, label, xml) => {
    expect(xml, label).not.toBe(good);
    const violations = podcastViolations(xml);
    expect(
      violations.some((v) => v.startsWith(rule)),
      violations.join("\n"),
    ).toBe(true);
  });

  it("an undeclared prefix is refused by the tree reader and flagged by xmllint", () => {
    const unbound = good.replace(/ xmlns:podcast="[^"]+"/, "");
    expect(() => readTree(unbound)).toThrow(/unbound prefix/);
    expect(() => assertNamespacesDeclared(unbound)).toThrow(/Namespace prefix podcast/);
  });
});

describe("readers", () => {
  it("read a podcast feed as they read the same feed without the settings", async () => {
    const withPodcast = await readWithAllReaders(feedXml(POD));
    const without = await readWithAllReaders(feedXml(site(undefined)));
    expect(withPodcast).toEqual(without);
  });

  it("see the itunes: fields: rss-parser, @rowanmanning/feed-parser and Python feedparser", async () => {
    const xml = feedXml(POD);
    const rss = await new RssParser().parseString(xml);
    expect(rss.itunes).toMatchObject({
      image: SHOW.image,
      explicit: "false",
      author: "The Editors",
      owner: SHOW.owner,
      categoriesWithSubs: [
        { name: "News", subs: [{ name: "Daily News" }] },
        { name: "Society & Culture", subs: [{ name: "Documentary" }] },
      ],
    });
    expect(rss.items[2]?.itunes).toMatchObject({
      duration: "754",
      episode: "1",
      season: "1",
      episodeType: "full",
    });
    const rowan = parseFeed(xml);
    expect(rowan.image?.url).toBe(SHOW.image);
    expect(rowan.categories.map((c) => c.term)).toEqual(["News/Daily News", "Society & Culture/Documentary"]);
    expect(rowan.items[0]?.media[0]).toMatchObject({
      url: "https://media.example/second.m4a",
      length: 48213677,
    });
    const python = JSON.parse(
      execFileSync(
        "/usr/bin/python3",
        [
          "-I",
          "-c",
          [
            "import sys,json,feedparser",
            "f=feedparser.parse(sys.stdin.buffer.read())",
            "e=f.entries[2]",
            "print(json.dumps({'bozo':f.bozo,'image':f.feed.image.href,'type':f.feed.itunes_type,",
            "'guid':f.feed.podcast_guid,'tags':[t.term for t in f.feed.tags],'duration':e.itunes_duration,",
            "'episode':e.itunes_episode,'art':e.image.href,'chapters':e.podcast_chapters['url']}))",
          ].join("\n"),
        ],
        { input: xml, encoding: "utf8" },
      ),
    );
    expect(python).toMatchObject({
      bozo: false,
      image: SHOW.image,
      type: "episodic",
      tags: ["News", "Daily News", "Society & Culture", "Documentary"],
      duration: "754",
      episode: "1",
      art: "https://radio.example.org/feeds/media/shows/pilot.png",
      chapters: "https://cdn.example/pilot.json",
    });
  });

  it("documents a reader gap: feedparser 6.0 maps only yes/clean in itunes:explicit, Apple asks for true/false", () => {
    const out = execFileSync(
      "/usr/bin/python3",
      [
        "-I",
        "-c",
        "import sys,feedparser; print(repr(feedparser.parse(sys.stdin.buffer.read()).feed.itunes_explicit))",
      ],
      { input: feedXml(POD), encoding: "utf8" },
    );
    expect(out.trim()).toBe("None");
  });
});

describe("hostile settings and links", () => {
  it("cannot inject markup: every value is escaped and reads back as written", () => {
    const hostile = site({
      ...SHOW,
      author: `</itunes:author><script>x</script> & "Q" ]]>`,
      owner: { name: `Desk <b>&amp;</b> ]]>`, email: "studio@radio.example.org" },
      copyright: "\u0007© <2025> & co",
    });
    const item: FeedItem = {
      ...ITEM,
      episode: {
        ...ITEM.episode,
        transcripts: [{ url: 'https://cdn.example/t.vtt?a="><x>&b=1', type: "text/vtt", language: "en" }],
      },
    };
    const xml = feedXml(hostile, [item]);
    assertWellFormedXml(xml);
    assertNamespacesDeclared(xml);
    expect(podcastViolations(xml)).toEqual([]);
    const { tree } = readTree(xml);
    const channel = tree.children[0];
    const find = (tag: string) => channel?.children.find((c) => c.tag === tag);
    expect(find("{http://www.itunes.com/dtds/podcast-1.0.dtd}author")?.text).toBe(
      `</itunes:author><script>x</script> & "Q" ]]>`,
    );
    expect(find("{http://www.itunes.com/dtds/podcast-1.0.dtd}owner")?.children[0]?.text).toBe(
      "Desk <b>&amp;</b> ]]>",
    );
    expect(find("copyright")?.text).toBe("© <2025> & co");
    const transcript = channel?.children
      .find((c) => c.tag === "item")
      ?.children.find((c) => c.tag === "{https://podcastindex.org/namespace/1.0}transcript");
    expect(transcript?.attrs.url).toBe('https://cdn.example/t.vtt?a="><x>&b=1');
  });
});
