/**
 * Fault injection: S3 failures (500 InternalError, 503 SlowDown, connection reset, timeout) at
 * every request position of one incremental regeneration, through a faulty proxy in front of moto.
 *
 * What must hold after any single fault: every published feed is complete and valid and is,
 * byte for byte, either its old or its new version (never truncated, never a third thing); a
 * redelivery of the record (another applyChanges with no fault) converges to exactly what a full
 * rebuild considers up to date. A record that keeps failing goes to the DLQ, with one error log
 * line per failed attempt naming the key and the reason.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { applyChanges, CONTENT_PREFIX, INDEX_KEY, publishAll } from "../../functions/engine/publish.ts";
import { S3Storage } from "../../functions/storage/s3-storage.ts";
import { assertValidJsonFeed, assertWellFormedXml } from "../helpers/feed-check.ts";
import { FAULT_KINDS, type FaultKind, type FaultyProxy, startFaultyProxy } from "../support/faulty-proxy.ts";
import {
  createBucket,
  FAKE_CREDENTIALS,
  MOTO_REGION,
  type Moto,
  s3Client,
  sqsClient,
  startMoto,
  useMotoEnv,
} from "../support/moto.ts";
import { toSqsRecord } from "../support/s3-events.ts";

const BUCKET = "faults-site";
// No section feeds: the faults are injected into the requests of the main feed's files alone.
const SITE = { title: "Faults", url: "https://faults.example/", sectionFeeds: false };
const config = parseConfig(SITE);
// The upload is dated this month: archive pages exist only for months that are over.
const NOW = new Date("2026-02-02T00:00:00Z");
// The published files one upload changes: the three feeds and the landing page.
const FEEDS = ["feeds/rss.xml", "feeds/atom.xml", "feeds/feed.json", "feeds/index.html"] as const;
const SAVED = [...FEEDS, INDEX_KEY] as const;
const NEW_KEY = "posts/new-article.md";
const NEW_TITLE = "The new article";
/**
 * The SDK gives up on a held request after this long (only with the short-timeout client, which
 * makes one attempt per request). Every request of that client gets this budget, not only the
 * held one, so it is far above what moto takes to answer on a saturated machine (tens of ms): a
 * request that is merely slow must never count as the injected fault.
 */
const REQUEST_TIMEOUT_MS = 3_000;

const article = (title: string, date: string) =>
  `---\ntitle: ${JSON.stringify(title)}\ndate: ${date}\n---\nAbout ${title}: <b>bold</b> & more.\n`;

let moto: Moto;
let proxy: FaultyProxy;
let s3: S3Client;
/** Bucket state right after the full publish, before the change: the "old" versions. */
const before = new Map<string, string>();
/** Feeds and index after a clean applyChanges of the change: the "new" versions. */
const after = new Map<string, string>();
/** S3 requests a clean applyChanges of the change makes. */
let cleanRequests = 0;
/** The index commit comes just before the last request (the HEAD that checks the article). */
const commitAt = () => cleanRequests - 1;

const text = async (key: string): Promise<string> =>
  (await (
    await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
  ).Body?.transformToString("utf8")) ?? "";
const put = (key: string, body: string) =>
  s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

/** Stores over moto itself, with no proxy. */
function directStores(): { content: S3Storage; output: S3Storage } {
  return { content: new S3Storage(s3, BUCKET, CONTENT_PREFIX), output: new S3Storage(s3, BUCKET) };
}

/** Stores through the proxy; `strict` = one attempt per request and a short request timeout. */
function proxiedStores(strict: boolean): { content: S3Storage; output: S3Storage; client: S3Client } {
  const client = new S3Client({
    endpoint: proxy.endpoint,
    region: MOTO_REGION,
    credentials: FAKE_CREDENTIALS,
    forcePathStyle: true,
    ...(strict
      ? {
          maxAttempts: 1,
          requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
        }
      : {}),
  });
  return {
    content: new S3Storage(client, BUCKET, CONTENT_PREFIX),
    output: new S3Storage(client, BUCKET),
    client,
  };
}

/** Puts the feeds and the index back as they were before the change (same bytes, same ETags). */
async function restoreBefore(): Promise<void> {
  await Promise.all(SAVED.map((key) => put(key, before.get(key) as string)));
}

/** Complete and valid, and exactly the old or the new version; returns which. */
async function checkFeed(key: (typeof FEEDS)[number]): Promise<"old" | "new"> {
  const body = await text(key);
  if (key.endsWith(".json")) assertValidJsonFeed(body);
  else if (key.endsWith(".xml")) assertWellFormedXml(body);
  if (body === after.get(key)) return "new";
  expect(body, `${key} is neither its old nor its new version`).toBe(before.get(key));
  return "old";
}

/** SQS redelivery: the same change again, no fault; then the bucket must be fully up to date. */
async function redeliverAndCheck(): Promise<void> {
  await applyChanges({ ...directStores(), config, keys: [NEW_KEY], now: NOW });
  for (const key of FEEDS) expect(await text(key), key).toBe(after.get(key));
  expect(await text("feeds/feed.json")).toContain(NEW_TITLE);
  const rebuild = await publishAll({ ...directStores(), config, now: NOW });
  expect(rebuild.written).toEqual([]);
}

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultyProxy(moto.endpoint);
  s3 = s3Client(moto.endpoint);
  await createBucket(s3, BUCKET);
  for (let i = 1; i <= 20; i++) {
    const day = String(i).padStart(2, "0");
    await put(
      `${CONTENT_PREFIX}posts/article-${day}.md`,
      article(`Article ${i}`, `2026-01-${day}T09:00:00Z`),
    );
  }
  const published = await publishAll({ ...directStores(), config, now: NOW });
  expect(published.published).toBe(20);
  for (const key of SAVED) before.set(key, await text(key));

  // The change: one new upload, the newest article.
  await put(CONTENT_PREFIX + NEW_KEY, article(NEW_TITLE, "2026-02-01T09:00:00Z"));
  const { client, ...stores } = proxiedStores(true);
  proxy.setPlan(undefined);
  const report = await applyChanges({ ...stores, config, keys: [NEW_KEY], now: NOW });
  cleanRequests = proxy.requestsSincePlan();
  client.destroy();
  expect(report.written).toEqual([...FEEDS, INDEX_KEY]);
  for (const key of SAVED) after.set(key, await text(key));
  expect(after.get("feeds/feed.json")).toContain(NEW_TITLE);
  expect((await publishAll({ ...directStores(), config, now: NOW })).written).toEqual([]);
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await proxy?.close();
  await moto?.stop();
});

describe("one S3 fault at any request position of a regeneration", () => {
  it("a clean single-article change makes the documented 10 S3 requests", () => {
    // index GET, article GET, catalog shard GET, shard PUT, three feed PUTs, the landing page
    // PUT, index PUT, and a HEAD of the article after the commit (README: "one upload costs 10
    // S3 requests").
    expect(cleanRequests).toBe(10);
  });

  const seen: string[] = [];

  it.each([...FAULT_KINDS, "lost" as const])(
    "fault %s at every position: feeds stay whole (old or new), the redelivery converges",
    async (kind: FaultKind) => {
      for (let position = 1; position <= cleanRequests; position++) {
        await restoreBefore();
        const { client, ...stores } = proxiedStores(true);
        proxy.fail(position, kind);
        const started = Date.now();
        await expect(
          applyChanges({ ...stores, config, keys: [NEW_KEY], now: NOW }),
          `${kind} at request ${position} must fail the regeneration`,
        ).rejects.toThrow();
        // Parallel feed PUTs may still be running after the first one failed.
        await proxy.settled();
        client.destroy();
        if (kind === "timeout") expect(Date.now() - started).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
        const versions = [];
        for (const key of FEEDS) versions.push(`${key.slice(6)}=${await checkFeed(key)}`);
        // Only a lost response lets the failed request happen: then the commit may have landed;
        // a fault at the check after the commit finds it landed; otherwise the index is untouched.
        const index = await text(INDEX_KEY);
        if ((kind === "lost" && position === commitAt()) || position > commitAt())
          expect(index).toBe(after.get(INDEX_KEY));
        else expect(index).toBe(before.get(INDEX_KEY));
        seen.push(`${kind}@${position}: ${versions.join(" ")}`);
        await redeliverAndCheck();
      }
    },
    // "timeout" waits REQUEST_TIMEOUT_MS at each of the 10 positions (30 s), and the 20 or so
    // regenerations take 12 s more on a saturated 2-core machine.
    180_000,
  );

  it("before a redelivery, formats differ only when a failed run's feed PUTs were cut short", () => {
    // What readers could see between the failure and the redelivery: each format complete; all
    // old if the index or article read failed, all new if only the index commit failed, and a
    // mix of old and new formats (never a broken one) when one of the parallel feed PUTs failed.
    const kinds = [...FAULT_KINDS, "lost"];
    expect(seen).toHaveLength(kinds.length * cleanRequests);
    const allOld = "rss.xml=old atom.xml=old feed.json=old index.html=old";
    const allNew = "rss.xml=new atom.xml=new feed.json=new index.html=new";
    for (const kind of kinds) {
      expect(seen).toContain(`${kind}@1: ${allOld}`);
      expect(seen).toContain(`${kind}@2: ${allOld}`);
      expect(seen).toContain(`${kind}@${commitAt()}: ${allNew}`);
      expect(seen).toContain(`${kind}@${cleanRequests}: ${allNew}`);
    }
  });
});

describe("the SDK's own retries absorb a single transient fault", () => {
  it.each(["500", "503", "reset"] as const)(
    "a single %s at any position costs one extra request",
    async (kind) => {
      for (let position = 1; position <= cleanRequests; position++) {
        await restoreBefore();
        const { client, ...stores } = proxiedStores(false);
        proxy.fail(position, kind);
        const report = await applyChanges({ ...stores, config, keys: [NEW_KEY], now: NOW });
        await proxy.settled();
        client.destroy();
        expect(report.written, `${kind} at ${position}`).toEqual([...FEEDS, INDEX_KEY]);
        expect(proxy.requestsSincePlan(), `${kind} at ${position}`).toBe(cleanRequests + 1);
        for (const key of SAVED) {
          const body = await text(key);
          if (key === INDEX_KEY) expect(body.length).toBeGreaterThan(0);
          else expect(body, `${key} after ${kind} at ${position}`).toBe(after.get(key));
        }
      }
    },
    60_000,
  );
});

describe("the SDK's own retries after a lost response (the request was carried out)", () => {
  it("converge at any position, a retried conditional index write included", async () => {
    for (let position = 1; position <= cleanRequests; position++) {
      await restoreBefore();
      const { client, ...stores } = proxiedStores(false);
      proxy.fail(position, "lost");
      const report = await applyChanges({ ...stores, config, keys: [NEW_KEY], now: NOW });
      await proxy.settled();
      client.destroy();
      // A lost index commit is retried by the SDK, answered 412 (the ETag moved), and the product
      // starts over: it re-reads the index, finds the change already there and writes nothing.
      if (position === commitAt()) expect(report.retries, "lost commit").toBe(1);
      for (const key of SAVED) expect(await text(key), `${key} after lost ${position}`).toBe(after.get(key));
      expect((await publishAll({ ...directStores(), config, now: NOW })).written).toEqual([]);
    }
  }, 60_000);
});

describe("a record that keeps failing lands in the DLQ", () => {
  let sqs: SQSClient;
  let restoreEnv: () => void;
  let handler: (event: SQSEvent) => Promise<SQSBatchResponse>;

  beforeAll(async () => {
    sqs = sqsClient(moto.endpoint);
    restoreEnv = useMotoEnv(moto.endpoint);
    // The product's own S3 client goes through the proxy (SQS is driven here, straight to moto).
    process.env.AWS_ENDPOINT_URL_S3 = proxy.endpoint;
    process.env.BUCKET_NAME = BUCKET;
    process.env.SITE_CONFIG = JSON.stringify(SITE);
    // The handler reads its environment once, at import, like a Lambda cold start.
    ({ handler } = await import("../../functions/handlers/regenerate.ts"));
  });

  afterAll(() => {
    sqs?.destroy();
    restoreEnv?.();
    delete process.env.BUCKET_NAME;
    delete process.env.SITE_CONFIG;
    proxy.setPlan(undefined);
    vi.restoreAllMocks();
  });

  it("after maxReceiveCount failed receives, with one error line per attempt naming key and reason", async () => {
    const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "faults-dlq" }))).QueueUrl as string;
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes?.QueueArn as string;
    const queueUrl = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: "faults-events",
          Attributes: {
            VisibilityTimeout: "1",
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
          },
        }),
      )
    ).QueueUrl as string;
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes?.QueueArn as string;

    const key = `${CONTENT_PREFIX}posts/doomed.md`;
    await put(key, article("Doomed", "2026-02-01T10:00:00Z"));
    const notification = {
      Records: [
        {
          eventVersion: "2.1",
          eventSource: "aws:s3",
          awsRegion: MOTO_REGION,
          eventTime: new Date().toISOString(),
          eventName: "ObjectCreated:Put",
          s3: {
            s3SchemaVersion: "1.0",
            configurationId: "content-created",
            bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` },
            object: { key: encodeURIComponent(key), size: 100, eTag: "0" },
          },
        },
      ],
    };
    const sent = await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(notification) }),
    );

    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "info").mockImplementation(() => {});
    proxy.setPlan({ every: "500" });

    // Lambda's poller: receive, invoke, delete what did not fail; failed messages reappear
    // after the visibility timeout (1 s), and moto moves them to the DLQ on the receive that
    // would exceed maxReceiveCount.
    let attempts = 0;
    let dlqMessage: string | undefined;
    for (let poll = 0; poll < 8 && dlqMessage === undefined; poll++) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 2,
          VisibilityTimeout: 1,
          MessageSystemAttributeNames: ["All"],
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length > 0) {
        attempts++;
        const records = messages.map((message) => toSqsRecord(message, queueArn));
        expect(records[0]?.attributes.ApproximateReceiveCount).toBe(String(attempts));
        const result = await handler({ Records: records });
        expect(result.batchItemFailures).toEqual([{ itemIdentifier: sent.MessageId }]);
        // Nothing to delete: the only message failed.
        continue;
      }
      const inDlq = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      dlqMessage = inDlq.Messages?.[0]?.Body;
    }
    proxy.setPlan(undefined);

    expect(attempts).toBe(2);
    expect(dlqMessage).toBe(JSON.stringify(notification));
    const left = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    expect(left.Attributes?.ApproximateNumberOfMessages).toBe("0");
    expect(left.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe("0");

    const lines = errors.mock.calls.map((call) => JSON.parse(String(call[0])) as Record<string, unknown>);
    expect(lines).toHaveLength(attempts);
    for (const line of lines) {
      expect(line).toMatchObject({
        level: "error",
        message: "regeneration failed",
        messageId: sent.MessageId,
      });
      expect(line.keys).toEqual([key]);
      expect(String(line.reason)).toMatch(/internal error/i);
    }
    // Nothing was published from the failed attempts; once S3 is healthy the state converges.
    expect(await text("feeds/feed.json")).not.toContain("Doomed");
    await applyChanges({ ...directStores(), config, keys: ["posts/doomed.md"], now: NOW });
    expect(await text("feeds/feed.json")).toContain("Doomed");
  }, 60_000);
});
