import type { Storage } from "../../storage/port.ts";
import { shardCountFor } from "../state/shards.ts";
import { countOfListKey, groupCountFor, runFolder } from "./layout.ts";
import { readManifest, writeJson } from "./parts.ts";

/** What the plan step decided: the reduce and every group read it. */
export interface GroupPlan {
  readonly articles: number;
  /** Catalog shards of the new head (shardCountFor the article count, as any rebuild). */
  readonly shards: number;
  /** Group workers: a power of two, at most the shards and the shuffle groups. */
  readonly groups: number;
}

export function groupPlanKey(run: string): string {
  return `${runFolder(run)}plan.json`;
}

/**
 * Between the two maps: sums the article counts the list parts' names carry (a listing of the
 * run's folder, no reads) and sizes the group stage from them.
 */
export async function planGroups(output: Storage, run: string): Promise<GroupPlan & { groupIds: number[] }> {
  const manifest = await readManifest(output, run);
  let articles = 0;
  for await (const info of output.list(`${runFolder(run)}list/`)) articles += countOfListKey(info.key);
  const shards = shardCountFor(articles);
  const plan: GroupPlan = {
    articles,
    shards,
    groups: groupCountFor(articles, shards, manifest.shuffleGroups, manifest.groupTarget),
  };
  await writeJson(output, groupPlanKey(run), plan);
  return { ...plan, groupIds: Array.from({ length: plan.groups }, (_, i) => i) };
}
