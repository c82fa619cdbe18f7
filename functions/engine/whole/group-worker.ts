import { getHeapStatistics } from "node:v8";
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import type { SiteConfig } from "../../core/config.ts";
import { PortStorage } from "../../storage/port-storage.ts";
import { runGroup } from "./group.ts";

/**
 * A worker thread of a local whole-site run: runs the groups it is sent (the same runGroup as
 * the state machine's children) against the main thread's storage, and reports each one with
 * the highest heap it used, sampled while it ran.
 */
interface Data {
  readonly config: SiteConfig;
  readonly run: string;
  readonly content: MessagePort;
  readonly output: MessagePort;
}

const data = workerData as Data;
const stores = {
  content: new PortStorage(data.content, { md5Etags: true }),
  output: new PortStorage(data.output, { md5Etags: true }),
};

parentPort?.on("message", async (message: { group: number }) => {
  let peak = getHeapStatistics().used_heap_size;
  const sampler = setInterval(() => {
    peak = Math.max(peak, getHeapStatistics().used_heap_size);
  }, 20);
  const started = Date.now();
  try {
    const result = await runGroup(stores, data.config, data.run, message.group);
    peak = Math.max(peak, getHeapStatistics().used_heap_size);
    parentPort?.postMessage({
      group: message.group,
      articles: result.articles,
      ms: Date.now() - started,
      peak,
    });
  } catch (error) {
    parentPort?.postMessage({ group: message.group, error: (error as Error).stack ?? String(error) });
  } finally {
    clearInterval(sampler);
  }
});
