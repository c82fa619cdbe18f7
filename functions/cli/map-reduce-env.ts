import type { GroupCost, ReduceCost } from "../engine/whole/workers.ts";

/**
 * What the environment says about a whole-site run on this machine, for `feedpub build` and
 * `feedpub rebuild`: FEEDPUB_MAP_REDUCE_MIN (the site size from which it runs as map/reduce; the
 * bench compares both ways on one site), FEEDPUB_THREADS (group worker threads; default: every
 * core), FEEDPUB_GROUP_TARGET (articles a group aims for), FEEDPUB_WORKER_HEAP_MB and
 * FEEDPUB_REDUCE_HEAP_MB (heap limits of the group threads and of the reduce's, 0 for none; a
 * limit set here is hard, where site.ts's defaults are soft: a job that runs out of one runs once
 * more without it). `entryUrl` is the CLI's own module: in the bundle (dist/feedpub.mjs) the
 * group worker is dist/group-worker.mjs beside it.
 */
export function mapReduceEnv(
  entryUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): {
  workerUrl?: URL;
  mapReduceMin?: number;
  groupTarget?: number;
  threads?: number;
  heapMb?: number;
  reduceHeapMb?: number;
} {
  const count = (name: string, least = 1) => {
    const value = env[name]?.trim() ? Number(env[name]) : Number.NaN;
    return Number.isInteger(value) && value >= least ? value : undefined;
  };
  const min = count("FEEDPUB_MAP_REDUCE_MIN");
  const threads = count("FEEDPUB_THREADS");
  const groupTarget = count("FEEDPUB_GROUP_TARGET");
  const heap = count("FEEDPUB_WORKER_HEAP_MB", 0);
  const reduceHeap = count("FEEDPUB_REDUCE_HEAP_MB", 0);
  return {
    ...(threads ? { threads } : {}),
    ...(groupTarget ? { groupTarget } : {}),
    ...(heap !== undefined ? { heapMb: heap } : {}),
    ...(reduceHeap !== undefined ? { reduceHeapMb: reduceHeap } : {}),
    ...(entryUrl.endsWith(".ts") ? {} : { workerUrl: new URL("./group-worker.mjs", entryUrl) }),
    ...(min ? { mapReduceMin: min } : {}),
  };
}

/**
 * Listeners that say so on `write` when a job of a whole-site run ran out of its soft heap limit
 * and ran once more without one: the build still succeeds, but its memory was not bounded.
 */
export function heapNotices(write: (line: string) => void): {
  onGroup: (cost: GroupCost) => void;
  onReduce: (cost: ReduceCost) => void;
} {
  const say = (job: string, setting: string) =>
    write(
      `feedpub: ${job} ran out of its heap limit and ran once more without one; ${setting} sets the limit (0 for none)\n`,
    );
  return {
    onGroup: (cost) => {
      if (cost.retried) say(`group ${cost.group} of the whole-site run`, "FEEDPUB_WORKER_HEAP_MB");
    },
    onReduce: (cost) => {
      if (cost.retried) say("the whole-site run's reduce", "FEEDPUB_REDUCE_HEAP_MB");
    },
  };
}
