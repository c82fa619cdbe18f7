import { createHash } from "node:crypto";
import type { MessagePort } from "node:worker_threads";
import { InvalidKeyError, PreconditionFailedError } from "./errors.ts";
import type { ObjectInfo, ObjectTag, ObjectTagging, PutOptions, Storage, StoredObject } from "./port.ts";

/**
 * A Storage reached over a MessagePort. Worker threads cannot share an adapter's memory (an
 * in-memory store, one S3 client's connection pool, a folder's listing cache): the thread that
 * owns the adapter answers with `serveStorage`, and each worker talks to it through a
 * `PortStorage`. Requests run concurrently on the serving side; the worker sets the concurrency.
 */

type Request =
  | { readonly op: "get" | "head" | "delete" | "tags-read"; readonly key: string }
  | {
      readonly op: "put";
      readonly key: string;
      readonly body: Uint8Array | string;
      readonly options: PutOptions;
      /** false: the worker derives the ETag itself, so the adapter's lazy ETag is not computed. */
      readonly etag: boolean;
    }
  | { readonly op: "tags-write"; readonly key: string; readonly tags: readonly ObjectTag[] }
  | { readonly op: "list-open"; readonly prefix: string; readonly listing: number }
  | { readonly op: "list-next" | "list-close"; readonly listing: number };

type Envelope = Request & { readonly id: number };

interface RemoteError {
  readonly name: string;
  readonly message: string;
  readonly key?: string;
  readonly reason?: string;
}

type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: RemoteError };

/** Entries per list-next reply: a ListObjectsV2 page, so a message stays a few hundred KB. */
const LIST_BATCH = 1000;

/**
 * Answers PortStorage requests on `port` from `storage`. Bodies that `get` returns are
 * transferred, not copied, when they own their whole buffer: an adapter must not keep a body it
 * returned (none of ours do; each get gives fresh bytes). Returns a function that stops serving
 * and ends the listings still open.
 */
export function serveStorage(storage: Storage, port: MessagePort): () => void {
  const listings = new Map<number, AsyncIterator<ObjectInfo>>();
  const handle = async (request: Request): Promise<[unknown, ArrayBuffer[]]> => {
    switch (request.op) {
      case "get": {
        const found = await storage.get(request.key);
        if (!found) return [undefined, []];
        const body = ownedCopy(found.body);
        return [{ ...found, body }, [body.buffer as ArrayBuffer]];
      }
      case "head":
        return [await storage.head(request.key), []];
      case "put": {
        const result = await storage.put(request.key, request.body, request.options);
        return [request.etag ? { etag: result.etag } : {}, []];
      }
      case "delete":
        return [await storage.delete(request.key), []];
      case "tags-read":
        return [await taggingOf(storage).read(request.key), []];
      case "tags-write":
        return [await taggingOf(storage).write(request.key, request.tags), []];
      case "list-open":
        listings.set(request.listing, storage.list(request.prefix)[Symbol.asyncIterator]());
        return [undefined, []];
      case "list-next":
        return [await nextBatch(listings, request.listing), []];
      case "list-close":
        await listings.get(request.listing)?.return?.();
        listings.delete(request.listing);
        return [undefined, []];
    }
  };
  const onMessage = (message: Envelope) => {
    handle(message).then(
      ([value, transfer]) => port.postMessage({ id: message.id, ok: true, value } satisfies Reply, transfer),
      (error: unknown) =>
        port.postMessage({ id: message.id, ok: false, error: toRemote(error) } satisfies Reply),
    );
  };
  port.on("message", onMessage);
  return () => {
    port.off("message", onMessage);
    for (const listing of listings.values()) void listing.return?.();
    listings.clear();
  };
}

async function nextBatch(listings: Map<number, AsyncIterator<ObjectInfo>>, listing: number) {
  const iterator = listings.get(listing);
  if (!iterator) throw new Error(`no open listing ${listing}`);
  const batch: ObjectInfo[] = [];
  while (batch.length < LIST_BATCH) {
    const next = await iterator.next();
    if (next.done) {
      listings.delete(listing);
      return { batch, done: true };
    }
    batch.push(next.value);
  }
  return { batch, done: false };
}

function taggingOf(storage: Storage): ObjectTagging {
  if (!storage.tagging) throw new Error("the served storage has no object tags");
  return storage.tagging;
}

/** The bytes in a buffer of their own, which can be transferred without detaching anyone else's. */
function ownedCopy(body: Uint8Array): Uint8Array {
  const owned =
    body.buffer instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
  return owned ? body : body.slice();
}

function toRemote(error: unknown): RemoteError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const { key, reason } = error as { key?: unknown; reason?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(typeof key === "string" ? { key } : {}),
    ...(typeof reason === "string" ? { reason } : {}),
  };
}

/** The port's own error classes come back as themselves, so `instanceof` checks keep working. */
function fromRemote(error: RemoteError): Error {
  if (error.name === "PreconditionFailedError" && error.key !== undefined)
    return new PreconditionFailedError(error.key);
  if (error.name === "InvalidKeyError" && error.key !== undefined)
    return new InvalidKeyError(error.key, error.reason ?? "refused");
  const copy = new Error(error.message);
  copy.name = error.name;
  return copy;
}

export interface PortStorageOptions {
  /** The served storage has object tags (a worker cannot ask synchronously). @default false */
  readonly tagging?: boolean;
  /**
   * ETags of puts are the quoted MD5 of the bytes (true of S3 single-part uploads without
   * SSE-KMS, the fs adapter and the model), computed here only if read. @default false: the
   * served adapter's ETag, which makes lazy adapters (fs) hash every write.
   */
  readonly md5Etags?: boolean;
}

/** The worker's side: the Storage port over a MessagePort answered by `serveStorage`. */
export class PortStorage implements Storage {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  readonly tagging?: ObjectTagging;

  constructor(
    private readonly port: MessagePort,
    private readonly options: PortStorageOptions = {},
  ) {
    port.on("message", (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      // Idle, the port must not keep the worker alive: it could not exit when its work is done.
      if (this.pending.size === 0) port.unref();
      if (reply.ok) waiting.resolve(reply.value);
      else waiting.reject(fromRemote(reply.error));
    });
    port.unref();
    if (options.tagging) {
      this.tagging = {
        read: (key) => this.call<readonly ObjectTag[] | undefined>({ op: "tags-read", key }),
        write: (key, tags) => this.call<boolean>({ op: "tags-write", key, tags: [...tags] }),
      };
    }
  }

  private call<T>(request: Request, transfer: ArrayBuffer[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.size === 1) this.port.ref();
      this.port.postMessage({ ...request, id } satisfies Envelope, transfer);
    });
  }

  get(key: string): Promise<StoredObject | undefined> {
    return this.call({ op: "get", key });
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.call({ op: "head", key });
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<{ etag: string }> {
    const md5 = this.options.md5Etags === true;
    if (typeof body === "string") {
      const reply = await this.call<{ etag?: string }>({ op: "put", key, body, options, etag: !md5 });
      return md5 ? lazyMd5(body) : { etag: reply.etag ?? "" };
    }
    // A copy of the caller's bytes is sent (transferring would detach the caller's buffer, or
    // Node's pool under a small Buffer); the original stays the caller's.
    const copy = body.slice();
    const reply = await this.call<{ etag?: string }>({ op: "put", key, body: copy, options, etag: !md5 }, [
      copy.buffer as ArrayBuffer,
    ]);
    return md5 ? lazyMd5(body) : { etag: reply.etag ?? "" };
  }

  async delete(key: string): Promise<void> {
    await this.call({ op: "delete", key });
  }

  async *list(prefix = ""): AsyncIterable<ObjectInfo> {
    const listing = this.nextId++;
    await this.call({ op: "list-open", prefix, listing });
    let done = false;
    try {
      while (!done) {
        const page = await this.call<{ batch: ObjectInfo[]; done: boolean }>({ op: "list-next", listing });
        done = page.done;
        yield* page.batch;
      }
    } finally {
      // A consumer that stops early (break, a throw) ends the serving side's listing too.
      if (!done) await this.call({ op: "list-close", listing });
    }
  }
}

function lazyMd5(body: Uint8Array | string): { etag: string } {
  let etag: string | undefined;
  return {
    get etag() {
      etag ??= `"${createHash("md5").update(body).digest("hex")}"`;
      return etag;
    },
  };
}
