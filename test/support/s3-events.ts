/**
 * Real S3 event notifications for tests, delivered by moto itself: a bucket notifies a standard
 * SQS queue of ObjectCreated / ObjectRemoved under `content/`, and `drainQueue` turns what the
 * queue holds into the `SQSRecord`s Lambda would hand to an SQS-triggered function.
 *
 * What moto 5.2.1 actually sends differs from AWS in ways handler tests must know (see
 * test/integration/moto-harness.test.ts, which pins each point):
 * - the first message after the notification is set is `{"Event":"s3:TestEvent",...}`, with no
 *   `Records` (AWS sends the same); handlers must ignore it;
 * - `s3.object.key` is Python's `quote_plus(key)`: spaces become `+`, `+` becomes `%2B`, non-ASCII
 *   is UTF-8 percent-encoded and, unlike AWS, `/` becomes `%2F`; decode with `decodeS3EventKey`;
 * - there is no `s3.object.sequencer`, no `versionId`, no `userIdentity`, `requestParameters`,
 *   `responseElements` or `bucket.ownerIdentity`; `eventTime` has microseconds and no zone
 *   (`2025-01-01T12:00:00.123456`, local time of the moto process, UTC here);
 * - `eventName` is `ObjectCreated:Put` / `ObjectRemoved:Delete` (no `s3:` prefix, as on AWS).
 */

import { PutBucketNotificationConfigurationCommand } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from "aws-lambda";
import { createBucket, MOTO_ACCOUNT, MOTO_REGION, s3Client, sqsClient } from "./moto.ts";

export const NOTIFIED_PREFIX = "content/";

export interface NotifiedBucket {
  readonly queueUrl: string;
  readonly queueArn: string;
}

/**
 * Creates `bucket` and a standard SQS queue `<bucket>-events`, allows the bucket to send to the
 * queue, and notifies it of `s3:ObjectCreated:*` and `s3:ObjectRemoved:*` for keys under
 * `content/`. moto then puts an `s3:TestEvent` message on the queue; it is left there, as AWS
 * leaves it, for the handler under test to ignore.
 */
export async function createNotifiedBucket(endpoint: string, bucket: string): Promise<NotifiedBucket> {
  const s3 = s3Client(endpoint);
  const sqs = sqsClient(endpoint);
  try {
    await createBucket(s3, bucket);
    const queueName = `${bucket.replace(/[^A-Za-z0-9_-]/g, "-")}-events`;
    const { QueueUrl: queueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
    if (!queueUrl) throw new Error(`CreateQueue ${queueName} returned no QueueUrl`);
    const queueArn = await queueArnOf(sqs, queueUrl);
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "s3-notifications",
          Effect: "Allow",
          Principal: { Service: "s3.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queueArn,
          Condition: {
            ArnLike: { "aws:SourceArn": `arn:aws:s3:::${bucket}` },
            StringEquals: { "aws:SourceAccount": MOTO_ACCOUNT },
          },
        },
      ],
    };
    await sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { Policy: JSON.stringify(policy) } }),
    );
    const filter = { Key: { FilterRules: [{ Name: "prefix" as const, Value: NOTIFIED_PREFIX }] } };
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          QueueConfigurations: [
            { Id: "content-created", QueueArn: queueArn, Events: ["s3:ObjectCreated:*"], Filter: filter },
            { Id: "content-removed", QueueArn: queueArn, Events: ["s3:ObjectRemoved:*"], Filter: filter },
          ],
        },
      }),
    );
    return { queueUrl, queueArn };
  } finally {
    s3.destroy();
    sqs.destroy();
  }
}

const arns = new Map<string, string>();

async function queueArnOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const known = arns.get(queueUrl);
  if (known) return known;
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
  );
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error(`no QueueArn for ${queueUrl}`);
  arns.set(queueUrl, arn);
  return arn;
}

/**
 * Receives every message on the queue (batches of up to 10, long polls of 1 s) until none has
 * arrived for `waitMs` (default 1500), deletes them, and returns them as Lambda would deliver
 * them to an SQS-triggered function, in the order moto hands them out (send order; a real
 * standard queue promises no order). Build the event with `sqsEvent(records)`. Empty polls take
 * 1 s each, so a drain lasts at least max(waitMs, 1 s).
 */
export async function drainQueue(
  sqs: SQSClient,
  queueUrl: string,
  options: { waitMs?: number } = {},
): Promise<SQSRecord[]> {
  const waitMs = options.waitMs ?? 1_500;
  const queueArn = await queueArnOf(sqs, queueUrl);
  const records: SQSRecord[] = [];
  let lastArrival = Date.now();
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length > 0) {
      lastArrival = Date.now();
      records.push(...messages.map((message) => toSqsRecord(message, queueArn)));
      const deleted = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
      if (deleted.Failed && deleted.Failed.length > 0) {
        throw new Error(`could not delete messages: ${JSON.stringify(deleted.Failed)}`);
      }
    } else if (Date.now() - lastArrival >= waitMs) {
      return records;
    }
  }
}

/** One SQS message in the shape Lambda's SQS event source gives it to the function. */
export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const system = message.Attributes ?? {};
  const attributes: SQSRecord["attributes"] = {
    ApproximateReceiveCount: system.ApproximateReceiveCount ?? "1",
    SentTimestamp: system.SentTimestamp ?? String(Date.now()),
    SenderId: system.SenderId ?? MOTO_ACCOUNT,
    ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    ...(system.AWSTraceHeader ? { AWSTraceHeader: system.AWSTraceHeader } : {}),
  };
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? "String",
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString("base64") }
        : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((bytes) => Buffer.from(bytes).toString("base64")),
    };
  }
  if (!message.MessageId || !message.ReceiptHandle || message.Body === undefined || !message.MD5OfBody) {
    throw new Error(`incomplete SQS message: ${JSON.stringify(message)}`);
  }
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body,
    attributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody,
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(":")[3] || MOTO_REGION,
  };
}

/** The event Lambda passes to an SQS-triggered handler. */
export const sqsEvent = (records: SQSRecord[]): SQSEvent => ({ Records: records });

/** The body moto (and AWS) sends once when a notification configuration is set. */
export interface S3TestEventBody {
  readonly Service: "Amazon S3";
  readonly Event: "s3:TestEvent";
  readonly Time: string;
  readonly Bucket: string;
}

/**
 * An S3 event record as moto 5.2.1 sends it: the fields AWS also sends, minus the ones moto
 * leaves out (typed optional here so tests do not rely on them).
 */
export interface MotoS3EventRecord {
  readonly eventVersion: string;
  readonly eventSource: "aws:s3";
  readonly awsRegion: string;
  readonly eventTime: string;
  readonly eventName: string;
  readonly s3: {
    readonly s3SchemaVersion: string;
    readonly configurationId: string;
    readonly bucket: { readonly name: string; readonly arn: string };
    readonly object: {
      readonly key: string;
      readonly size: number;
      readonly eTag: string;
      readonly sequencer?: string;
      readonly versionId?: string;
    };
  };
}

export function isS3TestEvent(record: SQSRecord): boolean {
  const body = JSON.parse(record.body) as Partial<S3TestEventBody>;
  return body.Event === "s3:TestEvent";
}

/** The S3 event records inside one SQS message (none for the test event). */
export function s3RecordsOf(record: SQSRecord): MotoS3EventRecord[] {
  const body = JSON.parse(record.body) as { Records?: MotoS3EventRecord[] };
  return body.Records ?? [];
}

/** A key as written in an S3 event: URL-encoded with `+` for spaces. */
export const decodeS3EventKey = (key: string): string => decodeURIComponent(key.replace(/\+/g, " "));
