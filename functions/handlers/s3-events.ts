import type { SQSRecord } from "aws-lambda";

/** The article keys (relative to `prefix`) that one SQS message of S3 notifications names. */
export interface RecordKeys {
  readonly keys: string[];
  /** S3 sends an `s3:TestEvent` when notifications are configured; it names no object. */
  readonly test: boolean;
}

/** S3 URL-encodes keys in events, with "+" for a space. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, " "));
}

/**
 * Reads the S3 event notification carried by one SQS record. Each event only means "this key
 * changed": the handler reads the key's current state, so event names and order do not matter.
 * Throws on a body that is not an S3 notification.
 */
export function keysFromRecord(record: Pick<SQSRecord, "body">, prefix: string): RecordKeys {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new Error("the message body is not JSON");
  }
  if (body && typeof body === "object" && (body as { Event?: unknown }).Event === "s3:TestEvent") {
    return { keys: [], test: true };
  }
  const records = (body as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records)) throw new Error("the message is not an S3 event notification (no Records)");
  const keys: string[] = [];
  for (const entry of records) {
    const key = (entry as { s3?: { object?: { key?: unknown } } })?.s3?.object?.key;
    if (typeof key !== "string") throw new Error("an S3 event record has no object key");
    const decoded = decodeS3Key(key);
    if (decoded.startsWith(prefix) && decoded.length > prefix.length) keys.push(decoded.slice(prefix.length));
  }
  return { keys, test: false };
}
