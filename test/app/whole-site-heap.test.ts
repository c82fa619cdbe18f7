/**
 * Heap limits of a local whole-site run's worker threads: the default limits are soft (a job
 * that runs out of its limit runs once more in a thread with none, and the build still equals
 * publishAll byte for byte), a limit given is hard, and a reduce that ran out after its commit
 * is not run again over the head it committed.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { heapNotices, mapReduceEnv } from "../../functions/cli/map-reduce-env.ts";
import { parseConfig } from "../../functions/core/config.ts";
import { publishAll } from "../../functions/engine/rebuild.ts";
import { INDEX_KEY } from "../../functions/engine/state/head.ts";
import { CATALOG_PREFIX } from "../../functions/engine/state/shards.ts";
import { loadIndex } from "../../functions/engine/store.ts";
import {
  DEFAULT_GROUP_HEAP_MB,
  DEFAULT_REDUCE_HEAP_MB,
  publishSite,
  type SiteOptions,
} from "../../functions/engine/whole/site.ts";
import type { GroupCost, ReduceCost } from "../../functions/engine/whole/workers.ts";
import { FsStorage } from "../../functions/storage/fs-storage.ts";
import { mixedSite } from "../support/mixed-site.ts";
import { readTree, reportOutcome, treeDiff, writeFiles } from "../support/whole-site.ts";

const NOW = new Date("2026-06-28T12:00:00Z");
const config = parseConfig(
  { title: "Heap", url: "https://heap.example/", itemLimit: 10, sectionFeeds: { depth: 2 } },
  "test",
);
const MB = 1024 * 1024;

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "whole-site-heap-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const folder = (name: string) => new FsStorage(join(root, name));

/** A site in content/ and its reference build in a/. */
async function site(articles: number, seed: number) {
  const content = folder("content");
  await writeFiles(content, mixedSite(articles, seed, NOW.getTime()));
  const reference = await publishAll({ content, output: folder("a"), config, now: NOW });
  return { content, reference };
}

/** publishSite into b/ as map/reduce with one group thread, hearing every job's cost. */
async function mapReduce(options: Partial<SiteOptions>) {
  const groups: GroupCost[] = [];
  const reduces: ReduceCost[] = [];
  const report = await publishSite({
    content: folder("content"),
    output: folder("b"),
    config,
    now: NOW,
    threads: 1,
    mapReduceMin: 1,
    onGroup: (cost) => groups.push(cost),
    onReduce: (cost) => reduces.push(cost),
    ...options,
  });
  return { report, groups, reduces };
}

/** feeds/, the catalog and the head of b/ are the bytes of a/, and no run folder is left. */
async function expectSameAsReference(): Promise<void> {
  const prefixes = ["feeds/", INDEX_KEY, CATALOG_PREFIX];
  const expected = await readTree(folder("a"), prefixes);
  expect([...expected.keys()].filter((key) => key.startsWith("feeds/")).length).toBeGreaterThan(10);
  expect(treeDiff(expected, await readTree(folder("b"), prefixes))).toEqual([]);
  expect(await readdir(join(root, "b", "_state", "runs")).catch(() => [])).toEqual([]);
}

describe("soft heap limits of a local whole-site run", () => {
  it("by default every thread has a limit: the groups' and the reduce's", async () => {
    await site(80, 21);
    const limited = await mapReduce({});
    expect(limited.groups.length).toBeGreaterThan(0);
    // V8's limit is the old generation's plus the young generation's (a few MB to some tens).
    for (const cost of limited.groups) {
      expect(cost.heapLimit).toBeGreaterThanOrEqual(DEFAULT_GROUP_HEAP_MB * MB);
      expect(cost.heapLimit).toBeLessThan((DEFAULT_GROUP_HEAP_MB + 100) * MB);
      expect(cost.retried).toBeUndefined();
    }
    expect(limited.reduces[0]?.heapLimit).toBeGreaterThanOrEqual(DEFAULT_REDUCE_HEAP_MB * MB);
    expect(limited.reduces[0]?.heapLimit).toBeLessThan((DEFAULT_REDUCE_HEAP_MB + 100) * MB);
    await expectSameAsReference();
    // 0 takes the limit away: Node's own is far above both.
    const free = await mapReduce({ force: true, heapMb: 0, reduceHeapMb: 0 });
    expect(free.groups[0]?.heapLimit).toBeGreaterThan(2 * DEFAULT_REDUCE_HEAP_MB * MB);
    expect(free.reduces[0]?.heapLimit).toBeGreaterThan(2 * DEFAULT_REDUCE_HEAP_MB * MB);
  });

  it("a group that runs out of a soft limit runs once more with none, and the build is whole", async () => {
    const { reference } = await site(120, 22);
    // 4 MB cannot hold even the worker's code: every limited thread dies, every group is retried.
    const { report, groups } = await mapReduce({ heapMb: 4, retryUnlimited: true });
    expect(groups.length).toBeGreaterThan(0);
    expect(groups.every((cost) => cost.retried === true)).toBe(true);
    expect(groups.reduce((sum, cost) => sum + cost.articles, 0)).toBe(reference.articles);
    expect(reportOutcome(report)).toEqual(reportOutcome(reference));
    await expectSameAsReference();
  });

  it("a reduce that runs out of a soft limit before its commit runs once more with none", async () => {
    const { reference } = await site(100, 23);
    const { report, reduces } = await mapReduce({ reduceHeapMb: 4, retryUnlimited: true });
    expect(reduces).toHaveLength(1);
    expect(reduces[0]?.retried).toBe(true);
    expect(reportOutcome(report)).toEqual(reportOutcome(reference));
    await expectSameAsReference();
  });

  it("a job that dies of its soft limit in the middle runs once more with none", async () => {
    // 600 articles in 4 shards, groups of about 150: 4 groups over 2 threads, each dying twice.
    const { reference } = await site(600, 27);
    const workerUrl = new URL("../fixtures/oom-when-limited-worker.ts", import.meta.url);
    const { report, groups, reduces } = await mapReduce({
      workerUrl,
      threads: 2,
      groupTarget: 150,
      heapMb: 64,
      reduceHeapMb: 64,
      retryUnlimited: true,
    });
    expect(groups.map((cost) => cost.group).sort()).toEqual([0, 1, 2, 3]);
    expect(groups.every((cost) => cost.retried === true)).toBe(true);
    expect(reduces.map((cost) => cost.retried)).toEqual([true]);
    expect(reportOutcome(report)).toEqual(reportOutcome(reference));
    await expectSameAsReference();
  });

  it("a reduce that runs out after its commit is not run again over the committed head", async () => {
    await site(100, 24);
    const workerUrl = new URL("../fixtures/oom-after-commit-worker.ts", import.meta.url);
    await expect(mapReduce({ workerUrl, reduceHeapMb: 64, retryUnlimited: true })).rejects.toThrow(
      /^the reduce ran out of its 64 MB heap limit after its commit: feeds\/ and the state are published/,
    );
    // What the reduce committed stands: the feeds of the site, the head with no claim.
    await expectSameAsReference();
    expect((await loadIndex(folder("b"), config)).index.wholeSite).toBeUndefined();
    // The next build finds a usable state: no whole-site run, nothing to write.
    const next = await mapReduce({});
    expect(next.groups).toEqual([]);
    expect(next.report.written).toEqual([]);
  });

  it("a limit given is hard: the build fails, naming its stage", async () => {
    await site(60, 25);
    await expect(mapReduce({ heapMb: 4 })).rejects.toThrow(/^group 0: .*memory limit/);
    await expect(mapReduce({ force: true, heapMb: 0, reduceHeapMb: 4 })).rejects.toThrow(
      /^the reduce: .*memory limit/,
    );
    expect(await folder("b").get("feeds/rss.xml")).toBeUndefined();
  });
});

describe("the CLI's heap settings", () => {
  const entry = "file:///repo/functions/cli/main.ts";
  it("reads limits in MB, 0 for none, and leaves the defaults to a blank or bad value", () => {
    expect(mapReduceEnv(entry, { FEEDPUB_WORKER_HEAP_MB: "192", FEEDPUB_REDUCE_HEAP_MB: "0" })).toEqual({
      heapMb: 192,
      reduceHeapMb: 0,
    });
    expect(mapReduceEnv(entry, { FEEDPUB_WORKER_HEAP_MB: "", FEEDPUB_REDUCE_HEAP_MB: "lots" })).toEqual({});
    expect(mapReduceEnv(entry, { FEEDPUB_WORKER_HEAP_MB: "-1", FEEDPUB_THREADS: "0" })).toEqual({});
    expect(
      mapReduceEnv("file:///repo/dist/feedpub.mjs", { FEEDPUB_THREADS: "3", FEEDPUB_GROUP_TARGET: "250" }),
    ).toEqual({
      threads: 3,
      groupTarget: 250,
      workerUrl: new URL("file:///repo/dist/group-worker.mjs"),
    });
  });

  it("says when a job ran once more without its limit, naming the setting", async () => {
    await site(120, 26);
    const lines: string[] = [];
    await mapReduce({
      heapMb: 4,
      reduceHeapMb: 4,
      retryUnlimited: true,
      ...heapNotices((line) => lines.push(line)),
    });
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0]).toMatch(
      /^feedpub: group \d+ of the whole-site run ran out of its heap limit and ran once more without one; FEEDPUB_WORKER_HEAP_MB sets the limit \(0 for none\)\n$/,
    );
    expect(lines.at(-1)).toMatch(/^feedpub: the whole-site run's reduce ran out .*FEEDPUB_REDUCE_HEAP_MB/);
    lines.length = 0;
    await mapReduce({ force: true, ...heapNotices((line) => lines.push(line)) });
    expect(lines).toEqual([]);
  });
});
