import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type HandlerHarness, startHandlerHarness } from "../support/handler-harness.ts";
import { startHub, type TestHub } from "../support/hub.ts";
import { drainQueue, sqsEvent } from "../support/s3-events.ts";

const BUCKET = "websub-site";
let hub: TestHub;
let harness: HandlerHarness;
let s3: S3Client;
let sqs: SQSClient;
let queueUrl: string;
const FILES = ["rss.xml", "atom.xml", "feed.json"];
const FEEDS = FILES.map((file) => `https://cdn.websub.example/feeds/${file}`);
/** The feeds of the section "posts", which an upload under content/posts/ changes too. */
const SECTION = FILES.map((file) => `https://cdn.websub.example/feeds/sections/posts/${file}`);

beforeAll(async () => {
  hub = await startHub();
  harness = await startHandlerHarness(BUCKET, {
    title: "WebSub Site",
    url: "https://websub.example/",
    feedsUrl: "https://cdn.websub.example/feeds/",
    hub: hub.url,
  });
  ({ s3, sqs, queueUrl } = harness);
  await drainQueue(sqs, queueUrl, { waitMs: 1200 }); // the s3:TestEvent
}, 60_000);

afterAll(async () => {
  await harness?.stop();
  await hub?.close();
});

beforeEach(() => {
  hub.requests.length = 0;
  hub.script();
});

const upload = async (key: string, title: string) => {
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: `content/${key}`,
      Body: `---\ntitle: ${title}\ndate: 2026-05-01\n---\nText.\n`,
    }),
  );
  return drainQueue(sqs, queueUrl, { waitMs: 1200 });
};

describe("the regenerate handler and the WebSub hub (moto + a local hub)", () => {
  it("after an upload changes the feeds, the hub gets hub.mode=publish for each of them", async () => {
    const records = await upload("posts/one.md", "One");
    expect((await harness.handler(sqsEvent(records))).batchItemFailures).toEqual([]);
    expect(hub.requests.map((r) => r.params["hub.url"]).sort()).toEqual([...FEEDS, ...SECTION].sort());
    for (const request of hub.requests) expect(request.params["hub.mode"]).toBe("publish");

    // The same event again changes nothing, so nobody is told anything.
    hub.requests.length = 0;
    await harness.handler(sqsEvent(records));
    expect(hub.requests).toEqual([]);
  });

  it("a hub that keeps failing is retried, logged per feed, and never fails the batch", async () => {
    const warnings: string[] = [];
    const spy = vi.spyOn(console, "warn").mockImplementation((line: string) => void warnings.push(line));
    try {
      hub.script(...Array.from({ length: 9 }, () => 503));
      // At the top of content/: in no section, so only the main feed's three documents change.
      const records = await upload("two.md", "Two");
      expect((await harness.handler(sqsEvent(records))).batchItemFailures).toEqual([]);
      expect(hub.requests).toHaveLength(9); // three feeds, three tries each
      const failures = warnings
        .map((line) => JSON.parse(line))
        .filter((l) => l.message === "hub ping failed");
      expect(failures.map((l) => l.feed).sort()).toEqual([...FEEDS].sort());
      for (const line of failures)
        expect(line).toMatchObject({
          level: "warn",
          hub: hub.url,
          attempts: 3,
          status: 503,
          reason: "the hub answered HTTP 503",
        });
    } finally {
      spy.mockRestore();
    }
  }, 30_000);
});
