import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertValidJsonFeed, assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import { type Deployed, deployedFunction, invokeFresh, synthesize } from "../support/deployed.ts";
import { FAKE_CREDENTIALS, MOTO_REGION, type Moto, s3Client, sqsClient, startMoto } from "../support/moto.ts";
import { createNotifiedBucket, drainQueue, isS3TestEvent, sqsEvent } from "../support/s3-events.ts";

// The deployable artifact, exactly as `cdk synth` writes it, run in a fresh Node process with
// the environment the template gives the function (plus what Lambda itself provides: region,
// credentials, NODE_PATH to the runtime's AWS SDK) and AWS_ENDPOINT_URL_S3 pointing at moto.
const REPO = new URL("../..", import.meta.url).pathname;
const BUCKET = "deployed-bundle-site";
const DISTRIBUTION_DOMAIN = "d111111abcdef8.cloudfront.net";
const SEED_NAME = "000_4dbd7126f40f73dd.txt";
const SEED = readFileSync(join(REPO, "content", SEED_NAME));
const SEED_TITLE = "N. Koreans criticize government calls for “self-reliance”";

let cdkOut: string;
let regenerate: Deployed;
let reconcile: Deployed;
let moto: Moto;
let s3: S3Client;
let sqs: SQSClient;
let queueUrl: string;

const invoke = async (fn: Deployed, event: unknown) =>
  (
    await invokeFresh(fn, event, {
      endpoint: moto.endpoint,
      region: MOTO_REGION,
      accessKeyId: FAKE_CREDENTIALS.accessKeyId,
      secretAccessKey: FAKE_CREDENTIALS.secretAccessKey,
    })
  ).result;

beforeAll(async () => {
  cdkOut = await mkdtemp(join(tmpdir(), "feedpub-cdk-out-"));
  synthesize(cdkOut);
  const values = { bucket: BUCKET, distributionDomain: DISTRIBUTION_DOMAIN };
  regenerate = await deployedFunction(cdkOut, "Regenerate", values);
  reconcile = await deployedFunction(cdkOut, "Reconcile", values);
  moto = await startMoto();
  s3 = s3Client(moto.endpoint);
  sqs = sqsClient(moto.endpoint);
  ({ queueUrl } = await createNotifiedBucket(moto.endpoint, BUCKET));
}, 240_000);

afterAll(async () => {
  await moto?.stop();
  if (cdkOut) await rm(cdkOut, { recursive: true, force: true });
});

const text = async (key: string) =>
  (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body?.transformToString("utf8") ?? "";
const events = (): Promise<SQSRecord[]> => drainQueue(sqs, queueUrl, { waitMs: 1200 });
const titles = async () =>
  (JSON.parse(await text("feeds/feed.json")) as { items: { title: string }[] }).items
    .map((item) => item.title)
    .sort();

describe("the synthesized Lambda bundles against moto", () => {
  it("is given only BUCKET_NAME and SITE_CONFIG by the template", () => {
    expect(Object.keys(regenerate.environment).sort()).toEqual(["BUCKET_NAME", "SITE_CONFIG"]);
    expect(JSON.parse(regenerate.environment.SITE_CONFIG ?? "{}").feedsUrl).toBe(
      `https://${DISTRIBUTION_DOMAIN}/feeds/`,
    );
  });

  it("regenerates all three feeds from an SQS event carrying the seed's S3 notification", async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `content/${SEED_NAME}`, Body: SEED }));
    const records = await events();
    expect(records.some(isS3TestEvent)).toBe(true);
    expect(await invoke(regenerate, sqsEvent(records))).toEqual({ batchItemFailures: [] });

    const rss = await text("feeds/rss.xml");
    const atom = await text("feeds/atom.xml");
    assertWellFormedXml(rss);
    assertWellFormedXml(atom);
    const json = assertValidJsonFeed(await text("feeds/feed.json")) as { feed_url: string };
    expect(json.feed_url).toBe(`https://${DISTRIBUTION_DOMAIN}/feeds/feed.json`);
    for (const xml of [rss, atom]) {
      for (const read of Object.values(await readWithAllReaders(xml))) {
        expect(read.items.map((item) => item.title)).toEqual([SEED_TITLE]);
        expect(read.items[0]?.content).toContain("Translated by Violet Kim");
      }
    }
    // The editor's view of the upload: the bundle tagged the article with its outcome.
    const tagging = await s3.send(
      new GetObjectTaggingCommand({ Bucket: BUCKET, Key: `content/${SEED_NAME}` }),
    );
    expect(tagging.TagSet?.find((tag) => tag.Key === "feedpub-status")?.Value).toBe("published");
  });

  it("publishes an upload, its edit and its delete", async () => {
    const key = "content/posts/hello world.md";
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: "---\ntitle: Hello\ndate: 2026-01-01\n---\nHi.",
      }),
    );
    await invoke(regenerate, sqsEvent(await events()));
    expect(await titles()).toEqual(["Hello", SEED_TITLE].sort());

    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: "---\ntitle: Hello again\ndate: 2026-01-01\n---\nHi.",
      }),
    );
    await invoke(regenerate, sqsEvent(await events()));
    expect(await titles()).toEqual(["Hello again", SEED_TITLE].sort());

    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    await invoke(regenerate, sqsEvent(await events()));
    expect(await titles()).toEqual([SEED_TITLE]);
    // Three cold starts of the bundle and three drains: 12 s on a saturated 2-core machine.
  }, 90_000);

  it("the reconcile bundle rebuilds lost feeds and state from a listing", async () => {
    const before = await text("feeds/rss.xml");
    for (const key of ["feeds/rss.xml", "feeds/atom.xml", "feeds/feed.json"]) {
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    }
    const result = (await invoke(reconcile, { source: "aws.events", "detail-type": "Scheduled Event" })) as {
      published: number;
    };
    expect(result.published).toBe(1);
    // Same bytes as before: the first-seen date of the undated seed came from the kept index.
    expect(await text("feeds/rss.xml")).toBe(before);
  });
});
