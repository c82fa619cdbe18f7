import { shuffleBatch } from "../engine/whole/shuffle.ts";
import { CONTENT_PREFIX, runtimeFromEnv } from "./env.ts";
import { log } from "./log.ts";

const runtime = runtimeFromEnv(process.env);

/** One item of the Distributed Map's S3 listing (the ItemSelector keeps its key, ETag and size). */
interface ListedItem {
  readonly Key: string;
  readonly ETag: string;
  readonly Size: number;
}

/**
 * Stage 1 of a whole-site run, a child of the state machine's first Distributed Map: one batch
 * of the listing of content/, split by shuffle group (see engine/whole/layout.ts).
 */
export async function handler(event: {
  BatchInput: { run: string };
  Items: readonly ListedItem[];
}): Promise<{ articles: number; media: number }> {
  const items = event.Items.filter((item) => item.Key.startsWith(CONTENT_PREFIX)).map((item) => ({
    key: item.Key.slice(CONTENT_PREFIX.length),
    etag: item.ETag.startsWith('"') ? item.ETag : `"${item.ETag}"`,
    size: Number(item.Size) || 0,
  }));
  const result = await shuffleBatch(runtime.stores, { run: event.BatchInput.run, items });
  log("info", "shuffled", { run: event.BatchInput.run, ...result });
  return result;
}
