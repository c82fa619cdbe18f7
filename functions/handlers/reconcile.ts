import { publishAll } from "../engine/publish.ts";
import { loadIndex } from "../engine/store.ts";
import { notifyHub } from "../engine/websub.ts";
import { reconcileLarge } from "../engine/whole/reconcile-diff.ts";
import { liveClaim, startWholeSite, wholeSiteReason } from "../engine/whole/start.ts";
import { CONTENT_PREFIX, runtimeFromEnv } from "./env.ts";
import { log } from "./log.ts";
import { stateMachineStarter } from "./start-run.ts";
import { tagArticles } from "./tags.ts";

const runtime = runtimeFromEnv(process.env);
const wholeSite = stateMachineStarter(process.env);

/** Up to this many articles a reconcile rebuilds in its own invocation (measured: BENCHMARKS.md). */
export const INLINE_RECONCILE_LIMIT = 5_000;

/**
 * Scheduled reconcile: repairs anything an event missed and publishes scheduled articles whose
 * time has come. Whole-site work (`{"force": true}`, new settings, lost state) starts the state
 * machine; a small site is rebuilt here from a listing (only articles whose ETag the catalog does
 * not know are read); a large one is compared with its catalog shard by shard, and what differs
 * is applied as uploads are.
 */
export async function handler(event?: { force?: unknown }): Promise<{
  published: number;
  problems: number;
  written: readonly string[];
}> {
  const started = Date.now();
  const force = event?.force === true;
  const { stores, config } = runtime;
  if (wholeSite) {
    const now = new Date();
    const loaded = await loadIndex(stores.output, config);
    const claim = liveClaim(loaded, now);
    const reason = force ? "force" : wholeSiteReason(loaded, now);
    if (claim) {
      log("info", "whole-site run under way", { run: claim.run, reason: claim.reason });
      return { published: 0, problems: 0, written: [] };
    }
    if (reason) {
      const run = await startWholeSite(stores.output, config, loaded, { reason, now, start: wholeSite });
      log("info", "whole-site run started", { run, reason });
      return { published: 0, problems: 0, written: [] };
    }
    if (loaded.index.counts.articles > INLINE_RECONCILE_LIMIT) {
      const outcome = await reconcileLarge({ ...stores, config, now, start: wholeSite });
      log("info", "reconciled by comparison", { ...outcome, ms: Date.now() - started });
      return { published: 0, problems: 0, written: outcome.written };
    }
  }
  const report = await publishAll({ ...stores, config, ...(force ? { force } : {}) });
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
  await tagArticles(stores.content, report.tags);
  for (const ping of await notifyHub(config, report.written)) {
    if (!ping.ok)
      log("warn", "hub ping failed", {
        hub: config.hub,
        feed: ping.feed,
        attempts: ping.attempts,
        reason: ping.reason,
      });
  }
  return { published: report.published, problems: report.problems.length, written: report.written };
}
