/**
 * What the environment says about a whole-site run on this machine, for `feedpub build` and
 * `feedpub rebuild`: FEEDPUB_MAP_REDUCE_MIN (the site size from which it runs as map/reduce; the
 * bench compares both ways on one site), FEEDPUB_THREADS (group worker threads; default: every
 * core), FEEDPUB_WORKER_HEAP_MB and FEEDPUB_REDUCE_HEAP_MB (heap limits of the group threads and
 * of the reduce's; default: Node's). `entryUrl` is the CLI's own module: in the bundle
 * (dist/feedpub.mjs) the group worker is dist/group-worker.mjs beside it.
 */
export function mapReduceEnv(
  entryUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): {
  workerUrl?: URL;
  mapReduceMin?: number;
  threads?: number;
  heapMb?: number;
  reduceHeapMb?: number;
} {
  const count = (name: string) => {
    const value = Number(env[name]);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  };
  const min = count("FEEDPUB_MAP_REDUCE_MIN");
  const threads = count("FEEDPUB_THREADS");
  const heap = count("FEEDPUB_WORKER_HEAP_MB");
  const reduceHeap = count("FEEDPUB_REDUCE_HEAP_MB");
  return {
    ...(threads ? { threads } : {}),
    ...(heap ? { heapMb: heap } : {}),
    ...(reduceHeap ? { reduceHeapMb: reduceHeap } : {}),
    ...(entryUrl.endsWith(".ts") ? {} : { workerUrl: new URL("./group-worker.mjs", entryUrl) }),
    ...(min ? { mapReduceMin: min } : {}),
  };
}
