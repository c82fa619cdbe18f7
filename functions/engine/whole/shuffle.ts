import type { ArticleProblem } from "../../core/errors.ts";
import { mediaType } from "../../core/media.ts";
import { sourceKind } from "../../core/parse.ts";
import { forEachLimited, READ_CONCURRENCY } from "../concurrency.ts";
import { syncMedia } from "../media-sync.ts";
import type { Stores } from "../stores.ts";
import { batchName, listKey, mediaPartKey, shuffleGroupOf } from "./layout.ts";
import { readManifest, writeJson } from "./parts.ts";

/** One listed object of content/: its path, the listing's ETag and its size. */
export interface ListedItem {
  readonly key: string;
  readonly etag: string;
  readonly size: number;
}

/** A list part's row: path, ETag, size. */
export type ListRow = readonly [string, string, number];

/**
 * Stage 1: one batch of the listing of content/ (the Distributed Map's ItemReader pages through
 * it, the ItemBatcher cuts it), split by shuffle group, so that stage 2 finds every article of a
 * group under one prefix. Media files of the batch are published here (they need no state).
 * Deterministic: a retried batch writes the same objects under the same names.
 */
export async function shuffleBatch(
  stores: Stores,
  input: { run: string; items: readonly ListedItem[] },
): Promise<{ articles: number; media: number }> {
  const { run, items } = input;
  if (items.length === 0) return { articles: 0, media: 0 };
  const manifest = await readManifest(stores.output, run);
  const batch = batchName((items[0] as ListedItem).key);
  const groups = new Map<number, ListRow[]>();
  const media: string[] = [];
  let articles = 0;
  for (const item of items) {
    if (sourceKind(item.key)) {
      const group = shuffleGroupOf(item.key, manifest.shuffleGroups);
      let rows = groups.get(group);
      if (!rows) {
        rows = [];
        groups.set(group, rows);
      }
      rows.push([item.key, item.etag, item.size]);
      articles++;
    } else if (mediaType(item.key)) media.push(item.key);
  }
  await forEachLimited([...groups], READ_CONCURRENCY, async ([group, rows]) => {
    await writeJson(stores.output, listKey(run, group, batch, rows.length), { rows });
  });
  const synced: { written: string[]; problems: ArticleProblem[] } = media.length
    ? await syncMedia(stores.content, stores.output, media)
    : { written: [], problems: [] };
  await writeJson(stores.output, mediaPartKey(run, batch), {
    keys: media,
    written: synced.written,
    problems: synced.problems,
  });
  return { articles, media: media.length };
}
