import { planGroups } from "../engine/whole/plan.ts";
import { runtimeFromEnv } from "./env.ts";
import { log } from "./log.ts";

const runtime = runtimeFromEnv(process.env);

/** Between the two maps: counts what the shuffle listed and says how many group workers to run. */
export async function handler(event: { run: string }): Promise<{ run: string; groups: number[] }> {
  const planned = await planGroups(runtime.stores.output, event.run);
  log("info", "planned groups", { run: event.run, articles: planned.articles, groups: planned.groups });
  return { run: event.run, groups: planned.groupIds };
}
