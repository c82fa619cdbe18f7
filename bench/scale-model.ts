/**
 * The scale model (section 8 of BENCHMARKS.md): the real planner, shuffle, group workers and
 * reduce of a whole-site run, and the real upload and reconcile paths, on an in-memory S3 model
 * (bench/model-storage.ts, latency and rates in bench/model-latency.ts, MODEL_SOURCES) with
 * articles generated on the fly (bench/model-content.ts). Each child is measured on its own; the
 * wall time of the state machine at a concurrency of 100 is the measured children laid out on
 * 100 slots (longest first), plus the plan step and the reduce, which run alone.
 *
 *   npx tsx bench/scale-model.ts [--articles 100000] [--threads 2]
 */

import { parseArgs } from "node:util";
import { parseConfig, type SiteConfig } from "../functions/core/config.ts";
import { applyChanges } from "../functions/engine/apply.ts";
import { forEachLimited } from "../functions/engine/concurrency.ts";
import { shardCountFor } from "../functions/engine/state/shards.ts";
import { loadIndex } from "../functions/engine/store.ts";
import { groupCountFor, SHUFFLE_GROUPS } from "../functions/engine/whole/layout.ts";
import { SHUFFLE_BATCH } from "../functions/engine/whole/local.ts";
import { planGroups } from "../functions/engine/whole/plan.ts";
import { reconcileLarge } from "../functions/engine/whole/reconcile-diff.ts";
import { type ListedItem, shuffleBatch } from "../functions/engine/whole/shuffle.ts";
import { startWholeSite } from "../functions/engine/whole/start.ts";
import {
  type GroupCost,
  type ReduceCost,
  workerGroups,
  workerReduce,
} from "../functions/engine/whole/workers.ts";
import { GeneratedContent } from "./model-content.ts";
import type { RequestKind } from "./model-latency.ts";
import { ModelStorage } from "./model-storage.ts";

export const CONCURRENCY = 100;
/**
 * Each worker thread's old-generation heap limit: a 1,024 MB Lambda less what the runtime, the
 * SDK, the code and V8's young generation take besides (a one-article Regenerate is 168 MB in all, section 5).
 */
export const HEAP_MB = 800;
const NOW = new Date("2026-12-15T00:00:00Z");

export interface StageFigures {
  readonly children: number;
  /** Each child's duration (ms), as measured. */
  readonly ms: readonly number[];
  /** Each child's peak heap (bytes), where measured. */
  readonly peaks: readonly number[];
}

export interface UploadFigures {
  readonly ms: number;
  readonly requests: number;
  readonly byKind: Record<string, number>;
}

export interface ScaleFigures {
  readonly articles: number;
  readonly groups: number;
  readonly shuffle: StageFigures;
  readonly group: StageFigures;
  readonly planMs: number;
  readonly reduceMs: number;
  readonly reducePeak: number;
  /** Modelled wall time of the state machine at CONCURRENCY (ms). */
  readonly wallMs: number;
  readonly requests: Record<RequestKind, number>;
  readonly stateBytes: number;
  readonly upload: UploadFigures;
  readonly tagged: UploadFigures;
  readonly reconcile: {
    readonly ms: number;
    readonly requests: number;
    readonly articleGets: number;
    readonly differing: number;
  };
}

function settings(title: string): SiteConfig {
  return parseConfig({ title, url: "https://news.example.test/", itemLimit: 20 }, "scale model");
}

/** Durations laid out on `slots` workers, longest first: the makespan. */
export function makespan(durations: readonly number[], slots: number): number {
  const ends = new Array(Math.min(slots, Math.max(1, durations.length))).fill(0) as number[];
  for (const ms of [...durations].sort((a, b) => b - a)) {
    let best = 0;
    for (let i = 1; i < ends.length; i++) if ((ends[i] as number) < (ends[best] as number)) best = i;
    ends[best] = (ends[best] as number) + ms;
  }
  return Math.max(...ends);
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** One whole-site run (the first import), one upload and one reconcile with nothing changed. */
export async function scaleModel(
  articles: number,
  threads: number,
  log: (line: string) => void,
): Promise<ScaleFigures> {
  const content = new GeneratedContent({ count: articles, seed: 1 });
  const output = new ModelStorage({});
  const stores = { content, output };
  const config = settings("Scale model");
  const shuffleGroups = groupCountFor(articles, shardCountFor(articles), SHUFFLE_GROUPS);
  const run = await startWholeSite(output, config, await loadIndex(output, config), {
    reason: "missing",
    now: NOW,
    shuffleGroups,
    start: async () => {},
  });
  log(`  listing ${articles} articles`);
  const batches: ListedItem[][] = [[]];
  for await (const info of content.list()) {
    let batch = batches[batches.length - 1] as ListedItem[];
    if (batch.length >= SHUFFLE_BATCH) {
      batch = [];
      batches.push(batch);
    }
    batch.push({ key: info.key, etag: info.etag, size: info.size });
  }
  log(`  shuffle: ${batches.length} children`);
  const shuffleMs: number[] = [];
  await forEachLimited(batches, 4, async (items) => {
    const started = performance.now();
    await shuffleBatch(stores, { run, items });
    shuffleMs.push(performance.now() - started);
  });
  const started = performance.now();
  const planned = await planGroups(output, run);
  const planMs = performance.now() - started;
  log(`  groups: ${planned.groupIds.length} children in ${threads} worker threads`);
  const costs: GroupCost[] = [];
  await workerGroups(stores, config, {
    threads,
    heapMb: HEAP_MB,
    onGroup: (cost) => {
      costs.push(cost);
      if (costs.length % 16 === 0) log(`    ${costs.length}/${planned.groupIds.length} groups`);
    },
  })(run, planned.groupIds);
  log(`  reduce, in a worker thread limited to a ${HEAP_MB} MB heap`);
  let reduceCost: ReduceCost = { ms: 0, peak: 0, heapLimit: 0 };
  await workerReduce(stores, config, {
    heapMb: HEAP_MB,
    onReduce: (cost) => {
      reduceCost = cost;
    },
  })(run, { now: NOW });
  const reduceMs = reduceCost.ms;
  const requests = { ...content.counts() };
  for (const [kind, n] of Object.entries(output.counts())) requests[kind as RequestKind] += n;
  let stateBytes = 0;
  for await (const info of output.list("_state/"))
    if (!info.key.startsWith("_state/runs/")) stateBytes += info.size;
  const wallMs =
    makespan(shuffleMs, CONCURRENCY) +
    planMs +
    makespan(
      costs.map((c) => c.ms),
      CONCURRENCY,
    ) +
    reduceMs;
  const upload = await oneUpload(stores, config, articles, "bare");
  const tagged = await oneUpload(stores, config, articles, "tagged");
  const reconcile = await quietReconcile(stores, config);
  return {
    articles,
    groups: planned.groupIds.length,
    shuffle: { children: batches.length, ms: shuffleMs, peaks: [] },
    group: { children: costs.length, ms: costs.map((c) => c.ms), peaks: costs.map((c) => c.peak) },
    planMs,
    reduceMs,
    reducePeak: reduceCost.peak,
    wallMs,
    requests,
    stateBytes,
    upload,
    tagged,
    reconcile,
  };
}

/**
 * One new article, applied as its S3 event would be: "bare" has neither tags nor author (the
 * main feed, its section's and the head change), "tagged" is a copy of a generated article (its
 * 2-3 tags and its author) dated now. Each feed an upload changes costs its three files and state.
 */
async function oneUpload(
  stores: { content: GeneratedContent; output: ModelStorage },
  config: SiteConfig,
  articles: number,
  kind: "bare" | "tagged",
) {
  // In the month still open: on no archive page yet.
  const date = "2026-12-14T12:00:00.000Z";
  const key = `${kind === "bare" ? "world" : "tech"}/2026/12/new-${kind}.md`;
  let body = `---\ntitle: "A new article"\ndate: ${date}\n---\nNew.\n`;
  if (kind === "tagged") {
    const copied = await stores.content.get(stores.content.keyOf(Math.floor(articles / 2)));
    body = Buffer.from(copied?.body ?? [])
      .toString("utf8")
      .replace(/^date: .*$/m, `date: ${date}`);
  }
  await stores.content.put(key, body);
  stores.content.reset();
  stores.output.reset();
  const started = performance.now();
  await applyChanges({ ...stores, config, keys: [key], now: NOW });
  const ms = performance.now() - started;
  const byKind: Record<string, number> = {};
  for (const store of [stores.content, stores.output])
    for (const [kind, n] of Object.entries(store.counts())) if (n) byKind[kind] = (byKind[kind] ?? 0) + n;
  return { ms, requests: total(byKind), byKind };
}

/** The scheduled reconcile of a large site when nothing changed: compared, not read. */
async function quietReconcile(
  stores: { content: GeneratedContent; output: ModelStorage },
  config: SiteConfig,
) {
  stores.content.reset();
  stores.output.reset();
  const started = performance.now();
  const outcome = await reconcileLarge({ ...stores, config, now: NOW, start: async () => {} });
  const ms = performance.now() - started;
  const requests = total(stores.content.counts()) + total(stores.output.counts());
  return { ms, requests, articleGets: stores.content.counts().GET, differing: outcome.differing };
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const uploadCell = (u: UploadFigures) =>
  `**${u.requests}** (${Object.entries(u.byKind)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ")}), **${s(u.ms)}**`;

/** Section 8 of BENCHMARKS.md. */
export async function scaleSection(
  lines: string[],
  sizes: readonly number[],
  threads: number,
  log: (line: string) => void,
) {
  const rows: ScaleFigures[] = [];
  for (const size of sizes) {
    log(`8. scale model at ${size} articles`);
    rows.push(await scaleModel(size, threads, log));
  }
  lines.push(
    "## 8. Whole-site work at 100,000 and 1,000,000 articles (scale model)",
    "",
    "The real shuffle, group workers, plan step and reduce of a whole-site run (a first import: no state),",
    "then one upload and a reconcile with nothing changed, on an in-memory model of S3 (`bench/model-storage.ts`)",
    "with articles generated on the fly (`bench/model-content.ts`: ~2 KB Markdown, 2-3 tags of 60, 1 author of 20,",
    "dates over ten years: 120 archive pages). Every request waits as S3 would (GET 20 ms, PUT 35 ms, LIST 60 ms",
    "a page, 85 MB/s, 5,500 reads and 3,500 writes a second; where the figures come from: `MODEL_SOURCES` in",
    "`bench/model-latency.ts`). Each child ran on its own (group workers in worker threads, two at a time on",
    "this machine's two cores); the state machine's wall time is those measured children laid out on 100",
    "concurrent slots, plus the plan step and the reduce. Peak memory is the V8 heap each function used, in a worker thread",
    `limited to an ${HEAP_MB} MB old-generation heap (a 1,024 MB Lambda less the runtime, SDK and young generation).`,
    "",
    `| | ${rows.map((r) => `${r.articles.toLocaleString("en")} articles`).join(" | ")} |`,
    `| --- | ${rows.map(() => "---").join(" | ")} |`,
    `| shuffle children (batches of ${SHUFFLE_BATCH}) | ${rows.map((r) => `${r.shuffle.children} × median ${s(median(r.shuffle.ms))}, max ${s(Math.max(...r.shuffle.ms))}`).join(" | ")} |`,
    `| group children | ${rows.map((r) => `${r.group.children} × median ${s(median(r.group.ms))}, max ${s(Math.max(...r.group.ms))}`).join(" | ")} |`,
    `| group child peak heap (max) | ${rows.map((r) => mb(Math.max(...r.group.peaks))).join(" | ")} |`,
    `| plan step | ${rows.map((r) => s(r.planMs)).join(" | ")} |`,
    `| reduce: duration, peak heap | ${rows.map((r) => `${s(r.reduceMs)}, ${mb(r.reducePeak)}`).join(" | ")} |`,
    `| **state machine wall time at a concurrency of ${CONCURRENCY}** | ${rows.map((r) => `**${s(r.wallMs)}**`).join(" | ")} |`,
    `| requests of the run (GET / PUT / LIST / HEAD / DELETE) | ${rows.map((r) => `${r.requests.GET} / ${r.requests.PUT} / ${r.requests.LIST} / ${r.requests.HEAD} / ${r.requests.DELETE}`).join(" | ")} |`,
    `| state kept (head, catalog shards, feed states) | ${rows.map((r) => mb(r.stateBytes)).join(" | ")} |`,
    `| **one new article, no tags or author: requests, time** | ${rows.map((r) => uploadCell(r.upload)).join(" | ")} |`,
    `| one new article with 2-3 tags and an author | ${rows.map((r) => uploadCell(r.tagged)).join(" | ")} |`,
    `| **reconcile with nothing changed: requests, article GETs, time** | ${rows.map((r) => `${r.reconcile.requests}, **${r.reconcile.articleGets}**, ${s(r.reconcile.ms)}`).join(" | ")} |`,
    "",
    "Targets (issue 15) at 1,000,000: one upload ≤ 16 requests and ≤ 1 s; a reconcile with nothing changed",
    "without article GETs; a whole-site run ≤ 15 minutes at a concurrency of 100; no function over 1 GB.",
    "",
  );
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { articles: { type: "string", default: "100000" }, threads: { type: "string", default: "2" } },
  });
  const lines: string[] = [];
  const rows = await scaleSection(
    lines,
    values.articles.split(",").map(Number),
    Number(values.threads),
    (line) => process.stderr.write(`${line}\n`),
  );
  process.stdout.write(`${lines.join("\n")}\n`);
  process.stderr.write(
    `${JSON.stringify(rows.map((r) => ({ ...r, shuffle: undefined, group: { n: r.group.children } })))}\n`,
  );
}
