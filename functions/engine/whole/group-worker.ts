import { getHeapStatistics } from "node:v8";
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import type { SiteConfig } from "../../core/config.ts";
import { PortStorage } from "../../storage/port-storage.ts";
import { runGroup } from "./group.ts";
import { reduceRun } from "./reduce.ts";

/**
 * A worker thread of a local whole-site run: runs the groups it is sent, or the reduce (the same
 * runGroup and reduceRun as the state machine's children) against the main thread's storage, and
 * reports each job with the highest heap it used, sampled while it ran, and its heap's limit.
 */
interface Data {
  readonly config: SiteConfig;
  readonly run: string;
  readonly content: MessagePort;
  readonly output: MessagePort;
}

export type Job =
  | { readonly job: number; readonly group: number }
  | { readonly job: number; readonly reduce: { readonly now?: Date; readonly stateGraceMs?: number } };

const data = workerData as Data;
const stores = {
  content: new PortStorage(data.content, { md5Etags: true }),
  output: new PortStorage(data.output, { md5Etags: true }),
};

async function work(message: Job): Promise<Record<string, unknown>> {
  if ("group" in message) {
    const result = await runGroup(stores, data.config, data.run, message.group);
    return { group: message.group, articles: result.articles };
  }
  const report = await reduceRun(stores, data.config, data.run, message.reduce);
  return { report };
}

parentPort?.on("message", async (message: Job) => {
  let peak = getHeapStatistics().used_heap_size;
  const sampler = setInterval(() => {
    peak = Math.max(peak, getHeapStatistics().used_heap_size);
  }, 20);
  const started = Date.now();
  try {
    const result = await work(message);
    const heap = getHeapStatistics();
    peak = Math.max(peak, heap.used_heap_size);
    const heapLimit = heap.heap_size_limit;
    parentPort?.postMessage({ job: message.job, ...result, ms: Date.now() - started, peak, heapLimit });
  } catch (error) {
    parentPort?.postMessage({ job: message.job, error: (error as Error).stack ?? String(error) });
  } finally {
    clearInterval(sampler);
  }
});
