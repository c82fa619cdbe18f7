import type { ObjectInfo, PutOptions, Storage, StoredObject } from "../../functions/storage/port.ts";

/** Wraps a storage adapter and counts the requests made through it (one per call or list page). */
export class CountingStorage implements Storage {
  readonly calls: string[] = [];
  constructor(private readonly inner: Storage) {}
  get(key: string): Promise<StoredObject | undefined> {
    this.calls.push(`GET ${key}`);
    return this.inner.get(key);
  }
  head(key: string): Promise<ObjectInfo | undefined> {
    this.calls.push(`HEAD ${key}`);
    return this.inner.head(key);
  }
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<{ etag: string }> {
    this.calls.push(`PUT ${key}`);
    return this.inner.put(key, body, options);
  }
  delete(key: string): Promise<void> {
    this.calls.push(`DELETE ${key}`);
    return this.inner.delete(key);
  }
  async *list(prefix?: string): AsyncIterable<ObjectInfo> {
    this.calls.push(`LIST ${prefix ?? ""}`);
    yield* this.inner.list(prefix);
  }
}
