import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AllReaders,
  assertValidJsonFeed,
  assertWellFormedXml,
  type ReadItem,
  readWithAllReaders,
} from "../helpers/feed-check.ts";
import { catalogPaths } from "../support/state.ts";
import { build, makeSite, REPO, removeSites, type Site } from "./cli.ts";

const SEED = "000_4dbd7126f40f73dd.txt";
/** SHA-256 of the seed article as committed: the copy under test must be byte-for-byte this file. */
const SEED_SHA256 = "339aaf6e0d4be3e16f55ca61b561ceb66bff581f6828960c3ac8bd17ad1db2cc";
const SEED_TITLE = "N. Koreans criticize government calls for “self-reliance”";
const FEEDS = ["rss.xml", "atom.xml", "feed.json"] as const;

/** Plain text of an HTML fragment: tags dropped, the entities readers produce decoded, spaces collapsed. */
function plain(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

/** The text of each <p> element, in order. */
function paragraphs(html: string): string[] {
  return [...html.matchAll(/<p(?:\s[^>]*)?>([\s\S]*?)<\/p>/g)].map((m) => plain(m[1] ?? ""));
}

/** The seed's paragraphs as a reader should see them: blocks after the title line, split on blank lines. */
function seedParagraphs(text: string): string[] {
  const body = text.slice(text.indexOf("\n") + 1);
  return body
    .split(/\n\s*\n/)
    .map((block) => block.replace(/\s+/g, " ").trim())
    .filter(Boolean);
}

function itemTitled(items: readonly ReadItem[], title: string): ReadItem {
  const item = items.find((i) => i.title === title);
  if (!item) throw new Error(`no item titled ${JSON.stringify(title)}; got ${items.map((i) => i.title)}`);
  return item;
}

describe("feedpub build on a copy of the repository's content/", () => {
  let site: Site;
  let first: Awaited<ReturnType<typeof build>>;
  let seedText: string;
  const feeds: Record<string, string> = {};

  beforeAll(async () => {
    site = await makeSite({ copyContentFrom: join(REPO, "content") });
    const seedBytes = await readFile(join(site.content, SEED));
    // The fixture is the committed seed, unchanged: same bytes as the repository's copy and its known hash.
    expect(seedBytes.equals(await readFile(join(REPO, "content", SEED)))).toBe(true);
    expect(createHash("sha256").update(seedBytes).digest("hex")).toBe(SEED_SHA256);
    seedText = seedBytes.toString("utf8");
    first = await build(site);
    for (const name of FEEDS) feeds[name] = await readFile(join(site.out, "feeds", name), "utf8");
  });

  afterAll(removeSites);

  it("exits 0, reports what it published and writes the three feeds and the private state", async () => {
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^published 4 of 5 articles, 1 held back \(draft or scheduled\)/m);
    expect(first.stdout).toContain("updated rss.xml, atom.xml, feed.json");
    // The catalog keeps one row per article, its path first.
    expect(await catalogPaths(site.out)).toContain(SEED);
  });

  it("writes well-formed RSS and Atom and a valid JSON Feed 1.1", () => {
    assertWellFormedXml(feeds["rss.xml"] ?? "");
    assertWellFormedXml(feeds["atom.xml"] ?? "");
    assertValidJsonFeed(feeds["feed.json"] ?? "");
    expect(feeds["rss.xml"]).toMatch(/<rss version="2\.0"/);
    expect(feeds["atom.xml"]).toMatch(/<feed xmlns="http:\/\/www\.w3\.org\/2005\/Atom"/);
  });

  describe.each(["rss.xml", "atom.xml"] as const)(
    "%s read back by rss-parser, feed-parser and feedparser",
    (name) => {
      let readers: AllReaders;
      beforeAll(async () => {
        readers = await readWithAllReaders(feeds[name] ?? "");
      });

      it.each(["rssParser", "rowan", "python"] as const)(
        "%s sees the seed with all its paragraphs",
        (reader) => {
          const feed = readers[reader];
          expect(feed.title).toBe("E2E Test Site");
          const seed = itemTitled(feed.items, SEED_TITLE);
          const expected = seedParagraphs(seedText);
          expect(expected).toHaveLength(20);
          expect(paragraphs(seed.content ?? "")).toEqual(expected);
          expect(seed.link).toBe("https://e2e.example.org/000_4dbd7126f40f73dd/");
        },
      );

      it.each(["rssParser", "rowan", "python"] as const)(
        "%s sees the Markdown samples and no draft",
        (reader) => {
          const items = readers[reader].items;
          expect(items.map((i) => i.title).sort()).toEqual(
            [
              SEED_TITLE,
              "Border towns: a week on the road",
              "Corrections policy",
              "Welcome to the newsroom feed",
            ].sort(),
          );
          const welcome = itemTitled(items, "Welcome to the newsroom feed");
          expect(welcome.content).toContain("<strong>in full</strong>");
          expect(welcome.content).toContain('href="https://e2e.example.org/feeds/rss.xml"');
          expect(welcome.link).toBe("https://e2e.example.org/posts/welcome/");
          const trip = itemTitled(items, "Border towns: a week on the road");
          expect(trip.content).toContain('src="https://e2e.example.org/posts/road-trip/market.jpg"');
          expect(trip.content).toContain("Prices doubled in a month.");
          expect(trip.content).not.toContain("<!--");
          expect(trip.authors).toEqual(["Min-ji Park", "Tom Reyes"]);
          const corrections = itemTitled(items, "Corrections policy");
          expect(corrections.link).toBe("https://e2e.example.org/notes/corrections/");
          for (const item of items) {
            expect(item.title).not.toMatch(/Interview/);
            expect(item.content ?? "").not.toContain("Not published yet.");
          }
        },
      );
    },
  );

  it("the JSON Feed carries the same items, the seed's paragraphs and no draft", () => {
    const json = JSON.parse(feeds["feed.json"] ?? "") as {
      items: { title: string; content_html: string }[];
    };
    expect(json.items.map((i) => i.title).sort()).toEqual(
      [
        SEED_TITLE,
        "Border towns: a week on the road",
        "Corrections policy",
        "Welcome to the newsroom feed",
      ].sort(),
    );
    const seed = json.items.find((i) => i.title === SEED_TITLE);
    expect(paragraphs(seed?.content_html ?? "")).toEqual(seedParagraphs(seedText));
    expect(feeds["feed.json"]).not.toContain("Not published yet.");
  });

  it("a second build more than a second later leaves every feed byte-identical and untouched", async () => {
    const before = await Promise.all(FEEDS.map((name) => stat(join(site.out, "feeds", name))));
    const stateBefore = await stat(join(site.out, "_state", "index.json"));
    // Long enough that a rewrite would show in the mtime even on one-second-resolution file systems.
    await new Promise((r) => setTimeout(r, 1_100));
    for (let run = 0; run < 3; run++) {
      const again = await build(site);
      expect(again.code).toBe(0);
      expect(again.stderr).toBe("");
      expect(again.stdout).toMatch(/\(unchanged\)\n$/);
      for (const [index, name] of FEEDS.entries()) {
        const path = join(site.out, "feeds", name);
        expect(await readFile(path, "utf8"), name).toBe(feeds[name]);
        const after = await stat(path);
        expect(after.mtimeMs, `${name} mtime`).toBe(before[index]?.mtimeMs);
        expect(after.ino, `${name} inode (not replaced)`).toBe(before[index]?.ino);
      }
      expect((await stat(join(site.out, "_state", "index.json"))).mtimeMs).toBe(stateBefore.mtimeMs);
    }
  });
});

describe("feedpub build on many articles in many folders", () => {
  afterAll(removeSites);

  it("writes the private state in a stable order, so an unchanged rebuild rewrites nothing", async () => {
    const files: Record<string, string> = {};
    for (let folder = 0; folder < 20; folder++)
      for (let n = 0; n < 4; n++)
        files[`section-${folder}/article-${n}.md`] =
          `---\ntitle: Article ${folder}.${n}\ndate: 2024-01-${String(n + 1).padStart(2, "0")}\n---\nBody ${"text ".repeat(200 * (n + 1))}\n`;
    const site = await makeSite({ files });
    expect((await build(site)).code).toBe(0);
    const shards = (await readdir(join(site.out, "_state/catalog"))).map((name) => `_state/catalog/${name}`);
    const paths = ["_state/index.json", ...shards, ...FEEDS.map((name) => `feeds/${name}`)].map((p) =>
      join(site.out, p),
    );
    const before = await Promise.all(
      paths.map(async (p) => ({ bytes: await readFile(p), mtime: (await stat(p)).mtimeMs })),
    );
    for (let run = 0; run < 3; run++) {
      const again = await build(site);
      expect(again.code).toBe(0);
      for (const [index, path] of paths.entries()) {
        expect((await readFile(path)).equals(before[index]?.bytes ?? Buffer.alloc(0)), path).toBe(true);
        expect((await stat(path)).mtimeMs, path).toBe(before[index]?.mtime);
      }
    }
    expect(await catalogPaths(site.out)).toHaveLength(80);
    // Nothing else piles up in the state folder either.
    expect((await readdir(join(site.out, "_state/catalog"))).sort()).toEqual(
      shards.map((s) => s.slice(15)).sort(),
    );
  });
});
