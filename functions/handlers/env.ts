import { S3Client } from "@aws-sdk/client-s3";
import { parseConfig, type SiteConfig } from "../core/config.ts";
import { CONTENT_PREFIX, type Stores } from "../engine/publish.ts";
import { S3Storage } from "../storage/s3-storage.ts";

export { CONTENT_PREFIX };

/** Settings and storage for a Lambda, read once per container from its environment. */
export interface Runtime {
  readonly bucket: string;
  readonly config: SiteConfig;
  readonly stores: Stores;
}

export function runtimeFromEnv(env: NodeJS.ProcessEnv): Runtime {
  const bucket = env.BUCKET_NAME;
  if (!bucket) throw new Error("BUCKET_NAME is not set");
  let raw: unknown;
  try {
    raw = JSON.parse(env.SITE_CONFIG ?? "");
  } catch {
    throw new Error("SITE_CONFIG is not set to a JSON object of site settings");
  }
  const config = parseConfig(raw, "SITE_CONFIG");
  // Path-style addressing when an endpoint is configured (S3-compatible servers, tests); the SDK
  // itself reads AWS_ENDPOINT_URL_S3, so production and tests run the same code.
  const client = new S3Client({
    forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3),
    // A stalled request must fail (the SDK retries it, then SQS redelivers the message) instead
    // of holding the function until its own 60 s timeout.
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 20_000, throwOnRequestTimeout: true },
  });
  return {
    bucket,
    config,
    stores: { content: new S3Storage(client, bucket, CONTENT_PREFIX), output: new S3Storage(client, bucket) },
  };
}
