import { execFileSync } from "node:child_process";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { monthEnd, monthOf } from "../../functions/core/archive.ts";
import { parseConfig } from "../../functions/core/config.ts";
import { applyChanges, publishAll } from "../../functions/engine/publish.ts";
import type { FsStorage } from "../../functions/storage/fs-storage.ts";
import { assertValidJsonFeed, assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import { useTempSite, writeContent } from "../support/temp-site.ts";

// The feed shows the newest 3; every month that is over has its page.
const config = parseConfig({
  title: "Arch",
  url: "https://arch.example/",
  feedsUrl: "https://cdn.arch.example/feeds/",
  itemLimit: 3,
});
const FEEDS = "https://cdn.arch.example/feeds/";
const NOW = new Date("2025-04-10T12:00:00Z");
const minutesLater = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
let root: string;
let content: FsStorage;
let output: FsStorage;

useTempSite("feedpub-archive-", (site) => {
  ({ root, content, output } = site);
});

const write = (path: string, body: string | Buffer) => writeContent(root, path, body);
const post = (title: string, date: string) => `---\ntitle: ${title}\ndate: ${date}\n---\nText of ${title}.\n`;
const text = (key: string) => readFile(join(root, "out", key), "utf8");
const exists = (key: string) =>
  stat(join(root, "out", key)).then(
    () => true,
    () => false,
  );
const json = async (key: string) =>
  assertValidJsonFeed(await text(key)) as { title: string; items: { title: string }[]; next_url?: string };
const titlesOf = async (key: string) => (await json(key)).items.map((item) => item.title);
const pageFiles = (month: string) =>
  ["rss.xml", "atom.xml", "feed.json"].map((f) => `feeds/archive/${month}/${f}`);
const mtime = async (key: string) => (await stat(join(root, "out", key))).mtimeMs;

/** The feed-level links Debian's python3-feedparser finds in a document, as "rel href". */
const pythonLinks = (xml: string): string[] =>
  JSON.parse(
    execFileSync(
      "/usr/bin/python3",
      [
        "-c",
        "import sys,json,feedparser; f=feedparser.parse(sys.stdin.read()); print(json.dumps(sorted(l.get('rel','')+' '+l.get('href','') for l in f.feed.get('links',[]))))",
      ],
      { input: xml, encoding: "utf8" },
    ),
  ) as string[];

/** January: 2 articles, February: 3, April (the current month): 2. */
async function site() {
  await write("j1.md", post("Jan 1", "2025-01-05T10:00:00Z"));
  await write("j2.md", post("Jan 2", "2025-01-20T10:00:00Z"));
  await write("f1.md", post("Feb 1", "2025-02-02T10:00:00Z"));
  await write("f2.md", post("Feb 2", "2025-02-14T10:00:00Z"));
  await write("f3.md", post("Feb 3", "2025-02-27T10:00:00Z"));
  await write("a1.md", post("Apr 1", "2025-04-01T10:00:00Z"));
  await write("a2.md", post("Apr 2", "2025-04-09T10:00:00Z"));
  await publishAll({ config, content, output, now: NOW });
}

describe("month helpers", () => {
  it("name UTC months and their ends, across years", () => {
    expect(monthOf(Date.UTC(2024, 11, 31, 23, 59, 59))).toBe("2024-12");
    expect(monthOf(Date.UTC(2025, 0, 1))).toBe("2025-01");
    expect(monthEnd("2024-12")).toBe(Date.UTC(2025, 0, 1));
    expect(monthEnd("2024-02")).toBe(Date.UTC(2024, 2, 1));
  });
});

describe("RFC 5005 archives and JSON Feed paging, one page per month", () => {
  it("the feed keeps the newest items; every month that is over has a page of all its articles", async () => {
    await site();
    expect(await titlesOf("feeds/feed.json")).toEqual(["Apr 2", "Apr 1", "Feb 3"]);
    expect(await titlesOf("feeds/archive/2025-02/feed.json")).toEqual(["Feb 3", "Feb 2", "Feb 1"]);
    expect(await titlesOf("feeds/archive/2025-01/feed.json")).toEqual(["Jan 2", "Jan 1"]);
    // No page for a month without articles, nor for the current one.
    expect(await exists("feeds/archive/2025-03/feed.json")).toBe(false);
    expect(await exists("feeds/archive/2025-04/feed.json")).toBe(false);

    // The subscription documents point at the newest page; pages at the feed and the page before.
    const rss = await text("feeds/rss.xml");
    const atom = await text("feeds/atom.xml");
    expect(pythonLinks(rss)).toContain(`prev-archive ${FEEDS}archive/2025-02/rss.xml`);
    expect(pythonLinks(atom)).toContain(`prev-archive ${FEEDS}archive/2025-02/atom.xml`);
    expect(rss).not.toContain("fh:archive");
    const febAtom = await text("feeds/archive/2025-02/atom.xml");
    expect(febAtom).toContain('<fh:archive xmlns:fh="http://purl.org/syndication/history/1.0"/>');
    expect(pythonLinks(febAtom)).toEqual(
      expect.arrayContaining([
        `current ${FEEDS}atom.xml`,
        `prev-archive ${FEEDS}archive/2025-01/atom.xml`,
        `self ${FEEDS}archive/2025-02/atom.xml`,
      ]),
    );
    const janRss = await text("feeds/archive/2025-01/rss.xml");
    expect(pythonLinks(janRss)).toContain(`current ${FEEDS}rss.xml`);
    expect(pythonLinks(janRss).filter((link) => link.startsWith("prev-archive"))).toEqual([]);
    // Every page is well-formed and every reader finds all its items.
    for (const month of ["2025-01", "2025-02"]) {
      for (const key of pageFiles(month).filter((k) => k.endsWith(".xml"))) {
        const xml = await text(key);
        assertWellFormedXml(xml);
        const expected = month === "2025-01" ? 2 : 3;
        for (const [reader, read] of Object.entries(await readWithAllReaders(xml)))
          expect(read.items, `${reader} ${key}`).toHaveLength(expected);
      }
      expect((await json(`feeds/archive/${month}/feed.json`)).title).toBe(`Arch · Archive ${month}`);
    }

    // Pages carry the summary, not the full text (a busy month's page stays small), and say so:
    // JSON Feed's required content is the summary as plain text, never content_html.
    await write(
      "f2.md",
      "---\ntitle: Feb 2\ndate: 2025-02-14T10:00:00Z\nsummary: Short.\n---\nThe **whole** text.\n",
    );
    await publishAll({ config, content, output, now: NOW });
    const feb = assertValidJsonFeed(await text("feeds/archive/2025-02/feed.json")) as {
      items: { title: string; content_html?: string; content_text?: string; summary: string; url: string }[];
    };
    const feb2 = feb.items.find((item) => item.title === "Feb 2");
    expect(feb2?.content_html).toBeUndefined();
    expect(feb2).toMatchObject({
      content_text: "Short.",
      summary: "Short.",
      url: "https://arch.example/f2/",
    });
    expect(await text("feeds/archive/2025-02/rss.xml")).not.toContain("whole");

    // JSON Feed: following next_url from the feed reaches every article.
    const visited: string[] = [];
    const seen = new Set<string>();
    for (let key: string | undefined = "feeds/feed.json"; key; ) {
      visited.push(key);
      const page = await json(key);
      for (const item of page.items) seen.add(item.title);
      key = page.next_url ? `feeds/${page.next_url.slice(FEEDS.length)}` : undefined;
    }
    expect(visited).toEqual([
      "feeds/feed.json",
      "feeds/archive/2025-02/feed.json",
      "feeds/archive/2025-01/feed.json",
    ]);
    expect([...seen].sort()).toEqual(["Apr 1", "Apr 2", "Feb 1", "Feb 2", "Feb 3", "Jan 1", "Jan 2"]);
  });

  it("a new article changes no page: pages of the past keep their bytes and their times", async () => {
    await site();
    const before = new Map<string, [string, number]>();
    for (const key of [...pageFiles("2025-01"), ...pageFiles("2025-02")])
      before.set(key, [await text(key), await mtime(key)]);
    await new Promise((done) => setTimeout(done, 20));
    await write("a3.md", post("Apr 3", "2025-04-10T11:00:00Z"));
    const report = await applyChanges({ config, content, output, keys: ["a3.md"], now: minutesLater(1) });
    expect(report.written.filter((key) => key.includes("/archive/"))).toEqual([]);
    for (const [key, [body, time]] of before) {
      expect(await text(key), key).toBe(body);
      expect(await mtime(key), key).toBe(time);
    }
    expect(await titlesOf("feeds/feed.json")).toEqual(["Apr 3", "Apr 2", "Apr 1"]);
  });

  it("an edit or a backdated upload rewrites only its own month's page (and relinks the next one)", async () => {
    await site();
    await write("j1.md", post("Jan 1, corrected", "2025-01-05T10:00:00Z"));
    const edit = await applyChanges({ config, content, output, keys: ["j1.md"], now: minutesLater(1) });
    expect(edit.written.filter((key) => key.startsWith("feeds/")).sort()).toEqual(
      pageFiles("2025-01").sort(),
    );
    expect(await titlesOf("feeds/archive/2025-01/feed.json")).toEqual(["Jan 2", "Jan 1, corrected"]);

    // A backdated article for March: a new page. Pages link backwards, so March's links to
    // February's, the feed links to March's, and February's page is left alone.
    const febBefore = await text("feeds/archive/2025-02/atom.xml");
    await write("m1.md", post("Mar 1", "2025-03-03T10:00:00Z"));
    const backdated = await applyChanges({ config, content, output, keys: ["m1.md"], now: minutesLater(2) });
    expect(backdated.written).toEqual(expect.arrayContaining(pageFiles("2025-03")));
    expect(backdated.written.filter((key) => key.includes("2025-02") || key.includes("2025-01"))).toEqual([]);
    expect(await text("feeds/archive/2025-02/atom.xml")).toBe(febBefore);
    expect((await json("feeds/archive/2025-03/feed.json")).next_url).toBe(
      `${FEEDS}archive/2025-02/feed.json`,
    );
    expect((await json("feeds/feed.json")).next_url).toBe(`${FEEDS}archive/2025-03/feed.json`);

    // An article for December: a page before January's appears, so January's page, whose articles
    // did not change, links to it and is rewritten; February's and March's are not.
    await write("d1.md", post("Dec 1", "2024-12-24T10:00:00Z"));
    const older = await applyChanges({ config, content, output, keys: ["d1.md"], now: minutesLater(3) });
    expect(older.written.filter((key) => key.includes("/archive/")).sort()).toEqual(
      [...pageFiles("2024-12"), ...pageFiles("2025-01")].sort(),
    );
    expect((await json("feeds/archive/2025-01/feed.json")).next_url).toBe(
      `${FEEDS}archive/2024-12/feed.json`,
    );
    expect(await titlesOf("feeds/archive/2024-12/feed.json")).toEqual(["Dec 1"]);
    expect(await titlesOf("feeds/archive/2025-01/feed.json")).toEqual(["Jan 2", "Jan 1, corrected"]);

    // A full rebuild finds every file as the incremental runs left it.
    const rebuild = await publishAll({ config, content, output, now: minutesLater(4) });
    expect(rebuild.written.filter((key) => key.startsWith("feeds/"))).toEqual([]);
  });

  it("a month whose articles are all gone loses its page; the page after it links further back", async () => {
    await site();
    await write("d1.md", post("Dec 1", "2024-12-24T10:00:00Z"));
    await applyChanges({ config, content, output, keys: ["d1.md"], now: minutesLater(1) });
    expect((await json("feeds/archive/2025-01/feed.json")).next_url).toBe(
      `${FEEDS}archive/2024-12/feed.json`,
    );
    const febBefore = await text("feeds/archive/2025-02/feed.json");
    // January's articles go: its page goes, and February's page, whose articles did not change,
    // now links to December's.
    await rm(join(root, "content/j1.md"));
    await rm(join(root, "content/j2.md"));
    const january = await applyChanges({
      config,
      content,
      output,
      keys: ["j1.md", "j2.md"],
      now: minutesLater(2),
    });
    expect(january.written.filter((key) => key.includes("/archive/")).sort()).toEqual(
      [...pageFiles("2025-01"), ...pageFiles("2025-02")].sort(),
    );
    expect(await exists("feeds/archive/2025-01/feed.json")).toBe(false);
    expect((await json("feeds/archive/2025-02/feed.json")).next_url).toBe(
      `${FEEDS}archive/2024-12/feed.json`,
    );
    expect(await titlesOf("feeds/archive/2025-02/feed.json")).toEqual(
      JSON.parse(febBefore).items.map((i: { title: string }) => i.title),
    );
    expect(pythonLinks(await text("feeds/archive/2025-02/rss.xml"))).toContain(
      `prev-archive ${FEEDS}archive/2024-12/rss.xml`,
    );
    // February's go: the feed links to December's page.
    for (const name of ["f1.md", "f2.md", "f3.md"]) await rm(join(root, "content", name));
    await applyChanges({ config, content, output, keys: ["f1.md", "f2.md", "f3.md"], now: minutesLater(3) });
    expect(await exists("feeds/archive/2025-02/feed.json")).toBe(false);
    expect((await json("feeds/feed.json")).next_url).toBe(`${FEEDS}archive/2024-12/feed.json`);
    expect(pythonLinks(await text("feeds/rss.xml"))).toContain(
      `prev-archive ${FEEDS}archive/2024-12/rss.xml`,
    );
    // And December's: no page is left, and the feed has no archive link.
    await rm(join(root, "content/d1.md"));
    await applyChanges({ config, content, output, keys: ["d1.md"], now: minutesLater(4) });
    expect((await json("feeds/feed.json")).next_url).toBeUndefined();
    expect(
      pythonLinks(await text("feeds/rss.xml")).filter((link) => link.startsWith("prev-archive")),
    ).toEqual([]);
    const rebuild = await publishAll({ config, content, output, now: minutesLater(5) });
    expect(rebuild.written.filter((key) => key.startsWith("feeds/"))).toEqual([]);
  });

  it("a full rebuild removes the page of a month whose articles went without an event", async () => {
    await site();
    // Missed events: February's articles are gone, and only the daily rebuild finds out.
    for (const name of ["f1.md", "f2.md", "f3.md"]) await rm(join(root, "content", name));
    const rebuild = await publishAll({ config, content, output, now: minutesLater(1) });
    expect(rebuild.written).toEqual(expect.arrayContaining(pageFiles("2025-02")));
    expect(await exists("feeds/archive/2025-02/feed.json")).toBe(false);
    expect((await json("feeds/feed.json")).next_url).toBe(`${FEEDS}archive/2025-01/feed.json`);
    expect(
      Object.keys(
        (JSON.parse(await text("_state/index.json")) as { archive: { pages: object } }).archive.pages,
      ),
    ).toEqual(["2025-01"]);
  });

  it("when a month ends, its page appears without an upload (the scheduled check)", async () => {
    await site();
    // The local server sleeps until the next change: the end of the month at the latest.
    expect((await publishAll({ config, content, output, now: NOW })).nextChange).toEqual(
      new Date("2025-05-01T00:00:00Z"),
    );
    const may = new Date("2025-05-01T00:04:00Z");
    const quiet = await applyChanges({ config, content, output, keys: [], now: minutesLater(5) });
    expect(quiet.changed).toBe(false);
    const check = await applyChanges({ config, content, output, keys: [], now: may });
    expect(check.changed).toBe(true);
    expect(await titlesOf("feeds/archive/2025-04/feed.json")).toEqual(["Apr 2", "Apr 1"]);
    expect((await json("feeds/feed.json")).next_url).toBe(`${FEEDS}archive/2025-04/feed.json`);
    expect((await json("feeds/archive/2025-04/feed.json")).next_url).toBe(
      `${FEEDS}archive/2025-02/feed.json`,
    );
    // The next check has nothing to do, and a rebuild agrees with what it left.
    expect((await applyChanges({ config, content, output, keys: [], now: may })).changed).toBe(false);
    const rebuild = await publishAll({ config, content, output, now: may });
    expect(rebuild.written.filter((key) => key.startsWith("feeds/"))).toEqual([]);
  });

  it("an index written before archives existed gets every page at the next change", async () => {
    await site();
    const head = JSON.parse(await text("_state/index.json")) as Record<string, unknown>;
    delete head.archive;
    await writeFile(join(root, "out/_state/index.json"), JSON.stringify(head));
    await rm(join(root, "out/feeds/archive"), { recursive: true });
    await write("a3.md", post("Apr 3", "2025-04-10T11:00:00Z"));
    await applyChanges({ config, content, output, keys: ["a3.md"], now: minutesLater(1) });
    expect(await titlesOf("feeds/archive/2025-02/feed.json")).toEqual(["Feb 3", "Feb 2", "Feb 1"]);
    expect(await titlesOf("feeds/archive/2025-01/feed.json")).toEqual(["Jan 2", "Jan 1"]);
  });
});
