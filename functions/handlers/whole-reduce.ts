import { reduceRun } from "../engine/whole/reduce.ts";
import { CONTENT_PREFIX, runtimeFromEnv } from "./env.ts";
import { log } from "./log.ts";

const runtime = runtimeFromEnv(process.env);

/**
 * The reduce: merges the groups' partial results with the planner, writes every feed, commits
 * the head with the same conditional write as any regeneration, then applies again the uploads
 * that arrived while the run was under way.
 */
export async function handler(event: {
  run: string;
}): Promise<{ articles: number; published: number; problems: number }> {
  const started = Date.now();
  const report = await reduceRun(runtime.stores, runtime.config, event.run);
  for (const problem of report.problems.slice(0, 1000))
    log("warn", "article not published", { key: CONTENT_PREFIX + problem.file, reason: problem.reason });
  log("info", "whole-site run committed", {
    run: event.run,
    articles: report.articles,
    published: report.published,
    problems: report.problems.length,
    written: report.written.length,
    ms: Date.now() - started,
  });
  return { articles: report.articles, published: report.published, problems: report.problems.length };
}
