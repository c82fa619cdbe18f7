import { publishAll } from "../engine/publish.ts";
import { notifyHub } from "../engine/websub.ts";
import { CONTENT_PREFIX, runtimeFromEnv } from "./env.ts";
import { log } from "./log.ts";
import { tagArticles } from "./tags.ts";

const runtime = runtimeFromEnv(process.env);

/**
 * Scheduled full rebuild from a listing of `content/`: repairs anything an event missed and
 * publishes scheduled articles whose time has come. It reads only the articles whose listed ETag
 * the catalog does not know; invoked with `{"force": true}` it reads every one.
 */
export async function handler(event?: { force?: unknown }): Promise<{
  published: number;
  problems: number;
  written: readonly string[];
}> {
  const started = Date.now();
  const force = event?.force === true;
  const report = await publishAll({ ...runtime.stores, config: runtime.config, ...(force ? { force } : {}) });
  for (const problem of report.problems) {
    log("warn", "article not published", { key: CONTENT_PREFIX + problem.file, reason: problem.reason });
  }
  if (report.cleanup) log("warn", "state cleanup failed", { reason: report.cleanup });
  log("info", "reconciled", {
    articles: report.articles,
    read: report.read,
    published: report.published,
    problems: report.problems.length,
    written: report.written,
    ms: Date.now() - started,
  });
  await tagArticles(runtime.stores.content, report.tags);
  for (const ping of await notifyHub(runtime.config, report.written)) {
    if (!ping.ok)
      log("warn", "hub ping failed", {
        hub: runtime.config.hub,
        feed: ping.feed,
        attempts: ping.attempts,
        reason: ping.reason,
      });
  }
  return { published: report.published, problems: report.problems.length, written: report.written };
}
