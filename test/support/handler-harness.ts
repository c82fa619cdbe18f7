import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { type Moto, s3Client, sqsClient, startMoto, useMotoEnv } from "./moto.ts";
import { createNotifiedBucket } from "./s3-events.ts";

/** moto with a bucket whose content/ notifications go to a queue, and the real regenerate handler. */
export interface HandlerHarness {
  readonly moto: Moto;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  stop(): Promise<void>;
}

/**
 * Starts moto, points the SDK at it, sets the handler's environment (BUCKET_NAME, SITE_CONFIG)
 * and imports the handler, which reads that environment once, at import, like a Lambda cold start.
 */
export async function startHandlerHarness(bucket: string, site: object): Promise<HandlerHarness> {
  const moto = await startMoto();
  const restoreEnv = useMotoEnv(moto.endpoint);
  process.env.BUCKET_NAME = bucket;
  process.env.SITE_CONFIG = JSON.stringify(site);
  const s3 = s3Client(moto.endpoint);
  const sqs = sqsClient(moto.endpoint);
  const { queueUrl } = await createNotifiedBucket(moto.endpoint, bucket);
  const { handler } = await import("../../functions/handlers/regenerate.ts");
  return {
    moto,
    s3,
    sqs,
    queueUrl,
    handler,
    async stop() {
      restoreEnv();
      delete process.env.BUCKET_NAME;
      delete process.env.SITE_CONFIG;
      s3.destroy();
      sqs.destroy();
      await moto.stop();
    },
  };
}
