import { sourceKind } from "../../core/parse.ts";
import { type PublishOptions, type PublishReport, publishAll } from "../rebuild.ts";
import { loadIndex } from "../store.ts";
import { publishWholeSite } from "./local.ts";
import { wholeSiteReason } from "./start.ts";
import { type GroupCost, type ReduceCost, workerGroups, workerReduce } from "./workers.ts";

/**
 * From this many articles on, whole-site work on this machine runs as map/reduce in worker
 * threads (memory bounded by a group, not the site); below it one rebuild in this thread is
 * quicker (BENCHMARKS.md, section 9).
 */
export const MAP_REDUCE_MIN = 2_000;

/**
 * The default heap limits (MB) of a local run's group threads and of its reduce's thread: soft
 * ones, a job that runs out of its limit runs once more with none. They keep a 100,000-article
 * build under 512 MB (BENCHMARKS.md, section 9); the garbage collector of a thread without a
 * limit lets its heap grow long before it needs to.
 */
export const DEFAULT_GROUP_HEAP_MB = 192;
export const DEFAULT_REDUCE_HEAP_MB = 384;

export interface SiteOptions extends PublishOptions {
  /** Worker threads of the group stage (default: every core). */
  readonly threads?: number;
  /** The group worker's code, for a bundle that keeps it elsewhere. */
  readonly workerUrl?: URL;
  readonly mapReduceMin?: number;
  /** Articles a group aims for (default LOCAL_GROUP_TARGET): smaller for a site of big articles. */
  readonly groupTarget?: number;
  /**
   * Each group thread's old-generation heap limit (MB); 0 for none. The default,
   * DEFAULT_GROUP_HEAP_MB, is soft; a limit given here is hard unless `retryUnlimited` says so.
   */
  readonly heapMb?: number;
  /** The reduce thread's heap limit (MB), as `heapMb`; default DEFAULT_REDUCE_HEAP_MB, soft. */
  readonly reduceHeapMb?: number;
  /** Whether a job that runs out of its heap limit runs once more with none (see above). */
  readonly retryUnlimited?: boolean;
  readonly onGroup?: (cost: GroupCost) => void;
  readonly onReduce?: (cost: ReduceCost) => void;
}

/**
 * `feedpub build` and `feedpub rebuild --bucket`: whole-site work (--force, no usable state, new
 * settings) on a site of MAP_REDUCE_MIN articles or more is the state machine's map/reduce, run
 * here; anything else is a rebuild that reads only what changed since the catalog recorded it.
 */
export async function publishSite(options: SiteOptions): Promise<PublishReport> {
  const now = options.now ?? new Date();
  const loaded = await loadIndex(options.output, options.config);
  const whole = options.force === true || wholeSiteReason(loaded, now) !== undefined;
  if (
    whole &&
    (await articleCount(options, options.mapReduceMin ?? MAP_REDUCE_MIN)) >=
      (options.mapReduceMin ?? MAP_REDUCE_MIN)
  ) {
    const thread = options.workerUrl ? { workerUrl: options.workerUrl } : {};
    const groups = workerGroups(options, options.config, {
      ...thread,
      ...limit(options.heapMb, DEFAULT_GROUP_HEAP_MB, options.retryUnlimited),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.onGroup ? { onGroup: options.onGroup } : {}),
    });
    const reduce = workerReduce(options, options.config, {
      ...thread,
      ...limit(options.reduceHeapMb, DEFAULT_REDUCE_HEAP_MB, options.retryUnlimited),
      ...(options.onReduce ? { onReduce: options.onReduce } : {}),
    });
    return publishWholeSite({ ...options, now, groups, reduce });
  }
  return publishAll(options);
}

/** A thread's heap limit: the one given (hard unless said otherwise), or the default (soft). */
function limit(given: number | undefined, fallback: number, retry: boolean | undefined) {
  const heapMb = given ?? fallback;
  return heapMb > 0 ? { heapMb, retryUnlimited: retry ?? given === undefined } : {};
}

/** How many articles content/ lists, counting no further than `enough`. */
async function articleCount(options: PublishOptions, enough: number): Promise<number> {
  let count = 0;
  for await (const info of options.content.list()) if (sourceKind(info.key) && ++count >= enough) break;
  return count;
}
