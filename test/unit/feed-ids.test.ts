import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { feedId } from "../../functions/core/feed-id.ts";
import { publishAll } from "../../functions/engine/publish.ts";
import type { FsStorage } from "../../functions/storage/fs-storage.ts";
import { assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import { ATOM_FEED, filesNamed, readWithPython, xpath } from "../support/feed-xml.ts";
import { useTempSite, writeContent } from "../support/temp-site.ts";

const SETTINGS = {
  title: "Ids",
  url: "https://ids.example/",
  feedsUrl: "https://cdn.ids.example/feeds/",
  itemLimit: 3,
  languageFeeds: true,
};
const NOW = new Date("2025-04-10T12:00:00Z");
let root: string;
let content: FsStorage;
let output: FsStorage;

useTempSite("feedpub-ids-", (site) => {
  ({ root, content, output } = site);
});

const post = (title: string, date: string, extra = "") =>
  `---\ntitle: ${title}\ndate: ${date}\n${extra}---\nText of ${title}.\n`;

/** Two closed months (two archive pages), two tags, two authors, two sections, two languages. */
async function writeSite(): Promise<void> {
  const files: Record<string, string> = {
    "news/j1.md": post("Jan 1", "2025-01-05T10:00:00Z", "tags: [News]\nauthor: Ann\n"),
    "news/j2.md": post("Jan 2", "2025-01-20T10:00:00Z", "tags: [Sport]\nauthor: Bob\nlang: ko\n"),
    "arts/f1.md": post("Feb 1", "2025-02-02T10:00:00Z", "tags: [News]\n"),
    "arts/a1.md": post("Apr 1", "2025-04-01T10:00:00Z", "author: Ann\n"),
    "a2.md": post("Apr 2", "2025-04-09T10:00:00Z", "tags: [Sport]\nlang: ko\n"),
  };
  for (const [path, body] of Object.entries(files)) await writeContent(root, path, body);
}

/**
 * Each Atom document of the built site by its folder under feeds/, and its id. With `readers`,
 * every document is also parsed by the three readers and Python feedparser must read the same id.
 */
async function atomIds(
  readers = false,
): Promise<Map<string, { id: string; archive: boolean; current: string }>> {
  const feeds = join(root, "out", "feeds");
  const ids = new Map<string, { id: string; archive: boolean; current: string }>();
  for (const file of await filesNamed(feeds, "atom.xml")) {
    const xml = await readFile(join(feeds, file), "utf8");
    assertWellFormedXml(xml);
    const id = xpath(xml, `string(${ATOM_FEED}/*[local-name()='id'])`);
    if (readers) {
      await readWithAllReaders(xml);
      // Python feedparser reads the same id: the one readers key the feed by.
      expect(readWithPython(xml).feedId, file).toBe(id);
    }
    ids.set(file.slice(0, -"atom.xml".length), {
      id,
      archive: xpath(xml, `count(${ATOM_FEED}/*[local-name()='archive'])`) === "1",
      current: xpath(xml, `string(${ATOM_FEED}/*[local-name()='link'][@rel='current']/@href)`),
    });
  }
  return ids;
}

describe("feedId", () => {
  it("keeps the site URL for the main feed and gives any other folder a name-based UUID", () => {
    const config = { url: "https://ids.example/" };
    expect(feedId(config, "")).toBe("https://ids.example/");
    const folders = [
      "tags/news/",
      "authors/ann/",
      "sections/a/b/",
      "lang/ko/",
      "archive/2025-01/",
      "tags/ünï code/",
    ];
    for (const folder of folders) {
      const id = feedId(config, folder);
      // RFC 9562 version 5 (SHA-1, name-based), variant 10xx.
      expect(id).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      // The same as Python's own uuid5 of the URL namespace: an independent implementation.
      const python = spawnSync(
        "/usr/bin/python3",
        ["-I", "-c", "import sys,uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, sys.stdin.read()).urn)"],
        { input: `https://ids.example/#${folder}`, encoding: "utf8" },
      );
      expect(id).toBe(python.stdout.trim());
    }
    expect(new Set(folders.map((folder) => feedId(config, folder))).size).toBe(folders.length);
    // Only the site URL and the folder count: another site's feed of the same folder differs.
    expect(feedId({ url: "https://other.example/" }, "tags/news/")).not.toBe(feedId(config, "tags/news/"));
  });
});

describe("Atom feed ids in a built site", () => {
  it("every feed has its own id; archive pages carry the id of the feed they archive (RFC 5005)", async () => {
    await writeSite();
    await publishAll({ config: parseConfig(SETTINGS), content, output, now: NOW });
    const ids = await atomIds(true);

    // Every family is there: the main feed, tags, authors, sections, languages, archive pages.
    const folders = [...ids.keys()];
    for (const family of ["tags/", "authors/", "sections/", "lang/", "archive/"])
      expect(folders.filter((folder) => folder.startsWith(family)).length, family).toBeGreaterThanOrEqual(2);

    // The main feed keeps the id it always had, so its subscribers see no new feed.
    expect(ids.get("")?.id).toBe("https://ids.example/");
    const feedsOnly = [...ids].filter(([, doc]) => !doc.archive);
    expect(new Set(feedsOnly.map(([, doc]) => doc.id)).size).toBe(feedsOnly.length);
    // An archive document is a part of the logical feed it links to as `current`: same atom:id.
    const pages = [...ids].filter(([, doc]) => doc.archive);
    expect(pages.map(([folder]) => folder)).toEqual(["archive/2025-01/", "archive/2025-02/"]);
    for (const [, page] of pages) {
      expect(page.current).toBe("https://cdn.ids.example/feeds/atom.xml");
      expect(page.id).toBe(ids.get("")?.id);
    }
  });

  it("ids stay the same across a rebuild and a new title or feedsUrl; a new site URL changes them", async () => {
    await writeSite();
    await publishAll({ config: parseConfig(SETTINGS), content, output, now: NOW });
    const before = await atomIds();

    // Nothing changed: a rebuild.
    await publishAll({
      config: parseConfig(SETTINGS),
      content,
      output,
      now: new Date(NOW.getTime() + 60_000),
    });
    expect(await atomIds()).toEqual(before);

    // New settings but the same site URL: every item is rendered again, every id stays.
    const renamed = {
      ...SETTINGS,
      title: "Ids, renamed",
      feedsUrl: "https://feeds.ids.example/x/",
      itemLimit: 2,
    };
    await publishAll({ config: parseConfig(renamed), content, output, now: NOW });
    const after = await atomIds();
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [folder, doc] of after) expect(doc.id, folder).toBe(before.get(folder)?.id);
    const title = xpath(
      await readFile(join(root, "out", "feeds", "atom.xml"), "utf8"),
      `string(${ATOM_FEED}/*[local-name()='title'])`,
    );
    expect(title).toBe("Ids, renamed");

    // The site URL is what the ids are made of.
    await publishAll({
      config: parseConfig({ ...SETTINGS, url: "https://moved.example/" }),
      content,
      output,
      now: NOW,
    });
    for (const [folder, doc] of await atomIds()) expect(doc.id, folder).not.toBe(before.get(folder)?.id);
  });
});
