import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyChanges, INDEX_KEY, publishAll } from "../../functions/app/publish.ts";
import { parseConfig } from "../../functions/core/config.ts";
import { FsStorage } from "../../functions/storage/fs-storage.ts";
import { CountingStorage } from "./counting-storage.ts";

const config = parseConfig({ title: "Site", url: "https://example.org/", itemLimit: 5 });
const T0 = new Date("2026-01-01T00:00:00Z");
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

let root: string;
let content: FsStorage;
let output: FsStorage;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "feedpub-incremental-"));
  content = new FsStorage(join(root, "content"));
  output = new FsStorage(join(root, "out"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function write(path: string, text: string): Promise<void> {
  const full = join(root, "content", path);
  await mkdir(dirname(full), { recursive: true });
  await writeFile(full, text);
}
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
    const before = {
      index: await readFile(join(root, "out", INDEX_KEY), "utf8"),
      rss: await readFile(join(root, "out/feeds/rss.xml"), "utf8"),
      atom: await readFile(join(root, "out/feeds/atom.xml"), "utf8"),
      json: await readFile(join(root, "out/feeds/feed.json"), "utf8"),
    };
    const report = await publishAll({ config, content, output, now: later(minute) });
    expect(report.written).toEqual([]);
    expect(report.problems.map((p) => p.file)).toEqual(["bad.md"]);
    expect(await readFile(join(root, "out/feeds/rss.xml"), "utf8")).toBe(before.rss);
    expect(await readFile(join(root, "out/feeds/atom.xml"), "utf8")).toBe(before.atom);
    expect(await readFile(join(root, "out/feeds/feed.json"), "utf8")).toBe(before.json);
    expect(await readFile(join(root, "out", INDEX_KEY), "utf8")).toBe(before.index);
  });

  it("a single-article change makes at most 10 storage requests, independent of the number of articles", async () => {
    const counts: number[] = [];
    for (const size of [20, 400]) {
      await rm(join(root, "content"), { recursive: true, force: true });
      await rm(join(root, "out"), { recursive: true, force: true });
      for (let i = 0; i < size; i++)
        await write(`n/${i}.md`, article(`N${i}`, `2024-01-01T00:${String(i % 60).padStart(2, "0")}:00Z`));
      await publishAll({ config, content, output, now: T0 });
      const countedContent = new CountingStorage(content);
      const countedOutput = new CountingStorage(output);
      await write("n/new.md", article("Brand new", "2025-06-01"));
      await applyChanges({
        config,
        content: countedContent,
        output: countedOutput,
        keys: ["n/new.md"],
        now: later(1),
      });
      counts.push(countedContent.calls.length + countedOutput.calls.length);
      expect(countedContent.calls).toEqual(["GET n/new.md"]);
    }
    expect(counts[0]).toBeLessThanOrEqual(10);
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
});
