/**
 * Tagging is best effort: S3 failing the tagging requests (through a faulty proxy in front of
 * moto) never fails a regeneration, and a failing bucket gets a bounded number of requests.
 */
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { CONTENT_PREFIX, publishAll } from "../../functions/engine/publish.ts";
import { writeTags } from "../../functions/engine/tagging.ts";
import { S3Storage } from "../../functions/storage/s3-storage.ts";
import { type FaultKind, type FaultyProxy, startFaultyProxy } from "../support/faulty-proxy.ts";
import { createBucket, type Moto, s3Client, sqsClient, startMoto, useMotoEnv } from "../support/moto.ts";
import { createNotifiedBucket, drainQueue, isS3TestEvent, sqsEvent } from "../support/s3-events.ts";

const BUCKET = "tags-faults";
const SITE = { title: "Tag Faults", url: "https://faults.example/" };
/** The SDK's default: one request and two retries. */
const SDK_ATTEMPTS = 3;

let moto: Moto;
let proxy: FaultyProxy;
let s3: S3Client;
let sqs: SQSClient;
let queueUrl: string;
let restoreEnv: () => void;
let handler: (event: SQSEvent) => Promise<SQSBatchResponse>;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultyProxy(moto.endpoint);
  s3 = s3Client(moto.endpoint);
  sqs = sqsClient(moto.endpoint);
  ({ queueUrl } = await createNotifiedBucket(moto.endpoint, BUCKET));
  // The handler's S3 client goes through the proxy; the test's own clients go to moto directly.
  restoreEnv = useMotoEnv(proxy.endpoint);
  process.env.BUCKET_NAME = BUCKET;
  process.env.SITE_CONFIG = JSON.stringify(SITE);
  ({ handler } = await import("../../functions/handlers/regenerate.ts"));
}, 60_000);

afterAll(async () => {
  restoreEnv?.();
  delete process.env.BUCKET_NAME;
  delete process.env.SITE_CONFIG;
  await proxy?.close();
  await moto?.stop();
});

const article = (title: string) =>
  `---\ntitle: ${JSON.stringify(title)}\ndate: 2026-04-01T10:00:00Z\n---\nAbout.\n`;
const put = (bucket: string, key: string, body: string) =>
  s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
const tagCount = async (bucket: string, key: string) =>
  (await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))).TagSet?.length ?? 0;
const titles = async () =>
  (
    JSON.parse(
      (await (
        await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "feeds/feed.json" }))
      ).Body?.transformToString()) ?? "{}",
    ) as { items: { title: string }[] }
  ).items
    .map((item) => item.title)
    .sort();

/** Uploads one article and runs the handler on its event; the proxy's request count for the run. */
async function uploadAndRegenerate(key: string, faults?: ReadonlyMap<number, FaultKind>): Promise<number> {
  await put(BUCKET, key, article(key));
  const records = (await drainQueue(sqs, queueUrl, { waitMs: 1200 })).filter(
    (record) => !isS3TestEvent(record),
  );
  proxy.setPlan(faults ? { at: faults } : undefined);
  const result = await handler(sqsEvent(records));
  await proxy.settled();
  const requests = proxy.requestsSincePlan();
  proxy.setPlan();
  expect(result.batchItemFailures).toEqual([]);
  return requests;
}

describe("tagging failures", { timeout: 60_000 }, () => {
  it("do not fail the regeneration, and cost the failing object's requests only", async () => {
    // The first upload builds the site (no state yet); the next two are alike, incremental.
    await uploadAndRegenerate("content/seed.md");
    const clean = await uploadAndRegenerate("content/one.md");
    expect(await tagCount(BUCKET, "content/one.md")).toBe(2);

    // The tag read and write are the run's last two requests: fail every request from there on.
    const faults = new Map<number, FaultKind>();
    for (let n = clean - 1; n <= clean + 20; n++) faults.set(n, "500");
    const faulty = await uploadAndRegenerate("content/two.md", faults);
    expect(await titles()).toEqual(["content/one.md", "content/seed.md", "content/two.md"]);
    expect(await tagCount(BUCKET, "content/two.md")).toBe(0);
    // The tag read failed with the SDK's retries, and nothing was tried after it.
    expect(faulty).toBe(clean - 2 + SDK_ATTEMPTS);
  });

  it("stop after a few objects when every tagging request fails", async () => {
    const bucket = "tags-faults-many";
    await createBucket(s3, bucket);
    const config = parseConfig(SITE);
    for (let i = 0; i < 40; i++) await put(bucket, `${CONTENT_PREFIX}a${i}.md`, article(`A${i}`));
    const direct = new S3Storage(s3, bucket, CONTENT_PREFIX);
    const report = await publishAll({ content: direct, output: new S3Storage(s3, bucket), config });
    expect(report.tags.outcomes).toHaveLength(40);

    // Through the proxy, with the SDK's default retries.
    const throughProxy = new S3Storage(s3Client(proxy.endpoint), bucket, CONTENT_PREFIX);
    proxy.setPlan({ every: "503" });
    const tagging = await writeTags(throughProxy, report.tags);
    await proxy.settled();
    const requests = proxy.requestsSincePlan();
    proxy.setPlan();
    // The first object alone, then one at a time until three have failed: the rest are skipped.
    expect(tagging.failed).toHaveLength(3);
    expect(tagging.skipped).toBe(37);
    expect(requests).toBe(3 * SDK_ATTEMPTS);
    expect(await tagCount(bucket, `${CONTENT_PREFIX}a0.md`)).toBe(0);
  });
});
