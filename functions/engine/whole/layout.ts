import { createHash } from "node:crypto";
import { shardOf } from "../state/shards.ts";

/**
 * Whole-site work (a settings change, lost state, a forced reconcile, a first import) runs as a
 * map/reduce over the site: on AWS a Step Functions state machine with two Distributed Maps,
 * locally the same functions in worker threads. Its partial results live under one folder per
 * run, `_state/runs/<run>/`, which the bucket expires after two days:
 *
 *   run.json                     the run: its clock, why it runs, how many shuffle groups
 *   list/<g>/<batch>.<n>.json    stage 1 (shuffle): the n listed articles of one batch in group g
 *   media/<batch>.json           stage 1: the batch's media keys and the problems publishing them
 *   groups/<k>.json              stage 2 (group k): its shard names, counts and problems
 *   cand/<k>.json                stage 2: its candidates for every feed, with their rendered items
 *   months/<month>/<k>.json      stage 2: its members of each archive page, rendered as pages show them
 *
 * A group is a class of paths by the same hash as the catalog's shards, so group k owns exactly
 * the shards whose slot is k modulo the group count: it can read each article's history (its
 * first-seen date) from the old shards of its slots and write the new shards whole.
 */
export const RUNS_PREFIX = "_state/runs/";
/** Uploads seen while a run was under way: the reduce applies them again after its commit. */
export const PENDING_PREFIX = "_state/pending/";
/** Shuffle groups: a power of two; the group stage uses this many or fewer (see groupCountFor). */
export const SHUFFLE_GROUPS = 256;
/** Articles one group worker aims for: read, parsed and rendered in one invocation. */
export const GROUP_TARGET = 4_000;
/**
 * The same on a machine, where the groups run one per core in one process: smaller groups keep
 * the process's memory to a few hundred MB whatever the site's size (BENCHMARKS.md, section 9).
 */
export const LOCAL_GROUP_TARGET = 1_000;

export interface RunManifest {
  readonly run: string;
  /** The run's clock (ISO): every stage plans with it. */
  readonly now: string;
  /** Why it runs: "settings-changed", "missing", "unreadable", "force", "first". */
  readonly reason: string;
  readonly shuffleGroups: number;
  /** Articles a group aims for (default GROUP_TARGET). */
  readonly groupTarget?: number;
  /** The month whose archive page does not exist yet (see families/archive.ts currentMonth). */
  readonly open: string;
}

export function runFolder(run: string): string {
  return `${RUNS_PREFIX}${run}/`;
}
export function manifestKey(run: string): string {
  return `${runFolder(run)}run.json`;
}
export function listFolder(run: string, group: number): string {
  return `${runFolder(run)}list/${String(group).padStart(4, "0")}/`;
}
export function listKey(run: string, group: number, batch: string, count: number): string {
  return `${listFolder(run, group)}${batch}.${count}.json`;
}
/** The count a list part's key carries, so the plan step sums a listing instead of reading. */
export function countOfListKey(key: string): number {
  const match = /\.(\d+)\.json$/.exec(key);
  return match ? Number(match[1]) : 0;
}
export function mediaPartKey(run: string, batch: string): string {
  return `${runFolder(run)}media/${batch}.json`;
}
export function groupResultKey(run: string, group: number): string {
  return `${runFolder(run)}groups/${String(group).padStart(4, "0")}.json`;
}
export function candidatesKey(run: string, group: number): string {
  return `${runFolder(run)}cand/${String(group).padStart(4, "0")}.json`;
}
export function monthsFolder(run: string): string {
  return `${runFolder(run)}months/`;
}
export function monthPartKey(run: string, month: string, group: number): string {
  return `${monthsFolder(run)}${month}/${String(group).padStart(4, "0")}.json`;
}
export function pendingKey(key: string): string {
  return `${PENDING_PREFIX}${createHash("sha1").update(key).digest("hex")}.json`;
}

/** A batch's name: from its first key, so that a retried child writes the same objects. */
export function batchName(firstKey: string): string {
  return createHash("sha1").update(firstKey).digest("hex").slice(0, 16);
}

/** The shuffle group of an article path (the catalog's hash, modulo the shuffle groups). */
export function shuffleGroupOf(path: string, groups: number): number {
  return shardOf(path, groups);
}

/** How many group workers a site of `articles` gets: a power of two, ≤ the shards and the shuffle groups. */
export function groupCountFor(
  articles: number,
  shards: number,
  shuffleGroups: number,
  target = GROUP_TARGET,
): number {
  let count = 1;
  while (count < shuffleGroups && count < shards && count * target < articles) count *= 2;
  return count;
}

/** A new run's id: its clock and a random part (also the state machine's execution name). */
export function newRunId(now: Date, random: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${random.slice(0, 8)}`;
}
