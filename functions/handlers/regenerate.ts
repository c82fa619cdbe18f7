import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { applyChanges } from "../engine/publish.ts";
import { notifyHub } from "../engine/websub.ts";
import { CONTENT_PREFIX, runtimeFromEnv } from "./env.ts";
import { log } from "./log.ts";
import { keysFromRecord } from "./s3-events.ts";
import { stateMachineStarter } from "./start-run.ts";
import { tagArticles } from "./tags.ts";

const runtime = runtimeFromEnv(process.env);
const wholeSite = stateMachineStarter(process.env);

/**
 * SQS → Lambda: every message carries S3 notifications for `content/`.
 * EventBridge → Lambda: the publish schedule (see below). The whole batch becomes
 * one regeneration; if that fails, each message is retried on its own so that only the messages
 * that really fail go back to the queue (and, after five tries, to the dead-letter queue).
 */
export async function handler(event: SQSEvent | ScheduledEvent): Promise<SQSBatchResponse> {
  const started = Date.now();
  if (isScheduled(event)) {
    // The publish schedule: a scheduled article whose time has come, or an expiring one, changes
    // the feeds with no upload to announce it. Costs one index read when nothing is due.
    await apply([]);
    return { batchItemFailures: [] };
  }
  const failures: SQSBatchItemFailure[] = [];
  const batch: { messageId: string; keys: string[] }[] = [];
  for (const record of event.Records) {
    try {
      const { keys, test } = keysFromRecord(record, CONTENT_PREFIX);
      if (test) log("info", "ignored s3:TestEvent", { messageId: record.messageId });
      else if (keys.length) batch.push({ messageId: record.messageId, keys });
    } catch (error) {
      log("error", "unreadable message", { messageId: record.messageId, reason: (error as Error).message });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  if (batch.length === 0) return { batchItemFailures: failures };

  try {
    await apply(batch.flatMap((item) => item.keys));
  } catch (error) {
    log("warn", "batch regeneration failed; retrying message by message", {
      reason: (error as Error).message,
    });
    for (const item of batch) {
      try {
        await apply(item.keys);
      } catch (itemError) {
        log("error", "regeneration failed", {
          messageId: item.messageId,
          keys: item.keys.map((key) => CONTENT_PREFIX + key),
          reason: (itemError as Error).message,
        });
        failures.push({ itemIdentifier: item.messageId });
      }
    }
  }
  log("info", "batch done", {
    messages: event.Records.length,
    failed: failures.length,
    ms: Date.now() - started,
  });
  return { batchItemFailures: failures };
}

/** What EventBridge sends a rule's target on schedule. */
interface ScheduledEvent {
  readonly source: "aws.events";
  readonly "detail-type": "Scheduled Event";
}

function isScheduled(event: SQSEvent | ScheduledEvent): event is ScheduledEvent {
  return (event as ScheduledEvent)["detail-type"] === "Scheduled Event" && !("Records" in event);
}

async function apply(keys: string[]): Promise<void> {
  const report = await applyChanges({
    ...runtime.stores,
    config: runtime.config,
    keys,
    ...(wholeSite ? { wholeSite } : {}),
  });
  for (const problem of report.problems) {
    log("warn", "article not published", {
      key: CONTENT_PREFIX + problem.file,
      reason: problem.reason,
      ...(problem.line !== undefined ? { line: problem.line } : {}),
    });
  }
  log("info", "regenerated", {
    keys: keys.length,
    changed: report.changed,
    written: report.written,
    retries: report.retries,
  });
  // After the commit, so editors never see an outcome the feeds do not have yet.
  await tagArticles(runtime.stores.content, report.tags);
  await announce(report.written);
}

/** Pings the WebSub hub about the feeds that changed; a failure is logged, never thrown. */
async function announce(written: readonly string[]): Promise<void> {
  for (const ping of await notifyHub(runtime.config, written)) {
    if (ping.ok)
      log("info", "hub pinged", { hub: runtime.config.hub, feed: ping.feed, attempts: ping.attempts });
    else
      log("warn", "hub ping failed", {
        hub: runtime.config.hub,
        feed: ping.feed,
        attempts: ping.attempts,
        reason: ping.reason,
        ...(ping.status !== undefined ? { status: ping.status } : {}),
      });
  }
}
