/**
 * The moto harness itself, and what moto's own S3 -> SQS notification delivery really sends:
 * handler tests build their SQSEvents from these records, so their shape is pinned here.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Storage } from "../../functions/storage/s3-storage.ts";
import {
  createBucket,
  type Moto,
  resetMoto,
  s3Client,
  sqsClient,
  startMoto,
  useMotoEnv,
} from "../support/moto.ts";
import {
  createNotifiedBucket,
  decodeS3EventKey,
  drainQueue,
  isS3TestEvent,
  s3RecordsOf,
  sqsEvent,
} from "../support/s3-events.ts";

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
};

describe("startMoto", () => {
  it("starts a server that answers, and stop() leaves no process behind", async () => {
    const moto = await startMoto();
    try {
      expect(moto.endpoint).toBe(`http://127.0.0.1:${moto.port}`);
      expect(isAlive(moto.pid)).toBe(true);
      const response = await fetch(`${moto.endpoint}/moto-api/`);
      await response.arrayBuffer();
      expect(response.ok).toBe(true);
    } finally {
      await moto.stop();
    }
    expect(isAlive(moto.pid)).toBe(false);
    await expect(fetch(`${moto.endpoint}/moto-api/`)).rejects.toThrow();
    await moto.stop(); // idempotent
  });

  it("fails loudly, with the install command, when moto_server is not on PATH", async () => {
    const empty = await mkdtemp(join(tmpdir(), "feedpub-no-moto-"));
    const path = process.env.PATH;
    process.env.PATH = empty;
    try {
      await expect(startMoto()).rejects.toThrow(/moto_server is required.*pip install 'moto\[server\]'/);
    } finally {
      process.env.PATH = path;
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe("against one moto", () => {
  let moto: Moto;
  let sqs: SQSClient;

  beforeAll(async () => {
    moto = await startMoto();
    sqs = sqsClient(moto.endpoint);
  });

  afterAll(async () => {
    sqs?.destroy();
    await moto?.stop();
  });

  it("resetMoto forgets every bucket", async () => {
    const s3 = s3Client(moto.endpoint);
    try {
      await createBucket(s3, "to-be-forgotten");
      expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toContain(
        "to-be-forgotten",
      );
      await resetMoto(moto.endpoint);
      expect((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
    } finally {
      s3.destroy();
    }
  });

  it("a product-style client built from the environment alone reaches moto", async () => {
    const restore = useMotoEnv(moto.endpoint);
    // What the product does when AWS_ENDPOINT_URL_S3 is set: no endpoint, region or keys in code.
    const client = new S3Client({ forcePathStyle: true });
    try {
      await createBucket(client, "from-env");
      const storage = new S3Storage(client, "from-env", "content/");
      await storage.put("x.md", "x");
      expect((await storage.head("x.md"))?.size).toBe(1);
    } finally {
      client.destroy();
      restore();
    }
  });

  it("delivers real S3 events for content/ through SQS, as Lambda would receive them", async () => {
    const { queueUrl, queueArn } = await createNotifiedBucket(moto.endpoint, "notified");
    expect(queueArn).toBe("arn:aws:sqs:us-east-1:123456789012:notified-events");
    const s3 = s3Client(moto.endpoint);
    let etag: string;
    try {
      const content = new S3Storage(s3, "notified", "content/");
      ({ etag } = await content.put("a b+c.md", "# A B+C\n"));
      await new S3Storage(s3, "notified").put("feeds/rss.xml", "<rss/>"); // outside content/: no event
      await content.delete("a b+c.md");
    } finally {
      s3.destroy();
    }

    const records = await drainQueue(sqs, queueUrl, { waitMs: 1_000 });
    const event = sqsEvent(records);
    expect(event.Records).toHaveLength(3);

    // Every record has the shape of Lambda's SQS event source.
    for (const record of event.Records) {
      expect(record).toMatchObject({
        eventSource: "aws:sqs",
        eventSourceARN: queueArn,
        awsRegion: "us-east-1",
        messageAttributes: {},
        md5OfBody: createHash("md5").update(record.body).digest("hex"),
        attributes: { ApproximateReceiveCount: "1" },
      });
      expect(record.messageId).toMatch(/^[0-9a-f-]{36}$/);
      expect(record.receiptHandle.length).toBeGreaterThan(0);
      expect(Number(record.attributes.SentTimestamp)).toBeGreaterThan(0);
      expect(Number(record.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThan(0);
    }

    // First the test event that setting the notification sends; a handler must ignore it.
    const [test, created, removed] = event.Records;
    expect(test && isS3TestEvent(test)).toBe(true);
    expect(JSON.parse(test?.body ?? "")).toMatchObject({
      Service: "Amazon S3",
      Event: "s3:TestEvent",
      Bucket: "notified",
    });
    expect(test && s3RecordsOf(test)).toEqual([]);

    const [put] = created ? s3RecordsOf(created) : [];
    const [del] = removed ? s3RecordsOf(removed) : [];
    expect(put?.eventName).toMatch(/^ObjectCreated:/);
    expect(put?.eventName).toBe("ObjectCreated:Put");
    expect(del?.eventName).toMatch(/^ObjectRemoved:/);
    expect(del?.eventName).toBe("ObjectRemoved:Delete");
    for (const record of [put, del]) {
      expect(record).toMatchObject({
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        s3: {
          s3SchemaVersion: "1.0",
          bucket: { name: "notified", arn: "arn:aws:s3:::notified" },
          object: { size: 8, eTag: etag.replaceAll('"', "") },
        },
      });
      // URL-encoded, '+' for a space, '%2B' for a '+'; moto also encodes '/' (AWS does not).
      expect(record?.s3.object.key).toBe("content%2Fa+b%2Bc.md");
      expect(decodeS3EventKey(record?.s3.object.key ?? "")).toBe("content/a b+c.md");
      // moto's time has microseconds and no zone; AWS sends "2025-01-01T12:00:00.000Z".
      expect(record?.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    }
    expect(put?.s3.configurationId).toBe("content-created");
    expect(del?.s3.configurationId).toBe("content-removed");

    // moto 5.2.1 does NOT send `sequencer` (AWS always does, for ordering events of one key),
    // nor versionId. Handlers must not need it to work; tests cannot order events by it. If this
    // fails, moto started sending it: update test/support/s3-events.ts and the handler tests.
    expect(put?.s3.object.sequencer).toBeUndefined();
    expect(del?.s3.object.sequencer).toBeUndefined();

    // Drained means gone from the queue.
    expect(await drainQueue(sqs, queueUrl, { waitMs: 0 })).toEqual([]);
  });

  it("decodes event keys with spaces, '+', '%' and non-ASCII", () => {
    expect(decodeS3EventKey("content%2F%C3%9Cn%C3%AFcode+caf%C3%A9%2Bplus.md")).toBe(
      "content/Ünïcode café+plus.md",
    );
    expect(decodeS3EventKey("content/100%25+done.md")).toBe("content/100% done.md");
  });
});
