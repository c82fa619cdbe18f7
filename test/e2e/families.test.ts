import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { publishAll } from "../../functions/engine/publish.ts";
import { FsStorage } from "../../functions/storage/fs-storage.ts";
import { assertValidJsonFeed, assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import { build, makeSite, removeSites, SITE_CONFIG, type Site } from "./cli.ts";

// Section feeds (one per folder under content/, to a depth) and language feeds (one per language
// the articles are written in), built by the real CLI and read back by independent readers.

afterAll(removeSites);

const article = (title: string, date: string, extra = "") =>
  `---\ntitle: ${title}\ndate: ${date}\n${extra}---\nThe body of ${title}.\n`;

/** A small multilingual site: English by default, Korean and Japanese articles, three folder levels. */
const FILES: Record<string, string> = {
  "front.md": article("Front page", "2026-11-20"),
  "world/overview.md": article("World overview", "2026-11-19"),
  "world/asia/seoul.md": article("Seoul report", "2026-11-18", "lang: ko\n"),
  "world/asia/tokyo.md": article("Tokyo report", "2026-11-17", "lang: ja\n"),
  "World/Europe/paris.md": article("Paris report", "2026-11-16"),
  "sport/final.md": article("The final", "2026-11-15", "lang: JA\n"),
};

async function feedFolders(site: Site, family: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (folder: string) => {
    const names = await readdir(join(site.out, "feeds", folder), { withFileTypes: true }).catch(() => []);
    for (const entry of names) {
      if (entry.isDirectory()) await walk(`${folder}/${entry.name}`);
      else if (entry.name === "rss.xml") found.push(folder);
    }
  };
  await walk(family);
  return found.sort();
}

const read = (site: Site, path: string) => readFile(join(site.out, "feeds", path), "utf8");

/** The three formats of a feed folder, validated and read back; the item titles by each reader. */
async function readFeed(site: Site, folder: string) {
  const rss = await read(site, `${folder}/rss.xml`);
  const atom = await read(site, `${folder}/atom.xml`);
  const json = await read(site, `${folder}/feed.json`);
  assertWellFormedXml(rss);
  assertWellFormedXml(atom);
  const document = assertValidJsonFeed(json) as {
    language?: string;
    title: string;
    items: { title: string }[];
  };
  const titles = new Set<string>();
  for (const xml of [rss, atom]) {
    const readers = await readWithAllReaders(xml);
    for (const feed of Object.values(readers))
      titles.add(JSON.stringify(feed.items.map((item) => item.title)));
  }
  titles.add(JSON.stringify(document.items.map((item) => item.title)));
  // Every reader of every format sees the same items in the same order.
  expect(titles.size, folder).toBe(1);
  return { rss, atom, json: document, titles: JSON.parse([...titles][0] as string) as string[] };
}

describe("section feeds", () => {
  it("every top-level folder gets its feeds by default, with its own articles, listed on the landing page", async () => {
    const site = await makeSite({ files: FILES });
    const result = await build(site);
    expect(result.code, result.stderr).toBe(0);
    // "World/Europe" and "world/asia" are folders of one section, "world" (slugs ignore case).
    expect(await feedFolders(site, "sections")).toEqual(["sections/sport", "sections/world"]);
    const world = await readFeed(site, "sections/world");
    expect(world.titles).toEqual(["World overview", "Seoul report", "Tokyo report", "Paris report"]);
    expect(world.json.title).toBe("E2E Test Site · Section: world");
    expect((await readFeed(site, "sections/sport")).titles).toEqual(["The final"]);
    const landing = await read(site, "index.html");
    expect(landing).toContain("Section: world");
    expect(landing).toContain('href="sections/world/rss.xml"');
  });

  it("goes as deep as `sectionFeeds: { depth }` says, and is off with `sectionFeeds: false`", async () => {
    const deep = await makeSite({ config: `${SITE_CONFIG}sectionFeeds:\n  depth: 2\n`, files: FILES });
    expect((await build(deep)).code).toBe(0);
    expect(await feedFolders(deep, "sections")).toEqual([
      "sections/sport",
      "sections/world",
      "sections/world/asia",
      "sections/world/europe",
    ]);
    expect((await readFeed(deep, "sections/world/asia")).titles).toEqual(["Seoul report", "Tokyo report"]);

    const off = await makeSite({ config: `${SITE_CONFIG}sectionFeeds: false\n`, files: FILES });
    expect((await build(off)).code).toBe(0);
    expect(await feedFolders(off, "sections")).toEqual([]);
    expect(await read(off, "index.html")).not.toContain("Section:");
  });

  it("refuses a depth it cannot keep bounded, naming the setting", async () => {
    for (const value of ["{ depth: 9 }", "deep", "{ depth: 1, order: 2 }"]) {
      const site = await makeSite({ config: `${SITE_CONFIG}sectionFeeds: ${value}\n`, files: FILES });
      const result = await build(site);
      expect(result.code, value).not.toBe(0);
      expect(result.stderr).toMatch(/sectionFeeds: must be true, false or \{ depth: 0 to 4 \}/);
    }
  });
});

describe("language feeds", () => {
  it("each language other than the site's gets a feed in that language, named on the landing page", async () => {
    const site = await makeSite({ files: FILES });
    expect((await build(site)).code).toBe(0);
    // "JA" and "ja" are one language; English, the site's, has no feed of its own by default.
    expect(await feedFolders(site, "lang")).toEqual(["lang/ja", "lang/ko"]);
    const japanese = await readFeed(site, "lang/ja");
    expect(japanese.titles).toEqual(["Tokyo report", "The final"]);
    // The feed says its language in every format.
    expect(japanese.json.language).toBe("ja");
    expect(japanese.rss).toMatch(/<language>ja<\/language>/);
    const readers = await readWithAllReaders(japanese.atom);
    expect(readers.python.title).toContain("日本語");
    const korean = await readFeed(site, "lang/ko");
    expect(korean.titles).toEqual(["Seoul report"]);
    expect(korean.json.title).toBe("E2E Test Site · Language: 한국어 (Korean)");
    const landing = await read(site, "index.html");
    expect(landing).toContain("Language: 한국어 (Korean)");
    expect(landing).toContain("Language: 日本語 (Japanese)");
  });

  it("`languageFeeds: true` adds the site's own language; `false` makes none", async () => {
    const all = await makeSite({ config: `${SITE_CONFIG}languageFeeds: true\n`, files: FILES });
    expect((await build(all)).code).toBe(0);
    expect(await feedFolders(all, "lang")).toEqual(["lang/en", "lang/ja", "lang/ko"]);
    const english = await readFeed(all, "lang/en");
    expect(english.titles).toEqual(["Front page", "World overview", "Paris report"]);

    const none = await makeSite({ config: `${SITE_CONFIG}languageFeeds: false\n`, files: FILES });
    expect((await build(none)).code).toBe(0);
    expect(await feedFolders(none, "lang")).toEqual([]);
    const wrong = await makeSite({ config: `${SITE_CONFIG}languageFeeds: sometimes\n`, files: FILES });
    expect((await build(wrong)).stderr).toMatch(
      /languageFeeds: must be auto, true or false, got "sometimes"/,
    );
  });
});

describe("what a build says it published", () => {
  it("counts every public article, and says which are in the feed and which on archive pages", async () => {
    const files: Record<string, string> = {};
    // 12 articles in each of five months and 6 in a sixth, all of them over; the feed holds 10.
    for (let month = 5; month <= 10; month++)
      for (let day = 1; day <= (month === 10 ? 6 : 12); day++)
        files[`m${month}/d${day}.md`] = article(
          `M${month} D${day}`,
          `2026-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`,
        );
    files["draft.md"] = article("Draft", "2026-10-01", "draft: true\n");
    files["broken.md"] = "---\ntitle: [unclosed\n---\n";
    const site = await makeSite({ config: SITE_CONFIG.replace("itemLimit: 50", "itemLimit: 10"), files });
    const result = await build(site);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^published 66 of 68 articles \(10 in the feed, 66 in archive pages\), 1 skipped with problems, 1 held back/m,
    );
  });

  it("names the articles of the current month beyond the feed's limit as waiting for their page", async () => {
    const root = await mkdtemp(join(tmpdir(), "feedpub-counts-"));
    const content = new FsStorage(join(root, "content"));
    const output = new FsStorage(join(root, "out"));
    for (let day = 1; day <= 30; day++)
      await content.put(`d${day}.md`, article(`D${day}`, `2026-06-${String(day).padStart(2, "0")}`));
    for (let day = 1; day <= 4; day++)
      await content.put(`may/d${day}.md`, article(`May ${day}`, `2026-05-${String(day).padStart(2, "0")}`));
    const config = parseConfig({ title: "Counts", url: "https://counts.example/", itemLimit: 10 });
    const report = await publishAll({ config, content, output, now: new Date("2026-06-30T12:00:00Z") });
    expect(report).toMatchObject({ articles: 34, published: 34, inFeed: 10, archived: 4, waiting: 20 });
    await rm(root, { recursive: true, force: true });
  });
});
