import { readFileSync } from "node:fs";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { assertValidJsonFeed, assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import { type HandlerHarness, startHandlerHarness } from "../support/handler-harness.ts";
import { drainQueue, isS3TestEvent, sqsEvent } from "../support/s3-events.ts";

const BUCKET = "handler-site";
const SEED_NAME = "000_4dbd7126f40f73dd.txt";
const SEED = readFileSync(new URL(`../../content/${SEED_NAME}`, import.meta.url));
const SEED_TITLE = "N. Koreans criticize government calls for “self-reliance”";
const SITE = { title: "Handler Site", url: "https://site.example/", feedsUrl: "https://cdn.example/feeds/" };
/**
 * How far ahead the scheduled article is dated: far more than the few seconds (5 s on a saturated
 * 2-core machine) between its upload and the last check that it is still held back.
 */
const SCHEDULED_LEAD_MS = 180_000;

let harness: HandlerHarness;
let s3: S3Client;
let sqs: SQSClient;
let queueUrl: string;
let handler: HandlerHarness["handler"];

beforeAll(async () => {
  harness = await startHandlerHarness(BUCKET, SITE);
  ({ s3, sqs, queueUrl, handler } = harness);
}, 60_000);

afterAll(async () => {
  await harness?.stop();
});

const put = (key: string, body: string | Uint8Array) =>
  s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
const remove = (key: string) => s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
const text = async (key: string) =>
  (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body?.transformToString("utf8");
const head = (key: string) => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
const events = () => drainQueue(sqs, queueUrl, { waitMs: 1200 });
// Sorted: the seed has no date, so it is dated when first seen (now) and its place varies.
const jsonTitles = async () =>
  (JSON.parse((await text("feeds/feed.json")) ?? "{}") as { items: { title: string }[] }).items
    .map((i) => i.title)
    .sort();
const article = (title: string, date: string) =>
  `---\ntitle: ${JSON.stringify(title)}\ndate: ${date}\n---\nAbout ${title}.\n`;

/**
 * The tests share one bucket (the handler is bound to it at import). Whatever a test uploads is
 * removed when it ends, passed or failed, and every event still queued is handled, so no test
 * sees another's articles and each starts with an empty queue and the seed alone in the feeds.
 */
function cleanUpAfter(...keys: string[]): void {
  onTestFinished(async () => {
    vi.useRealTimers();
    for (const key of keys) await remove(key);
    const left = await events();
    if (left.length > 0) await handler(sqsEvent(left));
  });
}

// Each test drains the queue two to four times (at least 1.2 s each) and regenerates as often:
// 10 s on a saturated 2-core machine for the longest, so the 30 s default is too close.
describe("the regenerate handler on real S3 event notifications from moto", { timeout: 60_000 }, () => {
  let firstBatch: SQSRecord[] = [];

  it("ignores the s3:TestEvent and publishes the seed article uploaded to content/", async () => {
    await put(`content/${SEED_NAME}`, SEED);
    firstBatch = await events();
    expect(firstBatch.some(isS3TestEvent)).toBe(true);
    const result = await handler(sqsEvent(firstBatch));
    expect(result.batchItemFailures).toEqual([]);

    const rss = (await text("feeds/rss.xml")) ?? "";
    const atom = (await text("feeds/atom.xml")) ?? "";
    assertWellFormedXml(rss);
    assertWellFormedXml(atom);
    assertValidJsonFeed((await text("feeds/feed.json")) ?? "");
    for (const xml of [rss, atom]) {
      const readers = await readWithAllReaders(xml);
      for (const read of Object.values(readers))
        expect(read.items.map((item) => item.title)).toEqual([SEED_TITLE]);
    }
    expect(rss).toContain('href="https://cdn.example/feeds/rss.xml"');
  });

  it("stores each feed with its content type and a Cache-Control of minutes", async () => {
    const types = {
      "feeds/rss.xml": "application/rss+xml; charset=utf-8",
      "feeds/atom.xml": "application/atom+xml; charset=utf-8",
      "feeds/feed.json": "application/feed+json; charset=utf-8",
    };
    for (const [key, type] of Object.entries(types)) {
      const info = await head(key);
      expect(info.ContentType).toBe(type);
      expect(info.CacheControl).toBe("public, max-age=300");
    }
  });

  it("decodes keys with spaces, '+' and non-ASCII, and publishes edits and deletes", async () => {
    const key = "content/news/Ünïcode café+plus.md";
    cleanUpAfter(key);
    await put(key, article("Café + plus", "2026-01-02T00:00:00Z"));
    expect((await handler(sqsEvent(await events()))).batchItemFailures).toEqual([]);
    expect(await jsonTitles()).toEqual(["Café + plus", SEED_TITLE].sort());

    await put(key, article("Café edited", "2026-01-02T00:00:00Z"));
    await handler(sqsEvent(await events()));
    expect(await jsonTitles()).toEqual(["Café edited", SEED_TITLE].sort());

    await remove(key);
    await handler(sqsEvent(await events()));
    expect(await jsonTitles()).toEqual([SEED_TITLE]);
  });

  it("duplicate deliveries change nothing: same ETag and Last-Modified, so readers get 304s", async () => {
    const before = await head("feeds/rss.xml");
    await new Promise((done) => setTimeout(done, 1100));
    const result = await handler(sqsEvent([...firstBatch, ...firstBatch]));
    expect(result.batchItemFailures).toEqual([]);
    const after = await head("feeds/rss.xml");
    expect(after.ETag).toBe(before.ETag);
    expect(after.LastModified?.getTime()).toBe(before.LastModified?.getTime());
  });

  it("a change that leaves a feed's bytes alone keeps its ETag, so S3 itself answers 304", async () => {
    const before = await head("feeds/atom.xml");
    cleanUpAfter("content/draft.md");
    await put("content/draft.md", `---\ntitle: Draft\ndraft: true\n---\nNot yet.\n`);
    expect((await handler(sqsEvent(await events()))).batchItemFailures).toEqual([]);
    const after = await head("feeds/atom.xml");
    expect(after.ETag).toBe(before.ETag);
    expect(after.LastModified?.getTime()).toBe(before.LastModified?.getTime());
    // What CloudFront does when its copy expires: a conditional GET to the origin.
    const conditional = await s3
      .send(new GetObjectCommand({ Bucket: BUCKET, Key: "feeds/atom.xml", IfNoneMatch: before.ETag }))
      .then(
        () => 200,
        (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode,
      );
    expect(conditional).toBe(304);
  });

  it("publishes a scheduled article when its time comes, on the publish schedule, with no upload", async () => {
    // The handler reads the real clock. Dated minutes ahead, the article cannot fall due while
    // this test (or a later one) looks at it, however slow the machine; the tick that finds it
    // due runs with the clock (Date only, timers stay real) moved past its time. Whatever
    // happens, it is removed again, so nothing leaks into the other tests.
    const due = new Date(Date.now() + SCHEDULED_LEAD_MS);
    cleanUpAfter("content/scheduled.md");
    await put("content/scheduled.md", article("Scheduled", due.toISOString()));
    expect((await handler(sqsEvent(await events()))).batchItemFailures).toEqual([]);
    expect(await jsonTitles()).not.toContain("Scheduled");
    const tick = {
      source: "aws.events",
      "detail-type": "Scheduled Event",
      detail: {},
    } as unknown as SQSEvent;
    // A check before the article is due changes nothing...
    await handler(tick);
    expect(await jsonTitles()).not.toContain("Scheduled");
    expect(Date.now()).toBeLessThan(due.getTime()); // the lead really was long enough
    // ...the first one after it publishes it.
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
    vi.setSystemTime(due.getTime() + 1000);
    try {
      expect(await handler(tick)).toEqual({ batchItemFailures: [] });
    } finally {
      vi.useRealTimers();
    }
    expect(await jsonTitles()).toContain("Scheduled");
  });

  it("events delivered out of order converge on the bucket's current state", async () => {
    cleanUpAfter("content/late.md");
    await put("content/late.md", article("Late", "2026-02-01T00:00:00Z"));
    const created = await events();
    await remove("content/late.md");
    const deleted = await events();
    // The delete is handled first, then the (older) create: the file is gone, so it stays out.
    await handler(sqsEvent(deleted));
    await handler(sqsEvent(created));
    expect(await jsonTitles()).toEqual([SEED_TITLE]);
  });

  it("a bad article is reported, not retried, and the rest still publishes", async () => {
    cleanUpAfter("content/broken.md", "content/fine.md");
    await put("content/broken.md", "---\ntitle: [oops\n---\n");
    await put("content/fine.md", article("Fine", "2026-03-01T00:00:00Z"));
    const result = await handler(sqsEvent(await events()));
    expect(result.batchItemFailures).toEqual([]);
    expect(await jsonTitles()).toEqual(["Fine", SEED_TITLE].sort());
  });

  it("fails only the unreadable message of a batch, and ignores keys outside content/", async () => {
    cleanUpAfter("content/batch.md");
    await put("content/batch.md", article("Batch", "2026-04-01T00:00:00Z"));
    const good = await events();
    const bad: SQSRecord = { ...(good[0] as SQSRecord), messageId: "not-s3", body: "{not json" };
    const elsewhere: SQSRecord = {
      ...(good[0] as SQSRecord),
      messageId: "elsewhere",
      body: JSON.stringify({ Records: [{ s3: { object: { key: "feeds/rss.xml" } } }] }),
    };
    const result = await handler(sqsEvent([...good, bad, elsewhere]));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "not-s3" }]);
    expect(await jsonTitles()).toEqual(["Batch", SEED_TITLE].sort());
  });
});
