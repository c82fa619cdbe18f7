import type { SiteConfig } from "../../functions/core/config.ts";
import { forEachLimited } from "../../functions/engine/concurrency.ts";
import type { PublishReport } from "../../functions/engine/rebuild.ts";
import { INDEX_KEY } from "../../functions/engine/state/head.ts";
import type { Stores } from "../../functions/engine/stores.ts";
import { runGroup } from "../../functions/engine/whole/group.ts";
import { planGroups } from "../../functions/engine/whole/plan.ts";
import { reduceRun } from "../../functions/engine/whole/reduce.ts";
import { type ListedItem, shuffleBatch } from "../../functions/engine/whole/shuffle.ts";
import type { RunStarter } from "../../functions/engine/whole/start.ts";
import type { Storage } from "../../functions/storage/port.ts";

/** Writes every file of a generated site through the port (a folder or a bucket prefix). */
export async function writeFiles(storage: Storage, files: ReadonlyMap<string, string>): Promise<void> {
  await forEachLimited([...files], 16, ([key, body]) => storage.put(key, body).then(() => undefined));
}

/** A state machine stand-in: records each run it is asked to start, and starts nothing. */
export function recordingStarter(): { readonly start: RunStarter; readonly runs: string[] } {
  const runs: string[] = [];
  return {
    runs,
    start: async (run) => {
      runs.push(run);
    },
  };
}

/** Every stored object under the prefixes, by key (bytes as stored). */
export async function readTree(storage: Storage, prefixes: readonly string[]): Promise<Map<string, Buffer>> {
  const tree = new Map<string, Buffer>();
  for (const prefix of prefixes) {
    const keys: string[] = [];
    for await (const info of storage.list(prefix)) keys.push(info.key);
    await forEachLimited(keys, 16, async (key) => {
      const object = await storage.get(key);
      if (object) tree.set(key, Buffer.from(object.body));
    });
  }
  return tree;
}

/**
 * The keys two trees disagree on, each with why: an empty list means byte for byte equal. Trees
 * of bytes (readTree) or of S3 ETags (etagTree: the MD5 of a single-part upload's bytes).
 */
export function treeDiff(
  expected: ReadonlyMap<string, Buffer | string>,
  actual: ReadonlyMap<string, Buffer | string>,
): string[] {
  const diffs: string[] = [];
  for (const [key, value] of expected) {
    const other = actual.get(key);
    if (other === undefined) diffs.push(`missing: ${key}`);
    else if (typeof value === "string" || typeof other === "string") {
      if (value !== other) diffs.push(`differs: ${key}`);
    } else if (!other.equals(value)) diffs.push(`differs: ${key}${jsonFields(value, other)}`);
  }
  for (const key of actual.keys()) if (!expected.has(key)) diffs.push(`extra: ${key}`);
  return diffs.sort();
}

/** Every object under a prefix of a bucket, by key: its ETag, as the listing reports it. */
export async function etagTree(storage: Storage, prefix: string): Promise<Map<string, string>> {
  const tree = new Map<string, string>();
  for await (const info of storage.list(prefix)) tree.set(info.key, info.etag);
  return tree;
}

/** For JSON objects, which top-level fields differ (what a failure needs to say first). */
function jsonFields(a: Buffer, b: Buffer): string {
  try {
    const left = JSON.parse(a.toString("utf8")) as Record<string, unknown>;
    const right = JSON.parse(b.toString("utf8")) as Record<string, unknown>;
    const fields = [...new Set([...Object.keys(left), ...Object.keys(right)])].filter(
      (field) => JSON.stringify(left[field]) !== JSON.stringify(right[field]),
    );
    return ` (fields: ${fields.join(", ")})`;
  } catch {
    return "";
  }
}

/**
 * What a whole-site run and a rebuild must agree on (written and read counts may differ). Held
 * dates are compared as instants: whether they are Dates is a test of its own.
 */
export function reportOutcome(report: PublishReport) {
  return {
    articles: report.articles,
    published: report.published,
    inFeed: report.inFeed,
    archived: report.archived,
    waiting: report.waiting,
    problems: report.problems,
    held: report.held.map((held) => ({
      ...held,
      until: held.until === undefined ? undefined : new Date(held.until).toISOString(),
    })),
    nextChange: report.nextChange?.toISOString(),
  };
}

/** The stored head as JSON (undefined when there is none). */
export async function storedHead(output: Storage): Promise<Record<string, unknown> | undefined> {
  const object = await output.get(INDEX_KEY);
  return object
    ? (JSON.parse(Buffer.from(object.body).toString("utf8")) as Record<string, unknown>)
    : undefined;
}

/**
 * Where a driven run stands when `beside` is called: after the listing, during the shuffle,
 * after the plan step, during the groups, after them, during the reduce.
 */
export type RunPhase = "listed" | "shuffle" | "planned" | "groups" | "grouped" | "reduce";

export interface DriveOptions {
  /** The clock of the uploads the reduce applies again. */
  readonly now: Date;
  /** Listed objects per shuffle batch (the ItemBatcher's size). */
  readonly batchSize?: number;
  /** Work run at each phase: alone at the pauses, concurrently with the stage during one. */
  readonly beside?: (phase: RunPhase) => Promise<unknown>;
}

/**
 * A claimed run driven the way the state machine drives it: the listing of content/ cut into
 * batches, every batch shuffled at once (a Distributed Map), the plan step, every group at once
 * (the second map), then the reduce. The run's folder is left, as the bucket's lifecycle rule
 * (not the run) removes it.
 */
export async function driveRun(
  stores: Stores,
  config: SiteConfig,
  run: string,
  options: DriveOptions,
): Promise<{ report: PublishReport; groups: number }> {
  const beside = options.beside ?? (async () => undefined);
  const { groups } = await mapRun(stores, config, run, { ...options, beside });
  const [report] = await Promise.all([
    reduceRun(stores, config, run, { now: options.now }),
    beside("reduce"),
  ]);
  return { report, groups };
}

/** The map stages of a claimed run (shuffle, plan, groups), without the reduce. */
export async function mapRun(
  stores: Stores,
  config: SiteConfig,
  run: string,
  options: DriveOptions,
): Promise<{ groups: number }> {
  const beside = options.beside ?? (async () => undefined);
  const size = options.batchSize ?? 200;
  const batches: ListedItem[][] = [];
  for await (const info of stores.content.list()) {
    const last = batches[batches.length - 1];
    const item = { key: info.key, etag: info.etag, size: info.size };
    if (last && last.length < size) last.push(item);
    else batches.push([item]);
  }
  await beside("listed");
  await Promise.all([...batches.map((items) => shuffleBatch(stores, { run, items })), beside("shuffle")]);
  const planned = await planGroups(stores.output, run);
  await beside("planned");
  await Promise.all([
    ...planned.groupIds.map((group) => runGroup(stores, config, run, group)),
    beside("groups"),
  ]);
  await beside("grouped");
  return { groups: planned.groups };
}
