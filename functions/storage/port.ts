/** Metadata of a stored object. */
export interface ObjectInfo {
  readonly key: string;
  /** Quoted MD5 of the bytes, as S3 reports for single-part uploads. */
  readonly etag: string;
  readonly lastModified: Date;
  readonly size: number;
}

/** A stored object with its bytes. */
export interface StoredObject extends ObjectInfo {
  readonly body: Uint8Array;
  readonly contentType?: string;
}

export interface PutOptions {
  readonly contentType?: string;
  readonly cacheControl?: string;
  /** Write only if the current object has this ETag (optimistic concurrency). */
  readonly ifMatch?: string;
  /** "*": write only if the key does not exist yet. */
  readonly ifNoneMatch?: "*";
}

/**
 * The storage port: everything the publisher needs from a bucket or a folder. Keys are
 * "/"-separated paths relative to the adapter's root; adapters refuse keys that could escape it.
 */
export interface Storage {
  get(key: string): Promise<StoredObject | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Throws PreconditionFailedError when ifMatch / ifNoneMatch does not hold. */
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<{ etag: string }>;
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix?: string): AsyncIterable<ObjectInfo>;
}
