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

/** One object tag (S3: a key of at most 128 and a value of at most 256 characters). */
export interface ObjectTag {
  readonly key: string;
  readonly value: string;
}

/**
 * Object tags: metadata beside an object's bytes. Writing them changes neither the bytes nor the
 * ETag (so a reconcile that compares ETags does not read the object again), and on S3 it raises
 * only s3:ObjectTagging:* events, which the bucket notification does not subscribe to.
 */
export interface ObjectTagging {
  /** The object's whole tag set; undefined when the object does not exist. */
  read(key: string): Promise<readonly ObjectTag[] | undefined>;
  /** Replaces the object's whole tag set; false when the object does not exist. */
  write(key: string, tags: readonly ObjectTag[]): Promise<boolean>;
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
  /**
   * Object tags, where the storage has them (S3). A folder has none: extended attributes exist
   * on some file systems only and are lost by most copy tools, so the fs adapter leaves this out
   * and `feedpub status --files` is how a local site shows the same outcome per file.
   */
  readonly tagging?: ObjectTagging;
  /**
   * Removes everything under a prefix at once, where the storage has folders that outlive their
   * files (a folder on disk). A bucket has no folders; its run folders expire by a lifecycle rule.
   */
  deleteFolder?(prefix: string): Promise<void>;
}
