import { mediaType } from "../../core/media.ts";
import { sourceKind } from "../../core/parse.ts";
import { PreconditionFailedError } from "../../storage/errors.ts";
import { backoff, forEachLimited } from "../concurrency.ts";
import type { PublishOptions, PublishReport } from "../rebuild.ts";
import { shardCountFor } from "../state/shards.ts";
import { loadIndex } from "../store.ts";
import { runGroup } from "./group.ts";
import { groupCountFor, LOCAL_GROUP_TARGET, runFolder, SHUFFLE_GROUPS } from "./layout.ts";
import { listKeys } from "./parts.ts";
import { planGroups } from "./plan.ts";
import { type ReduceOptions, reduceRun } from "./reduce.ts";
import { type ListedItem, shuffleBatch } from "./shuffle.ts";
import { startWholeSite, wholeSiteReason } from "./start.ts";

/** Listed objects per shuffle batch: what the state machine's ItemBatcher sends one child. */
export const SHUFFLE_BATCH = 2_000;

/** Runs the groups of a run: in this thread, or in worker threads (see workers.ts). */
export type GroupRunner = (run: string, groups: readonly number[]) => Promise<void>;

/** Runs the reduce of a run: in this thread, or in a worker thread of its own. */
export type ReduceRunner = (run: string, options: ReduceOptions) => Promise<PublishReport>;

export interface WholeSiteOptions extends PublishOptions {
  /** Why the whole site is rebuilt (recorded in the run's manifest). */
  readonly reason?: string;
  /** Runs the group stage; default: one group after the other in this thread. */
  readonly groups?: GroupRunner;
  /** Runs the reduce; default: in this thread. */
  readonly reduce?: ReduceRunner;
  /** Articles a group aims for; default LOCAL_GROUP_TARGET. */
  readonly groupTarget?: number;
}

/**
 * A whole-site run on this machine, the way the state machine runs it: the listing of content/
 * cut into batches and shuffled by group, the group stage (in worker threads when a runner is
 * given), then the reduce, which commits. The partial results are removed afterwards.
 */
export async function publishWholeSite(options: WholeSiteOptions): Promise<PublishReport> {
  const { content, output, config } = options;
  const now = options.now ?? new Date();
  const batches: ListedItem[][] = [[]];
  let articles = 0;
  for await (const info of content.list()) {
    if (sourceKind(info.key)) articles++;
    else if (!mediaType(info.key)) continue;
    let batch = batches[batches.length - 1] as ListedItem[];
    if (batch.length >= SHUFFLE_BATCH) {
      batch = [];
      batches.push(batch);
    }
    batch.push({ key: info.key, etag: info.etag, size: info.size });
  }
  // Listed first, so the shuffle makes no more groups than the group stage will use.
  const target = options.groupTarget ?? LOCAL_GROUP_TARGET;
  const shuffleGroups = groupCountFor(articles, shardCountFor(articles), SHUFFLE_GROUPS, target);
  const run = await claim(options, now, shuffleGroups, target);
  try {
    await forEachLimited(batches, 4, (items) =>
      shuffleBatch({ content, output }, { run, items }).then(() => undefined),
    );
    const planned = await planGroups(output, run);
    const runGroups: GroupRunner =
      options.groups ??
      (async (id, groups) => {
        for (const group of groups) await runGroup({ content, output }, config, id, group);
      });
    await runGroups(run, planned.groupIds);
    const reduce: ReduceRunner =
      options.reduce ?? ((id, reduceOptions) => reduceRun({ content, output }, config, id, reduceOptions));
    return await reduce(run, {
      ...(options.now ? { now: options.now } : {}),
      ...(options.stateGraceMs !== undefined ? { stateGraceMs: options.stateGraceMs } : {}),
    });
  } finally {
    if (output.deleteFolder) await output.deleteFolder(runFolder(run));
    else await forEachLimited(await listKeys(output, runFolder(run)), 32, (key) => output.delete(key));
  }
}

/**
 * Claims the head for this run, as the state machine's starters do, so that uploads to a bucket
 * meanwhile leave their notes for its reduce; a run already under way is superseded (this one's
 * reduce commits, that one's refuses to).
 */
async function claim(
  options: WholeSiteOptions,
  now: Date,
  shuffleGroups: number,
  groupTarget: number,
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const loaded = await loadIndex(options.output, options.config);
    const reason = options.reason ?? (options.force ? "force" : (wholeSiteReason(loaded, now) ?? "rebuild"));
    try {
      return await startWholeSite(options.output, options.config, loaded, {
        reason,
        now,
        shuffleGroups,
        groupTarget,
        start: async () => {},
      });
    } catch (error) {
      if (!(error instanceof PreconditionFailedError) || attempt >= 8) throw error;
      await backoff(attempt);
    }
  }
}
