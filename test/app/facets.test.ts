import { access, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { facetsOf, slugify } from "../../functions/core/facets.ts";
import { applyChanges, publishAll } from "../../functions/engine/publish.ts";
import type { FsStorage } from "../../functions/storage/fs-storage.ts";
import { assertValidJsonFeed, assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import { useTempSite, writeContent } from "../support/temp-site.ts";

const config = parseConfig({
  title: "Site",
  url: "https://example.org/",
  feedsUrl: "https://cdn.example.org/feeds/",
});
const T0 = new Date("2026-01-01T00:00:00Z");
let root: string;
let content: FsStorage;
let output: FsStorage;

useTempSite("feedpub-facets-", (site) => {
  ({ root, content, output } = site);
});

const write = (path: string, body: string | Buffer) => writeContent(root, path, body);
const post = (title: string, date: string, extra = "") =>
  `---\ntitle: ${JSON.stringify(title)}\ndate: ${date}\n${extra}---\nAbout ${title}.\n`;
const text = (key: string) => readFile(join(root, "out", key), "utf8");
const exists = (key: string) =>
  access(join(root, "out", key)).then(
    () => true,
    () => false,
  );
const titles = async (folder: string) =>
  (JSON.parse(await text(`feeds/${folder}feed.json`)) as { items: { title: string }[] }).items.map(
    (i) => i.title,
  );

describe("slugs of tag and author feeds", () => {
  it("are lower case, without accents or punctuation, in any script, never a path", () => {
    expect(slugify("Arts & Culture")).toBe("arts-culture");
    expect(slugify("Café")).toBe("cafe");
    expect(slugify("  North  Korea ")).toBe("north-korea");
    expect(slugify("日本語")).toBe("日本語");
    expect(slugify("../../etc/passwd")).toBe("etc-passwd");
    expect(slugify("🙂")).toMatch(/^x[0-9a-f]{8}$/);
    expect(slugify("🙂")).not.toBe(slugify("🙃"));
    expect(slugify("a".repeat(200))).toHaveLength(60);
    // Variants of one tag share a feed; an author of the same name has a feed of their own.
    expect(facetsOf(["Tech", "tech", "TECH"], ["Tech"]).map((f) => f.key)).toEqual([
      "tags/tech",
      "authors/tech",
    ]);
  });
});

describe("tag and author feeds", () => {
  it("a build writes one feed in each format per tag and per named author, with only their articles", async () => {
    await write("a.md", post("Alpha", "2025-01-01", "tags: [News, Korea]\nauthor: Jane Doe\n"));
    await write("b.md", post("Beta", "2025-01-02", "tags: [news]\n"));
    await write("c.md", post("Gamma", "2025-01-03", "author: Jane Doe\n"));
    await write("d.md", post("Delta", "2025-01-04"));
    await write("e.md", post("Draft", "2025-01-05", "tags: [secret]\ndraft: true\n"));
    await publishAll({ config, content, output, now: T0 });

    expect(await titles("")).toEqual(["Delta", "Gamma", "Beta", "Alpha"]);
    expect(await titles("tags/news/")).toEqual(["Beta", "Alpha"]);
    expect(await titles("tags/korea/")).toEqual(["Alpha"]);
    expect(await titles("authors/jane-doe/")).toEqual(["Gamma", "Alpha"]);
    // A draft's tags make no feed (and so reveal nothing).
    expect(await exists("feeds/tags/secret/feed.json")).toBe(false);

    const rss = await text("feeds/tags/news/rss.xml");
    const atom = await text("feeds/tags/news/atom.xml");
    assertWellFormedXml(rss);
    assertWellFormedXml(atom);
    for (const read of [
      ...Object.values(await readWithAllReaders(rss)),
      ...Object.values(await readWithAllReaders(atom)),
    ]) {
      // Spelled as the newest article spells it.
      expect(read.title).toBe("Site · Tag: news");
      expect(read.items.map((item) => item.title)).toEqual(["Beta", "Alpha"]);
    }
    const json = assertValidJsonFeed(await text("feeds/tags/news/feed.json"));
    expect(json.feed_url).toBe("https://cdn.example.org/feeds/tags/news/feed.json");
    expect(rss).toContain('<atom:link href="https://cdn.example.org/feeds/tags/news/rss.xml" rel="self"');
    expect(rss).toContain('<?xml-stylesheet type="text/xsl" href="../../rss.xsl"?>');

    // The landing page lists every feed for autodiscovery.
    const landing = await text("feeds/index.html");
    for (const folder of ["", "tags/news/", "tags/korea/", "authors/jane-doe/"])
      for (const file of ["rss.xml", "atom.xml", "feed.json"])
        expect(landing).toContain(`href="https://cdn.example.org/feeds/${folder}${file}">`);
    expect(landing).toContain("Tag: news");
    expect(landing).toContain("Author: Jane Doe");
  });

  it("renaming or removing a tag on upload updates its feeds, and a tag nobody uses any more goes", async () => {
    await write("a.md", post("Alpha", "2025-01-01", "tags: [news]\n"));
    await write("b.md", post("Beta", "2025-01-02", "tags: [news]\n"));
    await publishAll({ config, content, output, now: T0 });
    expect(await titles("tags/news/")).toEqual(["Beta", "Alpha"]);

    // Renamed on one article: it leaves "news" and makes "world".
    await write("b.md", post("Beta", "2025-01-02", "tags: [world]\n"));
    const renamed = await applyChanges({ config, content, output, keys: ["b.md"], now: T0 });
    expect(await titles("tags/news/")).toEqual(["Alpha"]);
    expect(await titles("tags/world/")).toEqual(["Beta"]);
    expect(renamed.written).toEqual(
      expect.arrayContaining(["feeds/tags/world/rss.xml", "feeds/tags/news/atom.xml"]),
    );
    expect(await text("feeds/index.html")).toContain("Tag: world");

    // Removed from the last article that had it: the tag's feeds go, and leave the landing page.
    await write("a.md", post("Alpha", "2025-01-01"));
    const removed = await applyChanges({ config, content, output, keys: ["a.md"], now: T0 });
    for (const file of ["rss.xml", "atom.xml", "feed.json"]) {
      expect(await exists(`feeds/tags/news/${file}`), file).toBe(false);
      expect(removed.written).toContain(`feeds/tags/news/${file}`);
    }
    expect(await text("feeds/index.html")).not.toContain("Tag: news");
    // An untagged edit touches no tag feed at all.
    await write("a.md", post("Alpha, edited", "2025-01-01"));
    const plain = await applyChanges({ config, content, output, keys: ["a.md"], now: T0 });
    expect(plain.written.filter((key) => key.startsWith("feeds/tags/"))).toEqual([]);
    // And deleting the last article of a tag removes it the same way.
    await rm(join(root, "content/b.md"));
    await applyChanges({ config, content, output, keys: ["b.md"], now: T0 });
    expect(await exists("feeds/tags/world/feed.json")).toBe(false);
  });
});
