import { availableParallelism } from "node:os";
import { MessageChannel, Worker, type WorkerOptions } from "node:worker_threads";
import type { SiteConfig } from "../../core/config.ts";
import { serveStorage } from "../../storage/port-storage.ts";
import type { Stores } from "../stores.ts";
import type { GroupRunner } from "./local.ts";

/** What one group cost in its worker thread. */
export interface GroupCost {
  readonly group: number;
  readonly articles: number;
  readonly ms: number;
  /** The highest V8 heap used while it ran (bytes). */
  readonly peak: number;
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
  options: { threads?: number; workerUrl?: URL; onGroup?: (cost: GroupCost) => void } = {},
): GroupRunner {
  return async (run, groups) => {
    const threads = Math.max(1, Math.min(options.threads ?? availableParallelism(), groups.length));
    const queue = [...groups];
    const url = options.workerUrl ?? defaultWorkerUrl();
    const one = async () => {
      const content = new MessageChannel();
      const output = new MessageChannel();
      const stopContent = serveStorage(stores.content, content.port1);
      const stopOutput = serveStorage(stores.output, output.port1);
      const worker = startWorker(url, {
        workerData: { config, run, content: content.port2, output: output.port2 },
        transferList: [content.port2, output.port2],
      });
      try {
        for (let group = queue.shift(); group !== undefined; group = queue.shift()) {
          // Asked first: `onGroup?.(await ask())` would skip the work when no one listens.
          const cost = await ask(worker, group);
          options.onGroup?.(cost);
        }
      } finally {
        await worker.terminate();
        stopContent();
        stopOutput();
        content.port1.close();
        output.port1.close();
      }
    };
    await Promise.all(Array.from({ length: threads }, one));
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

function ask(worker: Worker, group: number): Promise<GroupCost> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: GroupCost & { error?: string }) => {
      if (reply.group !== group) return;
      cleanup();
      if (reply.error) reject(new Error(`group ${group}: ${reply.error}`));
      else resolve(reply);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`group ${group}: its worker exited (${code})`));
    };
    const cleanup = () => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
    worker.postMessage({ group });
  });
}
