import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { PreconditionFailedError } from "./errors.ts";
import { checkKey } from "./keys.ts";
import type { ObjectInfo, ObjectTag, ObjectTagging, PutOptions, Storage, StoredObject } from "./port.ts";

/**
 * The storage port on an S3 bucket (or any S3-compatible endpoint: the SDK reads
 * AWS_ENDPOINT_URL_S3 itself). `prefix` scopes every key, e.g. "content/" for the articles.
 * The client is injected so one client per process is shared by all adapters.
 */
export class S3Storage implements Storage {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    readonly prefix = "",
  ) {}

  private key(key: string): string {
    return this.prefix + checkKey(key);
  }

  /**
   * GetObjectTagging / PutObjectTagging on the current version (s3:GetObjectTagging and
   * s3:PutObjectTagging; a version id would need the s3:*ObjectVersionTagging actions instead).
   */
  readonly tagging: ObjectTagging = {
    read: async (key: string): Promise<readonly ObjectTag[] | undefined> => {
      try {
        const out = await this.client.send(
          new GetObjectTaggingCommand({ Bucket: this.bucket, Key: this.key(key) }),
        );
        return (out.TagSet ?? []).map((tag) => ({ key: tag.Key ?? "", value: tag.Value ?? "" }));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    write: async (key: string, tags: readonly ObjectTag[]): Promise<boolean> => {
      try {
        await this.client.send(
          new PutObjectTaggingCommand({
            Bucket: this.bucket,
            Key: this.key(key),
            Tagging: { TagSet: tags.map((tag) => ({ Key: tag.key, Value: tag.value })) },
          }),
        );
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    },
  };

  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
      return {
        key,
        body,
        etag: out.ETag ?? "",
        lastModified: out.LastModified ?? new Date(0),
        size: body.byteLength,
        ...(out.ContentType ? { contentType: out.ContentType } : {}),
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return {
        key,
        etag: out.ETag ?? "",
        lastModified: out.LastModified ?? new Date(0),
        size: out.ContentLength ?? 0,
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<{ etag: string }> {
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(key),
          Body: typeof body === "string" ? Buffer.from(body, "utf8") : body,
          ContentType: options.contentType,
          CacheControl: options.cacheControl,
          IfMatch: options.ifMatch,
          IfNoneMatch: options.ifNoneMatch,
        }),
      );
      return { etag: out.ETag ?? "" };
    } catch (error) {
      if (status(error) === 412 || (error as Error).name === "PreconditionFailed")
        throw new PreconditionFailedError(key);
      const conditional = options.ifMatch !== undefined || options.ifNoneMatch !== undefined;
      // If-Match on a missing key: S3 answers 404 NoSuchKey, but the condition simply does not
      // hold (as in the fs adapter). 409 ConditionalRequestConflict: another conditional write
      // to the key raced this one; the caller must re-read, exactly as after a 412.
      if (options.ifMatch !== undefined && isNotFound(error)) throw new PreconditionFailedError(key);
      if (conditional && (error as Error).name === "ConditionalRequestConflict")
        throw new PreconditionFailedError(key);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
  }

  async *list(prefix = ""): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      const out = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ContinuationToken: token,
          // Keys may hold characters XML 1.0 cannot carry (an uploader's control characters):
          // asked for URL-encoded, one such key cannot make the whole listing unreadable.
          EncodingType: "url",
        }),
      );
      for (const object of out.Contents ?? []) {
        if (!object.Key) continue;
        const key = out.EncodingType === "url" ? decodeListedKey(object.Key) : object.Key;
        yield {
          key: key.slice(this.prefix.length),
          etag: object.ETag ?? "",
          lastModified: object.LastModified ?? new Date(0),
          size: object.Size ?? 0,
        };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }
}

/** A key as ListObjectsV2 encodes it with encoding-type=url: S3 writes a space as "+", "+" as %2B. */
function decodeListedKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, " "));
}

function status(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

/**
 * A missing object. A missing bucket is a configuration error and must not read as "no such
 * article": GetObject names it NoSuchBucket. (HeadObject answers a bodiless 404 "NotFound" for
 * both, so `head` cannot tell them apart.)
 */
function isNotFound(error: unknown): boolean {
  const name = (error as Error).name;
  if (name === "NoSuchBucket") return false;
  return name === "NoSuchKey" || name === "NotFound" || status(error) === 404;
}
