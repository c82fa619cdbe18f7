import type { SiteConfig } from "../../core/config.ts";
import { sourceKind } from "../../core/parse.ts";
import { applyChanges } from "../apply.ts";
import { loadIndex, readShard } from "../store.ts";
import type { Stores } from "../stores.ts";
import { type RunStarter, startWholeSite } from "./start.ts";

/** Differences a reconcile applies as uploads; beyond this it starts a whole-site run. */
export const DIFF_LIMIT = 2_000;
const CHUNK = 200;

/**
 * A reconcile for a site too large to rebuild in one invocation: the listing of content/ is
 * compared with the catalog one shard at a time (memory: the listing's keys and ETags, one
 * shard), and the articles that differ (new, changed, gone) are applied as uploads are; with
 * none, one regeneration publishes what fell due. No article is read unless it differs.
 */
export async function reconcileLarge(
  options: Stores & { config: SiteConfig; now: Date; start: RunStarter },
): Promise<{ listed: number; differing: number; run?: string; written: string[] }> {
  const { content, output, config, now } = options;
  const loaded = await loadIndex(output, config);
  const listed = new Map<string, string>();
  for await (const info of content.list()) if (sourceKind(info.key)) listed.set(info.key, info.etag);
  const differing: string[] = [];
  const known = new Set<string>();
  for (const name of loaded.index.shards) {
    if (!name) continue;
    for (const [path, entry] of Object.entries(await readShard(output, name))) {
      known.add(path);
      const etag = listed.get(path);
      if (etag === undefined || entry.etag !== etag) differing.push(path);
    }
  }
  for (const path of listed.keys()) if (!known.has(path)) differing.push(path);
  if (differing.length > DIFF_LIMIT) {
    const run = await startWholeSite(output, config, loaded, {
      reason: "reconcile",
      now,
      start: options.start,
    });
    return { listed: listed.size, differing: differing.length, run, written: [] };
  }
  const written: string[] = [];
  const chunks = differing.length ? Math.ceil(differing.length / CHUNK) : 1;
  for (let i = 0; i < chunks; i++) {
    const keys = differing.slice(i * CHUNK, (i + 1) * CHUNK);
    const report = await applyChanges({ content, output, config, keys, now, wholeSite: options.start });
    written.push(...report.written);
  }
  return { listed: listed.size, differing: differing.length, written };
}
