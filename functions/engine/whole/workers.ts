import { availableParallelism } from "node:os";
import { MessageChannel, Worker, type WorkerOptions } from "node:worker_threads";
import type { SiteConfig } from "../../core/config.ts";
import { serveStorage } from "../../storage/port-storage.ts";
import type { PublishReport } from "../rebuild.ts";
import { loadIndex } from "../store.ts";
import type { Stores } from "../stores.ts";
import type { Job } from "./group-worker.ts";
import type { GroupRunner, ReduceRunner } from "./local.ts";

/** What one group cost in its worker thread. */
export interface GroupCost {
  readonly group: number;
  readonly articles: number;
  readonly ms: number;
  /** The highest V8 heap used while it ran (bytes). */
  readonly peak: number;
  /** The thread's heap limit (bytes, V8's heap_size_limit: the old generation's and the young's). */
  readonly heapLimit: number;
  /** It ran out of the heap limit and ran once more with none (ThreadOptions.retryUnlimited). */
  readonly retried?: boolean;
}

/** What the reduce cost in its worker thread. */
export interface ReduceCost {
  readonly ms: number;
  readonly peak: number;
  readonly heapLimit: number;
  readonly retried?: boolean;
}

export interface ThreadOptions {
  /** The worker's code (default: group-worker beside this file). */
  readonly workerUrl?: URL;
  /**
   * The worker's old-generation heap limit (MB), as a Lambda's memory size limits a child: the
   * garbage collector works to stay under it, and a job that needs more fails, loudly.
   */
  readonly heapMb?: number;
  /**
   * A job that runs out of `heapMb` runs once more, in a fresh thread with no limit, instead of
   * failing: a soft limit, which keeps the common site small without failing a site of bigger
   * articles. Safe for a group, which only writes its own partial results; the reduce runs again
   * only while the head still carries a claim, that is before its commit.
   */
  readonly retryUnlimited?: boolean;
}

/** Where the worker's code is: beside this file, as TypeScript (tests, tsx) or as the bundle's entry. */
function defaultWorkerUrl(): URL {
  return import.meta.url.endsWith(".ts")
    ? new URL("./group-worker.ts", import.meta.url)
    : new URL("./group-worker.mjs", import.meta.url);
}

/**
 * The group stage in worker threads, one group at a time per thread, `threads` at once (all
 * cores by default): each thread reads and writes through the main thread's storage, so memory
 * is one group per thread, not the site. `onGroup` hears each group's cost.
 */
export function workerGroups(
  stores: Stores,
  config: SiteConfig,
  options: ThreadOptions & { threads?: number; onGroup?: (cost: GroupCost) => void } = {},
): GroupRunner {
  return async (run, groups) => {
    const threads = Math.max(1, Math.min(options.threads ?? availableParallelism(), groups.length));
    const queue = [...groups];
    const one = async () => {
      let thread = openThread(stores, config, run, options);
      try {
        for (let group = queue.shift(); group !== undefined; group = queue.shift()) {
          let reply: Record<string, unknown>;
          try {
            reply = await thread.ask({ group });
          } catch (error) {
            if (!canRetry(options, error)) throw error;
            await thread.close();
            reply = await askUnlimited(stores, config, run, options, { group });
            // The next group may well fit the limit again.
            thread = openThread(stores, config, run, options);
          }
          // Asked first: `onGroup?.(await ask())` would skip the work when no one listens.
          options.onGroup?.(reply as unknown as GroupCost);
        }
      } finally {
        await thread.close();
      }
    };
    await Promise.all(Array.from({ length: threads }, one));
  };
}

/**
 * The reduce in a worker thread of its own, as the state machine runs it in a function of its
 * own: its memory is released when it ends, and `heapMb` bounds it. `onReduce` hears its cost.
 */
export function workerReduce(
  stores: Stores,
  config: SiteConfig,
  options: ThreadOptions & { onReduce?: (cost: ReduceCost) => void } = {},
): ReduceRunner {
  return async (run, reduce) => {
    let reply: Record<string, unknown>;
    const thread = openThread(stores, config, run, options);
    try {
      reply = await thread.ask({ reduce });
    } catch (error) {
      await thread.close();
      if (!canRetry(options, error)) throw error;
      // The commit takes the claim away; a run that superseded this one left its own (and a reduce
      // run again refuses to commit over it, saying so).
      if ((await loadIndex(stores.output, config)).index.wholeSite === undefined)
        throw new Error(
          `the reduce ran out of its ${options.heapMb} MB heap limit after its commit: feeds/ and the state are published (uploads that came meanwhile are applied by the next regeneration); not running it again`,
          { cause: error },
        );
      reply = await askUnlimited(stores, config, run, options, { reduce });
    } finally {
      await thread.close();
    }
    options.onReduce?.({
      ms: reply.ms as number,
      peak: reply.peak as number,
      heapLimit: reply.heapLimit as number,
      ...(reply.retried ? { retried: true } : {}),
    });
    return reply.report as PublishReport;
  };
}

/** Whether a job that failed with `error` runs once more without a heap limit. */
function canRetry(options: ThreadOptions, error: unknown): boolean {
  const cause = (error as Error | undefined)?.cause as { code?: string } | undefined;
  return options.retryUnlimited === true && cause?.code === "ERR_WORKER_OUT_OF_MEMORY";
}

/** `job` in a fresh worker thread with no heap limit, which ends with it. */
async function askUnlimited(
  stores: Stores,
  config: SiteConfig,
  run: string,
  options: ThreadOptions,
  job: DistributiveOmit<Job, "job">,
): Promise<Record<string, unknown>> {
  const thread = openThread(stores, config, run, options.workerUrl ? { workerUrl: options.workerUrl } : {});
  try {
    return { ...(await thread.ask(job)), retried: true };
  } finally {
    await thread.close();
  }
}

interface Thread {
  ask(job: DistributiveOmit<Job, "job">): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/** A worker thread serving `stores` to it over two message channels. */
function openThread(stores: Stores, config: SiteConfig, run: string, options: ThreadOptions): Thread {
  const content = new MessageChannel();
  const output = new MessageChannel();
  const stopContent = serveStorage(stores.content, content.port1);
  const stopOutput = serveStorage(stores.output, output.port1);
  const worker = startWorker(options.workerUrl ?? defaultWorkerUrl(), {
    workerData: { config, run, content: content.port2, output: output.port2 },
    transferList: [content.port2, output.port2],
    ...(options.heapMb ? { resourceLimits: { maxOldGenerationSizeMb: options.heapMb } } : {}),
  });
  let jobs = 0;
  let closed = false;
  // A worker can die before it is asked (a heap limit too small for its code): kept for `ask`.
  let died: Error | undefined;
  worker.once("error", (error) => {
    died = error;
  });
  worker.once("exit", (code) => {
    died ??= new Error(`its worker exited (${code})`);
  });
  return {
    ask: (job) => {
      const numbered = { ...job, job: ++jobs } as Job;
      return died
        ? Promise.reject(new Error(`${describe(numbered)}: ${died.message}`, { cause: died }))
        : ask(worker, numbered);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await worker.terminate();
      stopContent();
      stopOutput();
      content.port1.close();
      output.port1.close();
    },
  };
}

/**
 * A worker on the bundle's code, or on the TypeScript source (tests, tsx): Node 20 does not pass
 * `--import tsx` on to a worker's loader, so a line of JavaScript loads the file through tsx's API.
 */
function startWorker(url: URL, options: WorkerOptions): Worker {
  if (!url.pathname.endsWith(".ts")) return new Worker(url, options);
  const tsx = import.meta.resolve("tsx/esm/api");
  const code = `import(${JSON.stringify(tsx)}).then((tsx) => tsx.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(url.href)}));`;
  return new Worker(code, { ...options, eval: true });
}

function describe(job: Job): string {
  return "group" in job ? `group ${job.group}` : "the reduce";
}

function ask(worker: Worker, job: Job): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: Record<string, unknown> & { job: number; error?: string }) => {
      if (reply.job !== job.job) return;
      cleanup();
      if (reply.error) reject(new Error(`${describe(job)}: ${reply.error}`));
      else resolve(reply);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new Error(`${describe(job)}: ${error.message}`, { cause: error }));
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`${describe(job)}: its worker exited (${code})`));
    };
    const cleanup = () => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
    worker.postMessage(job);
  });
}
