import { runGroup } from "../engine/whole/group.ts";
import { runtimeFromEnv } from "./env.ts";
import { log } from "./log.ts";

const runtime = runtimeFromEnv(process.env);

/**
 * Stage 2, a child of the second Distributed Map: one group of articles read, parsed and
 * rendered, its catalog shards written, its candidates and archive members set down for the reduce.
 */
export async function handler(event: {
  run: string;
  group: number;
}): Promise<{ group: number; articles: number }> {
  const started = Date.now();
  const result = await runGroup(runtime.stores, runtime.config, event.run, event.group);
  log("info", "group done", {
    run: event.run,
    group: event.group,
    articles: result.articles,
    ms: Date.now() - started,
  });
  return { group: event.group, articles: result.articles };
}
