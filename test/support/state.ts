import { CATALOG_PREFIX, INDEX_KEY } from "../../functions/engine/publish.ts";
import { FsStorage } from "../../functions/storage/fs-storage.ts";
import type { Storage } from "../../functions/storage/port.ts";

/**
 * The article paths the stored catalog lists, read straight from the stored JSON (the index
 * names its shards; each shard holds rows whose first cell is the path), in path order.
 */
export async function catalogPaths(storage: Storage | string): Promise<string[]> {
  const store = typeof storage === "string" ? new FsStorage(storage) : storage;
  const json = async (key: string) => {
    const object = await store.get(key);
    if (!object) throw new Error(`${key} is missing`);
    return JSON.parse(Buffer.from(object.body).toString("utf8"));
  };
  const index = (await json(INDEX_KEY)) as { shards: string[] };
  const paths: string[] = [];
  for (const name of index.shards) {
    if (!name) continue;
    const shard = (await json(`${CATALOG_PREFIX}${name}.json`)) as { rows: [string, ...unknown[]][] };
    paths.push(...shard.rows.map((row) => row[0]));
  }
  return paths.sort();
}
