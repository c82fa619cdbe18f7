import type { Dirent } from "node:fs";
import { cp, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { applyChanges, INDEX_KEY, publishAll } from "../../functions/engine/publish.ts";
import { FsStorage } from "../../functions/storage/fs-storage.ts";
import type { PutOptions } from "../../functions/storage/port.ts";
import { lcg } from "../support/random.ts";
import { catalogPaths } from "../support/state.ts";
import { useTempSite, writeContent } from "../support/temp-site.ts";
import { CountingStorage } from "./counting-storage.ts";

const config = parseConfig({ title: "Site", url: "https://example.org/", itemLimit: 5 });
const T0 = new Date("2026-01-01T00:00:00Z");
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

let root: string;
let content: FsStorage;
let output: FsStorage;

useTempSite("feedpub-incremental-", (site) => {
  ({ root, content, output } = site);
});

const write = (path: string, body: string | Buffer) => writeContent(root, path, body);
const article = (title: string, date?: string, extra = "") =>
  `---\ntitle: ${JSON.stringify(title)}\n${date ? `date: ${date}\n` : ""}${extra}---\nBody of ${title}.\n`;
const feed = async () =>
  JSON.parse(await readFile(join(root, "out/feeds/feed.json"), "utf8")) as { items: { title: string }[] };
const titles = async () => (await feed()).items.map((item) => item.title);

describe("applyChanges (incremental regeneration)", () => {
  it("handles creates, edits and deletes, reading each key's current state", async () => {
    for (let i = 0; i < 8; i++) await write(`a${i}.md`, article(`A${i}`, `2025-01-0${i + 1}`));
    await publishAll({ config, content, output, now: T0 });
    expect(await titles()).toEqual(["A7", "A6", "A5", "A4", "A3"]);

    await write("new.md", article("New", "2025-02-01"));
    await applyChanges({ config, content, output, keys: ["new.md"], now: later(1) });
    expect(await titles()).toEqual(["New", "A7", "A6", "A5", "A4"]);

    await write("a7.md", article("A7 edited", "2025-01-08"));
    await applyChanges({ config, content, output, keys: ["a7.md"], now: later(2) });
    expect(await titles()).toEqual(["New", "A7 edited", "A6", "A5", "A4"]);

    // Deleting an item in the feed brings in the next one, whose body must be read.
    await unlink(join(root, "content/new.md"));
    await applyChanges({ config, content, output, keys: ["new.md"], now: later(3) });
    expect(await titles()).toEqual(["A7 edited", "A6", "A5", "A4", "A3"]);
  });

  it("ignores duplicate and stale events: nothing is written when the bytes did not change", async () => {
    await write("a.md", article("A", "2025-01-01"));
    await publishAll({ config, content, output, now: T0 });
    const counted = new CountingStorage(output);
    const report = await applyChanges({
      config,
      content,
      output: counted,
      keys: ["a.md", "a.md"],
      now: later(5),
    });
    expect(report.changed).toBe(false);
    expect(counted.calls.filter((call) => call.startsWith("PUT"))).toEqual([]);
  });

  it("an out-of-order delete event for a file that exists again does not remove it", async () => {
    await write("a.md", article("A", "2025-01-01"));
    await publishAll({ config, content, output, now: T0 });
    // The delete event arrives after the file was re-uploaded: the current state wins.
    await applyChanges({ config, content, output, keys: ["a.md"], now: later(1) });
    expect(await titles()).toEqual(["A"]);
  });

  it("leaves exactly what a full rebuild of the final content produces", async () => {
    for (let i = 0; i < 12; i++)
      await write(`p/${i}.md`, article(`P${i}`, i % 3 ? `2025-03-${10 + i}` : undefined));
    await publishAll({ config, content, output, now: T0 });
    let minute = 1;
    for (let i = 0; i < 12; i += 2) {
      if (i % 4 === 0) await unlink(join(root, `content/p/${i}.md`));
      else await write(`p/${i}.md`, article(`P${i} v2`, `2025-04-0${(i % 9) + 1}`));
      await applyChanges({ config, content, output, keys: [`p/${i}.md`], now: later(minute++) });
    }
    await write("bad.md", "---\ntitle: [unclosed\n---\n");
    await applyChanges({ config, content, output, keys: ["bad.md"], now: later(minute++) });
    const shardsOf = async () =>
      (JSON.parse(await readFile(join(root, "out", INDEX_KEY), "utf8")) as { shards: string[] }).shards;
    const before = {
      shards: await shardsOf(),
      rss: await readFile(join(root, "out/feeds/rss.xml"), "utf8"),
      atom: await readFile(join(root, "out/feeds/atom.xml"), "utf8"),
      json: await readFile(join(root, "out/feeds/feed.json"), "utf8"),
    };
    const report = await publishAll({ config, content, output, now: later(minute) });
    // The catalog and the feeds are exactly the full rebuild's; the index may pick other spare candidates.
    expect(report.written.filter((key) => key !== INDEX_KEY)).toEqual([]);
    expect(await shardsOf()).toEqual(before.shards);
    expect(report.problems.map((p) => p.file)).toEqual(["bad.md"]);
    expect(await readFile(join(root, "out/feeds/rss.xml"), "utf8")).toBe(before.rss);
    expect(await readFile(join(root, "out/feeds/atom.xml"), "utf8")).toBe(before.atom);
    expect(await readFile(join(root, "out/feeds/feed.json"), "utf8")).toBe(before.json);
  });

  it("a single-article change makes at most 10 storage requests, and 5 per family feed it is in, independent of the number of articles", async () => {
    const counts: number[] = [];
    for (const size of [20, 400]) {
      await rm(join(root, "content"), { recursive: true, force: true });
      await rm(join(root, "out"), { recursive: true, force: true });
      for (let i = 0; i < size; i++)
        await write(`n/${i}.md`, article(`N${i}`, `2024-01-01T00:${String(i % 60).padStart(2, "0")}:00Z`));
      await publishAll({ config, content, output, now: T0 });
      const countedContent = new CountingStorage(content);
      const countedOutput = new CountingStorage(output);
      // Dated this month: the month's archive page does not exist until the month is over.
      await write("n/new.md", article("Brand new", "2026-01-01T00:00:00Z"));
      await applyChanges({
        config,
        content: countedContent,
        output: countedOutput,
        keys: ["n/new.md"],
        now: later(1),
      });
      counts.push(countedContent.calls.length + countedOutput.calls.length);
      // Read once, and looked at once more after the commit (has it changed since?).
      expect(countedContent.calls).toEqual(["GET n/new.md", "HEAD n/new.md"]);
    }
    // Its one family feed is its section's, feeds/sections/n/: the state read and written, and
    // the three files.
    expect(counts[0]).toBeLessThanOrEqual(10 + 5);
    expect(counts[1]).toBe(counts[0]);
  });

  it("with no index yet (a new bucket) falls back to a full rebuild", async () => {
    await write("a.md", article("A", "2025-01-01"));
    await write("b.md", article("B", "2025-01-02"));
    await applyChanges({ config, content, output, keys: ["b.md"], now: T0 });
    expect(await titles()).toEqual(["B", "A"]);
  });

  it("keeps the first-seen date of an undated article through a broken edit and its fix", async () => {
    await write("u.md", article("Undated"));
    await publishAll({ config, content, output, now: T0 });
    const firstDate = (await feed()).items[0];
    await write("u.md", "---\ntitle: [broken\n---\n");
    await applyChanges({ config, content, output, keys: ["u.md"], now: later(10) });
    expect(await titles()).toEqual([]);
    await write("u.md", article("Undated"));
    await applyChanges({ config, content, output, keys: ["u.md"], now: later(20) });
    const item = (await feed()).items[0] as unknown as { date_published: string };
    expect(item.date_published).toBe((firstDate as unknown as { date_published: string }).date_published);
  });
});

describe("clocks of concurrent invocations", () => {
  it("an undated article first seen by an invocation with a later clock is never held back", async () => {
    await write("old.md", article("Old", "2025-01-01"));
    await publishAll({ config, content, output, now: T0 });
    // Invocation A (clock 00:10) indexes an undated article...
    await write("undated.md", article("Undated"));
    await applyChanges({ config, content, output, keys: ["undated.md"], now: later(10) });
    // ...then invocation B, whose clock reads 00:05, regenerates for another key.
    await write("other.md", article("Other", "2025-02-01"));
    await applyChanges({ config, content, output, keys: ["other.md"], now: later(5) });
    expect((await titles()).sort()).toEqual(["Old", "Other", "Undated"]);
    // And a full rebuild finds nothing to correct.
    expect((await publishAll({ config, content, output, now: later(6) })).written).toEqual([]);
  });

  // Invocation A (an incremental regeneration, or a full rebuild: the daily reconcile) handles an
  // edit of a.md; while it runs, the file is edited again and invocation B handles that newer edit
  // and commits. Whatever the interleaving, A must not commit the older version it may have seen:
  // the last committed state of a.md is always the newest one read.
  for (const who of ["an invocation", "a full rebuild"] as const)
    for (const moment of ["index read", "index commit"] as const)
      it(`${who} overtaken at its ${moment} by a newer edit does not bring back the older version`, async () => {
        await write("a.md", article("A v0", "2025-01-01"));
        await write("b.md", article("B", "2025-01-02"));
        await publishAll({ config, content, output, now: T0 });
        await write("a.md", article("A v1", "2025-01-03"));
        let overtaken = false;
        const overtake = async () => {
          if (overtaken) return;
          overtaken = true;
          await write("a.md", article("A v2", "2024-12-01"));
          await applyChanges({ config, content, output, keys: ["a.md"], now: later(2) });
        };
        const racing = new (class extends FsStorage {
          override async get(key: string) {
            if (key === INDEX_KEY && moment === "index read") await overtake();
            return super.get(key);
          }
          override async put(key: string, body: Uint8Array | string, options?: PutOptions) {
            if (key === INDEX_KEY && moment === "index commit") await overtake();
            return super.put(key, body, options);
          }
        })(join(root, "out"));
        if (who === "a full rebuild") await publishAll({ config, content, output: racing, now: later(1) });
        else await applyChanges({ config, content, output: racing, keys: ["a.md"], now: later(1) });
        expect(overtaken).toBe(true);
        expect(await titles()).toEqual(["B", "A v2"]);
        expect((await publishAll({ config, content, output, now: later(3) })).written).toEqual([]);
      });

  // Invocation A writes its feeds just after invocation B (which also handled A's key, as a
  // redelivered message) wrote newer ones and committed. A then loses the commit and, on its retry,
  // finds its key already indexed: it must still put back the feeds it overwrote.
  it("an invocation that lost the commit after writing its feeds repairs them, even with nothing left to index", async () => {
    await write("old.md", article("Old", "2025-01-01", "tags: [t]\n"));
    await publishAll({ config, content, output, now: T0 });
    await write("a.md", article("A", "2025-01-02", "tags: [t]\n"));
    await write("b.md", article("B", "2025-01-03", "tags: [t]\n"));
    let overtaken = false;
    const racing = new (class extends FsStorage {
      override async put(key: string, body: Uint8Array | string, options?: PutOptions) {
        if (key.startsWith("feeds/") && !overtaken) {
          overtaken = true;
          await applyChanges({ config, content, output, keys: ["a.md", "b.md"], now: later(2) });
        }
        return super.put(key, body, options);
      }
    })(join(root, "out"));
    const report = await applyChanges({ config, content, output: racing, keys: ["a.md"], now: later(1) });
    expect(overtaken).toBe(true);
    expect(report.retries).toBe(1);
    expect(await titles()).toEqual(["B", "A", "Old"]);
    const tagFeed = JSON.parse(await readFile(join(root, "out/feeds/tags/t/feed.json"), "utf8")) as {
      items: { title: string }[];
    };
    expect(tagFeed.items.map((item) => item.title)).toEqual(["B", "A", "Old"]);
    expect((await publishAll({ config, content, output, now: later(3) })).written).toEqual([]);
  });

  it("a full rebuild that repaired a feed commits, so a change committed meanwhile is not lost", async () => {
    await write("a.md", article("A", "2025-01-01"));
    await publishAll({ config, content, output, now: T0 });
    // A feed damaged behind the publisher's back: the rebuild puts it right...
    await writeFile(join(root, "out/feeds/feed.json"), "{}");
    let overtaken = false;
    const racing = new (class extends FsStorage {
      override async put(key: string, body: Uint8Array | string, options?: PutOptions) {
        // ...but just before its write lands, an upload is published.
        if (key === "feeds/feed.json" && !overtaken) {
          overtaken = true;
          await write("b.md", article("B", "2025-01-02"));
          await applyChanges({ config, content, output, keys: ["b.md"], now: later(2) });
        }
        return super.put(key, body, options);
      }
    })(join(root, "out"));
    await publishAll({ config, content, output: racing, now: later(1) });
    expect(overtaken).toBe(true);
    expect(await titles()).toEqual(["B", "A"]);
  });

  // A reads a new article; it is deleted at once, and B handles the delete event before A commits:
  // B's index has no such article, so B has nothing to do. A must notice and take it out again.
  for (const who of ["an incremental regeneration", "a full rebuild"] as const)
    it(`a delete handled while ${who} was publishing the article is not lost`, async () => {
      await write("old.md", article("Old", "2025-01-01"));
      await publishAll({ config, content, output, now: T0 });
      await write("gone.md", article("Gone", "2025-01-02"));
      let overtaken = false;
      let other: Awaited<ReturnType<typeof applyChanges>> | undefined;
      const racingContent = new (class extends FsStorage {
        override async get(key: string) {
          const object = await super.get(key);
          if (key === "gone.md" && !overtaken) {
            overtaken = true;
            await unlink(join(root, "content/gone.md"));
            other = await applyChanges({ config, content, output, keys: ["gone.md"], now: later(2) });
          }
          return object;
        }
      })(join(root, "content"));
      if (who === "a full rebuild")
        await publishAll({ config, content: racingContent, output, now: later(1) });
      else await applyChanges({ config, content: racingContent, output, keys: ["gone.md"], now: later(1) });
      expect(overtaken).toBe(true);
      expect(other?.changed).toBe(false);
      expect(await titles()).toEqual(["Old"]);
      expect(await catalogPaths(join(root, "out"))).toEqual(["old.md"]);
    });
});

describe("the sharded catalog and its planning candidates", () => {
  // Feed of 3 items: the index keeps 10 candidates, so a few dozen articles exercise the floor.
  const small = parseConfig({ title: "Site", url: "https://example.org/", itemLimit: 3 });
  /** Every file under feeds/ (the main, tag and author feeds, the landing page), sorted. */
  const publicFiles = async (dir: string) =>
    ((await readdir(join(dir, "feeds"), { recursive: true, withFileTypes: true })) as Dirent[])
      .filter((entry) => entry.isFile())
      .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
      .sort();
  const bytes = (dir: string, key: string) => readFile(join(dir, key), "utf8").catch(() => undefined);

  const random = lcg;

  it("after any sequence of uploads, edits and deletes the feeds equal a full rebuild's", async () => {
    const next = random(Number(process.env.CANDIDATES_SEED ?? 7));
    const keys = Array.from({ length: 60 }, (_, i) => `s/${String(i).padStart(2, "0")}.md`);
    // Start with 40 dated articles: more than the candidates the index keeps.
    // Tags and authors too: every tag and author feed must also equal the full rebuild's.
    const facets = [
      "",
      "tags: [news]\n",
      "tags: [news, tech]\n",
      "tags: [Tech]\n",
      "author: Ann\n",
      "tags: [culture]\nauthor: Bob\n",
    ];
    const facet = () => facets[Math.floor(next() * facets.length)] as string;
    for (const key of keys.slice(0, 40))
      await write(
        key,
        article(key, `2025-0${1 + Math.floor(next() * 9)}-1${Math.floor(next() * 9)}`, facet()),
      );
    await publishAll({ config: small, content, output, now: T0, stateGraceMs: 0 });
    let wholeReads = 0;
    const archivePages = new Set<string>();
    for (let step = 1; step <= 120; step++) {
      let key = keys[Math.floor(next() * keys.length)] as string;
      const roll = next();
      // Deleting what the feed shows first runs the candidates out: the case to exercise.
      const shown = (await feed().catch(() => ({ items: [] }))).items[0]?.title.split(" ")[0];
      if (roll < 0.35 && shown) key = shown;
      const month = `2025-${String(1 + Math.floor(next() * 12)).padStart(2, "0")}-0${1 + Math.floor(next() * 9)}`;
      // Deletes are frequent, so the newest articles run out and the candidates must be refilled.
      if (roll < 0.7) await rm(join(root, "content", key), { force: true });
      else if (roll < 0.75) await write(key, article(`${key} v${step}`, month, facet()));
      else if (roll < 0.78) await write(key, article(`${key} undated v${step}`, undefined, facet()));
      else if (roll < 0.82) await write(key, article(`${key} scheduled`, "2026-01-01T00:30:00Z", facet()));
      else if (roll < 0.86)
        await write(key, article(`${key} expiring`, month, `expiryDate: 2026-01-01T01:00:00Z\n${facet()}`));
      else if (roll < 0.89) await write(key, article(`${key} draft`, month, `draft: true\n${facet()}`));
      else if (roll < 0.93)
        await write(key, article(`${key} id`, month, `id: "tag:example.org,2025:${step % 3}"\n`));
      else if (roll < 0.96) await write(key, "---\ntitle: [broken\n---\n");
      else await write(key, article(`${key} new ${step}`, "2026-01-01", facet()));
      // Halfway, the clock moves into the next month: January gets its archive page.
      const now = step <= 60 ? later(step) : new Date(later(step).getTime() + 31 * 86_400_000);
      const report = await applyChanges({ config: small, content, output, keys: [key], now });
      if (report.readWholeCatalog) wholeReads++;
      // A full rebuild, on a copy of the state at the same moment, must find nothing to change.
      const copy = join(root, `check-${step}`);
      await cp(join(root, "out"), copy, { recursive: true });
      const full = await publishAll({ config: small, content, output: new FsStorage(copy), now });
      const published = await publicFiles(join(root, "out"));
      for (const file of published)
        if (file.startsWith("feeds/archive/")) archivePages.add(file.split("/")[2] as string);
      expect(await publicFiles(copy), `step ${step}: the files under feeds/`).toEqual(published);
      for (const file of published)
        expect(await bytes(copy, file), `step ${step}: ${file} after ${key}`).toBe(
          await bytes(join(root, "out"), file),
        );
      expect(
        full.written.filter((k) => k !== INDEX_KEY),
        `step ${step}`,
      ).toEqual([]);
      expect(await catalogPaths(copy)).toEqual(await catalogPaths(join(root, "out")));
      await rm(copy, { recursive: true, force: true });
    }
    // The sequence really did run the candidates out (and back) more than once.
    expect(wholeReads, "whole-catalog reads").toBeGreaterThan(1);
    // Monthly archive pages were compared too, January's included once the month was over.
    expect(archivePages.size).toBeGreaterThan(6);
    expect(archivePages.has("2026-01")).toBe(true);
    // 120 steps, each with a full rebuild on a copy of the state: 70 s on a saturated 2-core
    // machine (its clock is the `now` passed in; only this limit depends on the machine's speed).
  }, 360_000);

  it("a change that leaves enough candidates reads one shard; running out reads them all, once", async () => {
    for (let i = 0; i < 600; i++)
      await write(
        `n/${i}.md`,
        article(`N${i}`, new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString()),
      );
    await publishAll({ config: small, content, output, now: T0 });
    const index = JSON.parse(await readFile(join(root, "out", INDEX_KEY), "utf8")) as { shards: string[] };
    expect(index.shards).toHaveLength(4);
    // Catalog shards only, not the archive page's state ("f-…"), which these deletes also change.
    const shardReads = (storage: CountingStorage) =>
      storage.calls.filter((call) => /^GET _state\/catalog\/[0-9a-f]+\.json$/.test(call)).length;

    // Deleting the newest 7 of 10 candidates: still 3 above the floor, one shard each time.
    for (let i = 599; i >= 593; i--) {
      await unlink(join(root, `content/n/${i}.md`));
      const counted = new CountingStorage(output);
      const report = await applyChanges({
        config: small,
        content,
        output: counted,
        keys: [`n/${i}.md`],
        now: later(1),
      });
      expect(report.readWholeCatalog).toBe(false);
      expect(shardReads(counted)).toBe(1);
    }
    expect(await titles()).toEqual(["N592", "N591", "N590"]);
    // The next delete leaves only 2 candidates above the floor: every shard is read and the
    // candidates are refilled from the whole catalog...
    await unlink(join(root, "content/n/592.md"));
    let counted = new CountingStorage(output);
    let report = await applyChanges({
      config: small,
      content,
      output: counted,
      keys: ["n/592.md"],
      now: later(2),
    });
    expect(report.readWholeCatalog).toBe(true);
    expect(shardReads(counted)).toBe(4);
    expect(await titles()).toEqual(["N591", "N590", "N589"]);
    // ...so the next one is cheap again.
    await unlink(join(root, "content/n/591.md"));
    counted = new CountingStorage(output);
    report = await applyChanges({
      config: small,
      content,
      output: counted,
      keys: ["n/591.md"],
      now: later(3),
    });
    expect(report.readWholeCatalog).toBe(false);
    expect(shardReads(counted)).toBe(1);
    expect(await titles()).toEqual(["N590", "N589", "N588"]);
  });

  it("a full rebuild deletes catalog shards no index names, once they are older than the grace period", async () => {
    for (let i = 0; i < 5; i++) await write(`g/${i}.md`, article(`G${i}`, `2025-01-0${i + 1}`));
    await publishAll({ config, content, output, now: T0 });
    for (let i = 0; i < 3; i++) {
      await write(`g/${i}.md`, article(`G${i} v2`, `2025-01-0${i + 1}`));
      await applyChanges({ config, content, output, keys: [`g/${i}.md`], now: later(i + 1) });
    }
    // Catalog shards (tag feeds' and archive pages' states are named "f-…").
    const shards = async () =>
      (await readdir(join(root, "out/_state/catalog"))).filter((name) => !name.startsWith("f-"));
    expect(await shards()).toHaveLength(4);
    // Within the grace period an unreferenced shard may belong to an invocation about to commit.
    await publishAll({ config, content, output, now: later(10) });
    expect(await shards()).toHaveLength(4);
    await publishAll({ config, content, output, now: later(11), stateGraceMs: 0 });
    const index = JSON.parse(await readFile(join(root, "out", INDEX_KEY), "utf8")) as { shards: string[] };
    expect(await shards()).toEqual(index.shards.map((name) => `${name}.json`));
    expect(await catalogPaths(join(root, "out"))).toEqual(["g/0.md", "g/1.md", "g/2.md", "g/3.md", "g/4.md"]);

    // A cleanup that is refused (say, a role without s3:DeleteObject) is reported, not fatal.
    await write("g/0.md", article("G0 v3", "2025-01-01"));
    await applyChanges({ config, content, output, keys: ["g/0.md"], now: later(12) });
    const refusing = new (class extends FsStorage {
      override async delete(): Promise<void> {
        throw new Error("Access Denied");
      }
    })(join(root, "out"));
    const report = await publishAll({ config, content, output: refusing, now: later(13), stateGraceMs: 0 });
    expect(report.cleanup).toMatch(/could not be deleted: Access Denied/);
    expect(await titles()).toContain("G0 v3");
  });

  it("a shard deleted under an invocation's feet makes it start again from the new index", async () => {
    for (let i = 0; i < 5; i++) await write(`h/${i}.md`, article(`H${i}`, `2025-01-0${i + 1}`));
    await publishAll({ config, content, output, now: T0 });
    const stale = await readFile(join(root, "out", INDEX_KEY));
    // Another invocation commits a change, and the old shard is collected meanwhile.
    await write("h/0.md", article("H0 v2", "2025-01-01"));
    await applyChanges({ config, content, output, keys: ["h/0.md"], now: later(1) });
    const oldName = (JSON.parse(stale.toString()) as { shards: string[] }).shards[0];
    // This invocation read the old index: its first attempt finds the shard gone.
    let served = false;
    const racing = new (class extends FsStorage {
      override async get(key: string) {
        if (key === INDEX_KEY && !served) {
          served = true;
          const current = await super.get(key);
          return current && { ...current, body: stale, etag: '"stale"' };
        }
        return super.get(key);
      }
    })(join(root, "out"));
    await rm(join(root, `out/_state/catalog/${oldName}.json`));
    await write("h/1.md", article("H1 v2", "2025-01-02"));
    const report = await applyChanges({ config, content, output: racing, keys: ["h/1.md"], now: later(2) });
    expect(report.retries).toBe(1);
    expect(await titles()).toEqual(["H4", "H3", "H2", "H1 v2", "H0 v2"]);
  });
});

describe("scheduled publishing without an upload", () => {
  it("a check with no keys costs one index read until a scheduled article is due, then publishes it", async () => {
    await write("now.md", article("Now", "2025-12-01"));
    await write("later.md", article("Later", "2026-01-01T00:30:00Z"));
    await publishAll({ config, content, output, now: T0 });
    expect(await titles()).toEqual(["Now"]);

    const early = new CountingStorage(output);
    const idle = await applyChanges({ config, content, output: early, keys: [], now: later(29) });
    expect(idle.changed).toBe(false);
    expect(early.calls).toEqual([`GET ${INDEX_KEY}`]);

    const due = new CountingStorage(output);
    const report = await applyChanges({ config, content, output: due, keys: [], now: later(30) });
    expect(report.changed).toBe(true);
    expect(await titles()).toEqual(["Later", "Now"]);
    // Scheduled articles are always planning candidates: no catalog shard had to be read.
    expect(due.calls.filter((call) => call.startsWith("GET _state/catalog/"))).toEqual([]);

    // And once published, the next check is idle again.
    const after = new CountingStorage(output);
    expect((await applyChanges({ config, content, output: after, keys: [], now: later(35) })).changed).toBe(
      false,
    );
    expect(after.calls).toEqual([`GET ${INDEX_KEY}`]);
  });

  it("an article that expires leaves the feed at its expiry date, again without an upload", async () => {
    await write("stays.md", article("Stays", "2025-12-01"));
    await write("goes.md", article("Goes", "2025-12-02", "expiryDate: 2026-01-01T01:00:00Z\n"));
    await publishAll({ config, content, output, now: T0 });
    expect(await titles()).toEqual(["Goes", "Stays"]);
    await applyChanges({ config, content, output, keys: [], now: later(59) });
    expect(await titles()).toEqual(["Goes", "Stays"]);
    await applyChanges({ config, content, output, keys: [], now: later(60) });
    expect(await titles()).toEqual(["Stays"]);
  });
});
