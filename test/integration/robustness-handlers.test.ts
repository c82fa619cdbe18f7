import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { readStatus } from "../../functions/engine/status.ts";
import { S3Storage } from "../../functions/storage/s3-storage.ts";
import { assertValidJsonFeed, assertWellFormedXml } from "../helpers/feed-check.ts";
import { type HandlerHarness, startHandlerHarness } from "../support/handler-harness.ts";
import { ALL_CASES, HOSTILE_SITE_URL, publishedTitles, reportedCases } from "../support/hostile-cases.ts";
import { drainQueue, sqsEvent } from "../support/s3-events.ts";

// Every hostile case of the CLI tests, uploaded to a real S3 API (moto) and published by the real
// Regenerate and Reconcile handlers: no bad key may fail a batch, a reconcile or, after a settings
// change (every regeneration a full rebuild), the upload that follows.
const BUCKET = "robustness-handlers";
const SITE = { title: "Hostile", url: HOSTILE_SITE_URL, feedsUrl: "https://cdn.hostile.example/feeds/" };
/** content/ + this is 1,022 bytes: a valid S3 key whose feeds/media/ copy would be 1,026. */
const LONG_MEDIA = `${Array.from({ length: 5 }, (_, i) => `${i}${"d".repeat(199)}`).join("/")}/cover.jpg`;

/** moto's HTTP server refuses a newline in a request path (real S3 takes it); the rest go in. */
const CASES = Object.fromEntries(Object.entries(ALL_CASES).filter(([path]) => !path.includes("\n")));

let harness: HandlerHarness;
const logged: string[] = [];

async function put(key: string, body: string | Uint8Array): Promise<void> {
  await harness.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `content/${key}`, Body: body }));
}

async function feed(): Promise<{ title: string; items: { title: string }[] }> {
  const object = await harness.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "feeds/feed.json" }));
  const text = (await object.Body?.transformToString("utf8")) ?? "";
  return assertValidJsonFeed(text) as { title: string; items: { title: string }[] };
}

async function xmlFeeds(): Promise<void> {
  for (const key of ["feeds/rss.xml", "feeds/atom.xml"]) {
    const object = await harness.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    assertWellFormedXml((await object.Body?.transformToString("utf8")) ?? "");
  }
}

/** The S3 notifications queued so far, as one SQS event. */
async function queued(): Promise<SQSEvent> {
  return sqsEvent(await drainQueue(harness.sqs, harness.queueUrl, { waitMs: 1200 }));
}

async function loadHandlers(site: object): Promise<{
  regenerate: (event: SQSEvent) => Promise<SQSBatchResponse>;
  reconcile: () => Promise<{ published: number; problems: number }>;
}> {
  // A Lambda reads its settings once, at a cold start: a new deploy is a fresh import.
  vi.resetModules();
  process.env.SITE_CONFIG = JSON.stringify(site);
  const { handler: regenerate } = await import("../../functions/handlers/regenerate.ts");
  const { handler: reconcile } = await import("../../functions/handlers/reconcile.ts");
  return { regenerate, reconcile };
}

beforeAll(async () => {
  harness = await startHandlerHarness(BUCKET, SITE);
  for (const method of ["info", "warn", "error"] as const)
    vi.spyOn(console, method).mockImplementation((line: string) => void logged.push(String(line)));
  for (const [path, c] of Object.entries(CASES)) await put(path, c.body);
  await put(LONG_MEDIA, new Uint8Array([0xff, 0xd8, 0xff]));
  await put("good/photo.jpg", new Uint8Array([0xff, 0xd8, 0xff, 0xe0]));
}, 120_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await harness?.stop();
});

/** Warnings the handlers logged for a content key, as (key, reason) pairs. */
function loggedProblems(): Map<string, string> {
  const problems = new Map<string, string>();
  for (const line of logged) {
    const entry = JSON.parse(line) as { message: string; key?: string; reason?: string };
    if (entry.message === "article not published" && entry.key) problems.set(entry.key, entry.reason ?? "");
  }
  return problems;
}

describe("hostile uploads through the Lambda handlers on a real S3 API", () => {
  it("Regenerate publishes every good article in one batch and logs each bad one by its key", async () => {
    const { regenerate } = await loadHandlers(SITE);
    const event = await queued();
    expect(event.Records.length).toBeGreaterThan(Object.keys(CASES).length);
    expect(await regenerate(event)).toEqual({ batchItemFailures: [] });
    expect((await feed()).items.map((item) => item.title).sort()).toEqual(publishedTitles(CASES));
    await xmlFeeds();
    const problems = loggedProblems();
    for (const [path, pattern] of reportedCases(CASES))
      expect(problems.get(`content/${path}`), path).toMatch(pattern);
    expect(problems.get(`content/${LONG_MEDIA}`)).toMatch(/would pass S3's limit of 1,024 bytes/);
    // `feedpub status --bucket` reads the same from the private index.
    const status = await readStatus(new S3Storage(harness.s3, BUCKET), parseConfig(SITE));
    const rejected = new Map(status.rejected.map((problem) => [problem.file, problem.reason]));
    // (Duplicate ids are settled when planning and are not kept in the catalog yet.)
    for (const [path, pattern] of reportedCases(CASES).filter(([, p]) => !p.source.includes("duplicate id")))
      expect(rejected.get(path), path).toMatch(pattern);
    expect(rejected.get(LONG_MEDIA)).toMatch(/would pass S3's limit of 1,024 bytes/);
  }, 120_000);

  it("Reconcile rebuilds from the listing without failing on any of them", async () => {
    const { reconcile } = await loadHandlers(SITE);
    logged.length = 0;
    const result = await reconcile();
    expect(result.published).toBe(publishedTitles(CASES).length);
    expect(result.problems).toBe(reportedCases(CASES).length + 1); // + the long media name
    expect((await feed()).items.map((item) => item.title).sort()).toEqual(publishedTitles(CASES));
    const problems = loggedProblems();
    for (const [path, pattern] of reportedCases(CASES))
      expect(problems.get(`content/${path}`), path).toMatch(pattern);
  }, 120_000);

  it("after a settings change (a full rebuild) an upload is published while the bad keys stay", async () => {
    const { regenerate } = await loadHandlers({ ...SITE, title: "Hostile, renamed" });
    await put(
      "good/after-settings.md",
      "---\ntitle: After the settings change\ndate: 2024-03-01\n---\nNew.\n",
    );
    expect(await regenerate(await queued())).toEqual({ batchItemFailures: [] });
    const after = await feed();
    expect(after.title).toBe("Hostile, renamed");
    expect(after.items.map((item) => item.title).sort()).toEqual(
      [...publishedTitles(CASES), "After the settings change"].sort(),
    );
    await xmlFeeds();
  }, 120_000);

  it("an event for a refused key alone is a logged problem, not a failed message", async () => {
    const { regenerate } = await loadHandlers({ ...SITE, title: "Hostile, renamed" });
    logged.length = 0;
    await put("names/back\\slash.md", "---\ntitle: Backslash again\n---\nEdited.\n");
    expect(await regenerate(await queued())).toEqual({ batchItemFailures: [] });
    expect(loggedProblems().get("content/names/back\\slash.md")).toMatch(/file name cannot be published/);
  }, 60_000);
});
