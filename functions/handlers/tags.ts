import { CONTENT_PREFIX } from "../engine/publish.ts";
import { type TagPlan, writeTags } from "../engine/tagging.ts";
import type { Storage } from "../storage/port.ts";
import { log } from "./log.ts";

/**
 * Writes a regeneration's object tags and logs what happened. Best effort: the feeds are
 * committed already, so a failure is a warning and never fails the invocation (which would send
 * the batch back to the queue and regenerate it again for a tag).
 */
export async function tagArticles(content: Storage, plan: TagPlan): Promise<void> {
  if (plan.error) log("warn", "object tags not worked out", { reason: plan.error });
  if (plan.outcomes.length === 0) return;
  try {
    const report = await writeTags(content, plan);
    for (const failure of report.failed)
      log("warn", "object tags not written", { key: CONTENT_PREFIX + failure.file, reason: failure.reason });
    log(report.failed.length ? "warn" : "info", "object tags", {
      tagged: report.tagged,
      unchanged: report.unchanged,
      gone: report.gone,
      failed: report.failed.length,
      skipped: report.skipped,
    });
  } catch (error) {
    log("warn", "object tags not written", { reason: (error as Error).message });
  }
}
