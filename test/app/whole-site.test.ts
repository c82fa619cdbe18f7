/**
 * The whole-site map/reduce against the reference full rebuild, on varied seeded sites in
 * folders: every feed file, the head and the catalog must be the bytes publishAll makes, both
 * for a first build and for a second one over edits, deletes, new files and new settings.
 */
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { type PublishReport, publishAll } from "../../functions/engine/rebuild.ts";
import { INDEX_KEY } from "../../functions/engine/state/head.ts";
import { CATALOG_PREFIX } from "../../functions/engine/state/shards.ts";
import { readCatalog } from "../../functions/engine/store.ts";
import { runGroup } from "../../functions/engine/whole/group.ts";
import type * as Layout from "../../functions/engine/whole/layout.ts";
import { type GroupRunner, publishWholeSite } from "../../functions/engine/whole/local.ts";
import { publishSite } from "../../functions/engine/whole/site.ts";
import type { GroupCost, ReduceCost } from "../../functions/engine/whole/workers.ts";
import { FsStorage } from "../../functions/storage/fs-storage.ts";
import { mixedSite } from "../support/mixed-site.ts";
import { mulberry32 } from "../support/random.ts";
import { readTree, reportOutcome, treeDiff, writeFiles } from "../support/whole-site.ts";

/**
 * At GROUP_TARGET (4,000 articles a group) a test-sized site is one group, which never
 * exercises the split by slot. With `target` set, the group count is sized as if a group took
 * that many articles (same rule: a power of two, at most the shards and the shuffle groups).
 * Group workers in threads read the count from the run's plan, so this reaches them too.
 */
const sizing = vi.hoisted(() => ({ target: undefined as number | undefined }));
vi.mock("../../functions/engine/whole/layout.ts", async (importOriginal) => {
  const layout = await importOriginal<typeof Layout>();
  return {
    ...layout,
    groupCountFor: (articles: number, shards: number, shuffleGroups: number, own?: number) => {
      const target = sizing.target;
      if (target === undefined) return layout.groupCountFor(articles, shards, shuffleGroups, own);
      let count = 1;
      while (count < shuffleGroups && count < shards && count * target < articles) count *= 2;
      return count;
    },
  };
});

const NOW = new Date("2026-06-28T12:00:00Z");
/** Another month: the second build makes June's archive page, and new undated files are dated here. */
const LATER = new Date("2026-07-02T09:30:00Z");
const SITE = {
  title: "Whole",
  url: "https://whole.example/",
  itemLimit: 10,
  sectionFeeds: { depth: 2 },
  languageFeeds: true,
};
const config = parseConfig(SITE, "test");
const renamed = parseConfig({ ...SITE, title: "Whole, renamed" }, "test");
/** What publishAll and the map/reduce must agree on, byte for byte. */
const COMPARED = ["feeds/", INDEX_KEY, CATALOG_PREFIX];

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "whole-site-"));
  sizing.target = undefined;
});
afterEach(async () => {
  sizing.target = undefined;
  await rm(root, { recursive: true, force: true });
});

const folder = (name: string) => new FsStorage(join(root, name));

/** Run folders left on disk: none, once a local run is over. */
async function runsLeft(name: string): Promise<string[]> {
  return readdir(join(root, name, "_state", "runs")).catch(() => []);
}

/**
 * Every file under feeds/ and _state/catalog/ and the head, byte for byte, and no run folder
 * left. The head is compared as JSON first, so that a difference of field order alone (which
 * changes no reader's view, but is a difference) says so.
 */
async function expectSameTrees(reference: string, others: readonly string[]): Promise<void> {
  const expected = await readTree(folder(reference), COMPARED);
  expect(expected.has(INDEX_KEY)).toBe(true);
  expect([...expected.keys()].filter((key) => key.startsWith("feeds/")).length).toBeGreaterThan(20);
  const head = (tree: Map<string, Buffer>) => JSON.parse(tree.get(INDEX_KEY)?.toString("utf8") ?? "null");
  for (const other of others) {
    const actual = await readTree(folder(other), COMPARED);
    expect(
      treeDiff(expected, actual).filter(
        (diff) => !diff.endsWith(INDEX_KEY) && !diff.includes(`${INDEX_KEY} (`),
      ),
      other,
    ).toEqual([]);
    expect(head(actual), other).toEqual(head(expected));
    expect(await runsLeft(other), other).toEqual([]);
    // Soft: a head of the same fields in another order says so, then its bytes differ too.
    expect
      .soft(Object.keys(head(actual)), `${other}: the head's field order`)
      .toEqual(Object.keys(head(expected)));
    expect
      .soft(actual.get(INDEX_KEY)?.toString("utf8"), `${other}: the head's bytes`)
      .toBe(expected.get(INDEX_KEY)?.toString("utf8"));
  }
}

describe("whole-site map/reduce equals the full rebuild", () => {
  it.each([
    [1, 200],
    [2, undefined],
  ])(
    "seed %i, in-process group target %s: a first build",
    async (seed, target) => {
      const content = folder("content");
      await writeFiles(content, mixedSite(1500, seed, NOW.getTime()));
      const reference = await publishAll({ content, output: folder("a"), config, now: NOW });

      sizing.target = target;
      const ran: number[] = [];
      const inProcess = await publishWholeSite({
        content,
        output: folder("b"),
        config,
        now: NOW,
        groups: recordingGroupsFor(content, folder("b"), ran),
      });
      // 1,500 articles make 8 shards: 8 groups of about 200, or two at the local target (1,000).
      expect(ran).toEqual(target === undefined ? [0, 1] : [0, 1, 2, 3, 4, 5, 6, 7]);

      // Four groups over two worker threads, through publishSite (see below for it without onGroup).
      sizing.target = 400;
      const costs: GroupCost[] = [];
      const threaded = await publishSite({
        content,
        output: folder("c"),
        config,
        now: NOW,
        threads: 2,
        mapReduceMin: 1,
        onGroup: (cost) => costs.push(cost),
      });
      expect(costs.map((cost) => cost.group).sort()).toEqual([0, 1, 2, 3]);
      expect(costs.reduce((sum, cost) => sum + cost.articles, 0)).toBe(1500);

      expect(reference.articles).toBe(1500);
      expect(reference.problems.length).toBeGreaterThan(0);
      expect(reference.held.length).toBeGreaterThan(0);
      expect(reportOutcome(inProcess)).toEqual(reportOutcome(reference));
      expect(reportOutcome(threaded)).toEqual(reportOutcome(reference));
      await expectSameTrees("a", ["b", "c"]);
    },
    60_000,
  );

  it("a second build over edits, deletes, new files and a new title, from the same first state", async () => {
    const content = folder("content");
    // 900 articles make 4 shards; the second build has 1,170, so 8, and with 8 groups (more than
    // the old head's shards) each group reads its history from the one old shard holding its paths.
    const first = mixedSite(900, 7, NOW.getTime());
    await writeFiles(content, first);
    await publishAll({ content, output: folder("first"), config, now: NOW });
    for (const name of ["a", "b", "c"]) await cp(join(root, "first"), join(root, name), { recursive: true });
    const changed = await changeSite(content, first);
    expect(changed).toEqual({ edited: 80, deleted: 60, added: 330 });

    const reference = await publishAll({ content, output: folder("a"), config: renamed, now: LATER });
    sizing.target = 150;
    const ran: number[] = [];
    const inProcess = await publishWholeSite({
      content,
      output: folder("b"),
      config: renamed,
      now: LATER,
      groups: recordingGroupsFor(content, folder("b"), ran, renamed),
    });
    expect(ran).toHaveLength(8);
    sizing.target = undefined;
    const costs: GroupCost[] = [];
    const threaded = await publishSite({
      content,
      output: folder("c"),
      config: renamed,
      now: LATER,
      threads: 2,
      mapReduceMin: 1,
      onGroup: (cost) => costs.push(cost),
    });
    // At the local target (1,000 articles a group), 1,170 articles make two groups.
    expect(costs).toHaveLength(2);
    expect(costs.reduce((sum, cost) => sum + cost.articles, 0)).toBe(1170);

    expect(reference.articles).toBe(900 - 60 + 330);
    expect(reportOutcome(inProcess)).toEqual(reportOutcome(reference));
    expect(reportOutcome(threaded)).toEqual(reportOutcome(reference));
    await expectSameTrees("a", ["b", "c"]);
    const rss = (await folder("b").get("feeds/rss.xml"))?.body;
    expect(Buffer.from(rss ?? []).toString()).toContain("<title>Whole, renamed</title>");
    // The runs kept the history: files of the first state were first seen then, new ones now
    // (a group that lost its slots' shards would date them all LATER, as publishAll does not).
    const { catalog } = await readCatalog(folder("b"), renamed);
    const seen = (key: string) => catalog[key]?.firstSeen;
    const kept = [...first.keys()].filter((key) => key.endsWith(".txt") && seen(key) !== undefined);
    expect(kept.length).toBeGreaterThan(10);
    expect(new Set(kept.map(seen))).toEqual(new Set([NOW.getTime()]));
    const fresh = Object.keys(catalog).filter((key) => key.startsWith("added/") && key.endsWith(".txt"));
    expect(fresh.length).toBeGreaterThan(5);
    expect(new Set(fresh.map(seen))).toEqual(new Set([LATER.getTime()]));
  }, 60_000);
});

describe("whole-site map/reduce reports and entry points", () => {
  it("publishSite as `feedpub build` calls it (no onGroup) runs every group", async () => {
    const content = folder("content");
    await writeFiles(content, mixedSite(120, 5, NOW.getTime()));
    await publishAll({ content, output: folder("a"), config, now: NOW });
    // `options.onGroup?.(await ask(worker, group))` short-circuited without a listener: the
    // workers were never asked and the reduce found no group results (fixed in bbd350f).
    await publishSite({ content, output: folder("b"), config, now: NOW, threads: 2, mapReduceMin: 1 });
    await expectSameTrees("a", ["b"]);
  });

  it("runs the reduce in a worker thread of its own, and reports what it cost", async () => {
    const content = folder("content");
    await writeFiles(content, mixedSite(150, 8, NOW.getTime()));
    const reference = await publishAll({ content, output: folder("a"), config, now: NOW });
    const reduces: ReduceCost[] = [];
    const report = await publishSite({
      content,
      output: folder("b"),
      config,
      now: NOW,
      threads: 1,
      mapReduceMin: 1,
      heapMb: 256,
      reduceHeapMb: 256,
      onReduce: (cost) => reduces.push(cost),
    });
    expect(reduces).toHaveLength(1);
    expect(reduces[0]?.ms).toBeGreaterThan(0);
    expect(reduces[0]?.peak).toBeGreaterThan(0);
    // The report crossed from the worker (structured clone keeps its Dates).
    expect(reportOutcome(report)).toEqual(reportOutcome(reference));
    await expectSameTrees("a", ["b"]);
  });

  it("a worker that runs out of its heap limit fails the build, naming its stage", async () => {
    const content = folder("content");
    await writeFiles(content, mixedSite(60, 9, NOW.getTime()));
    // 4 MB cannot hold even the worker's code: the group's worker dies of it.
    await expect(
      publishSite({ content, output: folder("b"), config, now: NOW, threads: 1, mapReduceMin: 1, heapMb: 4 }),
    ).rejects.toThrow(/^group 0: .*memory limit/);
    // The run's partial results were removed; the next build (without the limit) publishes.
    expect(await folder("b").get("feeds/rss.xml")).toBeUndefined();
    await publishSite({ content, output: folder("b"), config, now: NOW, threads: 1, mapReduceMin: 1 });
    await publishAll({ content, output: folder("a"), config, now: NOW });
    await expectSameTrees("a", ["b"]);
  });

  it("held-back articles carry Dates, as publishAll reports them", async () => {
    const content = folder("content");
    await writeFiles(content, mixedSite(300, 6, NOW.getTime()));
    const reference = await publishAll({ content, output: folder("a"), config, now: NOW });
    const report = await publishWholeSite({ content, output: folder("b"), config, now: NOW });
    const dated = (held: PublishReport["held"]) => held.filter((item) => item.until !== undefined);
    expect(dated(reference.held).length).toBeGreaterThan(0);
    expect(dated(reference.held).every((item) => item.until instanceof Date)).toBe(true);
    // The groups' results go through JSON: `until` comes back a string unless revived (1fcb34f).
    expect(dated(report.held).map((item) => item.until instanceof Date)).toEqual(
      dated(reference.held).map(() => true),
    );
  });
});

/** The group stage in this thread (as publishWholeSite's default), recording which groups it ran. */
function recordingGroupsFor(
  content: FsStorage,
  output: FsStorage,
  ran: number[],
  siteConfig = config,
): GroupRunner {
  return async (run, groups) => {
    for (const group of groups) {
      ran.push(group);
      await runGroup({ content, output }, siteConfig, run, group);
    }
  };
}

/**
 * Seeded changes to a site: 80 edits (some undated, so the first-seen date the catalog holds
 * must survive the run), 60 deletes, and 330 new files, some of them undated (first seen now).
 */
async function changeSite(
  content: FsStorage,
  first: ReadonlyMap<string, string>,
): Promise<{ edited: number; deleted: number; added: number }> {
  const next = mulberry32(99);
  const keys = [...first.keys()];
  for (let i = keys.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
  }
  const edits = keys.slice(0, 80);
  const deletes = keys.slice(80, 140);
  for (const [i, key] of edits.entries()) {
    const date = i % 4 === 0 ? "" : `date: ${new Date(NOW.getTime() - i * 86_400_000 * 7).toISOString()}\n`;
    const body = key.endsWith(".md")
      ? `---\ntitle: "Edited ${i}"\n${date}tags: [edited]\n---\nEdited body ${i}.\n`
      : `Edited plain note ${i}\n\nStill undated.\n`;
    await content.put(key.endsWith(".md") ? key : key.replace(/\.[a-z]+$/, ".txt"), body);
    if (!key.endsWith(".md") && !key.endsWith(".txt")) await content.delete(key);
  }
  for (const key of deletes) await content.delete(key);
  const added = new Map([...mixedSite(330, 8, LATER.getTime())].map(([key, body]) => [`added/${key}`, body]));
  await writeFiles(content, added);
  return { edited: edits.length, deleted: deletes.length, added: added.size };
}
