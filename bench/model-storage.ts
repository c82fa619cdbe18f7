/**
 * A scale model of S3 in memory, for whole-site work at sizes moto cannot hold here (100,000
 * and 1,000,000 articles): the Storage port with S3's semantics (key order, pages of 1,000,
 * conditional writes, quoted-MD5 ETags), each request waited out by the latency model of
 * bench/model-latency.ts (figures and their sources: MODEL_SOURCES). The content store whose
 * articles are rendered on demand is GeneratedContent, in bench/model-content.ts.
 */
import { createHash } from "node:crypto";
import { PreconditionFailedError } from "../functions/storage/errors.ts";
import { checkKey } from "../functions/storage/keys.ts";
import type {
  ObjectInfo,
  ObjectTag,
  ObjectTagging,
  PutOptions,
  Storage,
  StoredObject,
} from "../functions/storage/port.ts";
import { type ModelOptions, type ModelStats, type RequestKind, RequestModel } from "./model-latency.ts";

export {
  type LatencyModel,
  MODEL_SOURCES,
  type ModelOptions,
  type ModelStats,
  type RequestKind,
  RequestModel,
  S3_LATENCY,
} from "./model-latency.ts";

const PAGE = 1000;
/** Bytes of one ListObjectsV2 entry besides its key (LastModified, ETag, Size, StorageClass). */
const LIST_ENTRY_BYTES = 200;
const KINDS: readonly RequestKind[] = ["GET", "HEAD", "PUT", "DELETE", "LIST"];

export const md5Etag = (bytes: Uint8Array): string => `"${createHash("md5").update(bytes).digest("hex")}"`;

/** Keys where JavaScript's UTF-16 order may differ from S3's: both must have one of these. */
const UTF16_ORDER_DIFFERS = /[\uD800-\uFFFF]/;
const utf16Order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** S3 lists keys in the order of their UTF-8 bytes, which is code point order. */
export function compareKeys(a: string, b: string): number {
  if (!UTF16_ORDER_DIFFERS.test(a) || !UTF16_ORDER_DIFFERS.test(b)) return utf16Order(a, b);
  const x = Array.from(a, (c) => c.codePointAt(0) as number);
  const y = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++)
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
}

/** Counters, waits and paging shared by the model's stores. Given a `model`, its own options are ignored. */
export abstract class MeteredStorage implements Storage {
  readonly model: RequestModel;
  protected readonly date: () => Date;
  private meter = emptyStats();

  constructor(options: ModelOptions & { readonly model?: RequestModel }) {
    this.model = options.model ?? new RequestModel(options);
    this.date = options.date ?? (() => new Date());
  }

  abstract get(key: string): Promise<StoredObject | undefined>;
  abstract head(key: string): Promise<ObjectInfo | undefined>;
  abstract put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<{ etag: string }>;
  abstract delete(key: string): Promise<void>;
  abstract list(prefix?: string): AsyncIterable<ObjectInfo>;

  counts(): Record<RequestKind, number> {
    return { ...this.meter.counts };
  }
  stats(): ModelStats {
    return { ...this.meter, counts: this.counts() };
  }
  reset(): void {
    this.meter = emptyStats();
  }

  /** Counts and waits out one request; an object-tagging one is timed and rate-limited as `kind`. */
  protected async request(
    kind: RequestKind,
    key: string,
    bytesIn: number,
    bytesOut: number,
    tagging = false,
  ) {
    if (tagging) this.meter.tagging++;
    else this.meter.counts[kind]++;
    this.meter.bytesIn += bytesIn;
    this.meter.bytesOut += bytesOut;
    const times = await this.model.run(kind, key, bytesIn + bytesOut);
    this.meter.requestMs += times.serviceMs + times.throttleMs;
    this.meter.throttledMs += times.throttleMs;
  }

  /**
   * A listing, one LIST request per page: `page` makes each page when it is asked for (after the
   * previous page's last key), the request is waited out, then its keys are yielded.
   */
  protected async *paged(
    prefix: string,
    page: (after: string | undefined) => Page,
  ): AsyncIterable<ObjectInfo> {
    let after: string | undefined;
    for (;;) {
      const { items, truncated } = page(after);
      let bytes = 0;
      for (const item of items) bytes += LIST_ENTRY_BYTES + item.key.length;
      await this.request("LIST", prefix, 0, bytes);
      yield* items;
      const last = items[items.length - 1];
      if (!truncated || !last) return;
      after = last.key;
    }
  }

  /** Checks a conditional write against the object as it is when the write lands. */
  protected precondition(key: string, current: { etag: string } | undefined, options: PutOptions): void {
    if (options.ifNoneMatch === "*" && current) throw new PreconditionFailedError(key);
    if (options.ifMatch !== undefined && current?.etag !== options.ifMatch)
      throw new PreconditionFailedError(key);
  }
}

/** One ListObjectsV2 answer: up to 1,000 entries, and whether more follow. */
export interface Page {
  readonly items: ObjectInfo[];
  readonly truncated: boolean;
}

/** Pages cut from entries in key order, for a store that makes its listing in one pass. */
export function pagesOf(entries: Iterator<ObjectInfo>): (after: string | undefined) => Page {
  let next = entries.next();
  return () => {
    const items: ObjectInfo[] = [];
    while (!next.done && items.length < PAGE) {
      items.push(next.value);
      next = entries.next();
    }
    return { items, truncated: !next.done };
  };
}

function emptyStats() {
  const counts = Object.fromEntries(KINDS.map((kind) => [kind, 0])) as Record<RequestKind, number>;
  return { counts, tagging: 0, bytesIn: 0, bytesOut: 0, requestMs: 0, throttledMs: 0 };
}

interface Entry {
  readonly key: string;
  body: Uint8Array;
  etag: string;
  /** Epoch ms: a million Date objects would be a million more things for the collector to trace. */
  modified: number;
  contentType?: string;
  tags: readonly ObjectTag[];
  /** Deleted, and still in the sorted index until its next compaction. */
  dead?: boolean;
}

const toBytes = (body: Uint8Array | string) =>
  typeof body === "string" ? Buffer.from(body, "utf8") : body.slice();
const infoOf = (key: string, entry: Entry): ObjectInfo => ({
  key,
  etag: entry.etag,
  lastModified: new Date(entry.modified),
  size: entry.body.byteLength,
});
const storedOf = (key: string, entry: Entry): StoredObject => ({
  ...infoOf(key, entry),
  // Fresh bytes on every GET, as from S3: a caller may keep or transfer them.
  body: entry.body.slice(),
  ...(entry.contentType ? { contentType: entry.contentType } : {}),
});

/** A bucket in memory. Reads see an object as it is when they arrive; writes land when they complete. */
export class ModelStorage extends MeteredStorage {
  private readonly objects = new Map<string, Entry>();
  /**
   * The map's entries in key order (an entry is updated in place, so this stays current); new
   * keys wait in `added` until a listing merges them.
   */
  private sorted: Entry[] = [];
  private added: string[] = [];
  private deadCount = 0;
  /** Native string order until a key needs code point order; then every index operation pays for it. */
  private order = utf16Order;

  constructor(options: ModelOptions & { readonly model?: RequestModel } = {}) {
    super(options);
  }

  private live(key: string): Entry | undefined {
    const entry = this.objects.get(checkKey(key));
    return entry?.dead ? undefined : entry;
  }

  readonly tagging: ObjectTagging = {
    read: async (key) => {
      const entry = this.live(key);
      await this.request("GET", key, 0, 0, true);
      return entry ? [...entry.tags] : undefined;
    },
    write: async (key, tags) => {
      await this.request("PUT", key, 0, 0, true);
      const entry = this.live(key);
      if (entry) entry.tags = [...tags];
      return entry !== undefined;
    },
  };

  async get(key: string): Promise<StoredObject | undefined> {
    const entry = this.live(key);
    await this.request("GET", key, 0, entry?.body.byteLength ?? 0);
    return entry && storedOf(key, entry);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const entry = this.live(key);
    await this.request("HEAD", key, 0, 0);
    return entry && infoOf(key, entry);
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<{ etag: string }> {
    checkKey(key);
    const bytes = toBytes(body);
    const etag = md5Etag(bytes);
    await this.request("PUT", key, bytes.byteLength, 0);
    const previous = this.objects.get(key);
    this.precondition(key, previous?.dead ? undefined : previous, options);
    const entry: Entry = previous ?? { key, body: bytes, etag, modified: 0, tags: [] };
    if (!previous) {
      this.objects.set(key, entry);
      this.index(key);
    } else if (previous.dead) this.deadCount--;
    entry.body = bytes;
    entry.etag = etag;
    entry.modified = this.date().getTime();
    entry.contentType = options.contentType;
    entry.tags = [];
    entry.dead = false;
    return { etag };
  }

  /** A new key waits for the next listing to merge it into the index. */
  private index(key: string): void {
    this.added.push(key);
    if (this.order !== utf16Order || !UTF16_ORDER_DIFFERS.test(key)) return;
    this.order = compareKeys;
    this.added = this.added.concat(this.sorted.map((entry) => entry.key));
    this.sorted = [];
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.request("DELETE", key, 0, 0);
    const entry = this.objects.get(key);
    if (!entry || entry.dead) return;
    entry.dead = true;
    this.deadCount++;
  }

  async *list(prefix = ""): AsyncIterable<ObjectInfo> {
    yield* this.paged(prefix, (after) => this.page(prefix, after));
  }

  /** Live entries under `prefix` after `after`, as they are now (S3's start-after). */
  private page(prefix: string, after: string | undefined): Page {
    this.compact();
    const entries = this.sorted;
    let index = lowerBound(entries, after ?? prefix, this.order);
    if (after !== undefined && entries[index]?.key === after) index++;
    const items: ObjectInfo[] = [];
    for (; index < entries.length; index++) {
      const entry = entries[index] as Entry;
      if (!entry.key.startsWith(prefix)) break;
      if (entry.dead) continue;
      if (items.length === PAGE) return { items, truncated: true };
      items.push(infoOf(entry.key, entry));
    }
    return { items, truncated: false };
  }

  /** Merges new keys into the index and drops deleted ones: O(n + k log k), only after writes. */
  private compact(): void {
    if (this.added.length === 0 && this.deadCount * 2 <= this.sorted.length) return;
    const order = this.order;
    const keys = this.added.filter((key) => !this.objects.get(key)?.dead);
    // Without a comparator, sort compares natively in UTF-16 order: seconds faster at a million keys.
    if (order === utf16Order) keys.sort();
    else keys.sort(order);
    const added = keys.map((key) => this.objects.get(key) as Entry);
    const merged: Entry[] = [];
    let a = 0;
    for (const entry of this.sorted) {
      while (a < added.length && order((added[a] as Entry).key, entry.key) < 0)
        merged.push(added[a++] as Entry);
      if (entry.dead) this.objects.delete(entry.key);
      else merged.push(entry);
    }
    while (a < added.length) merged.push(added[a++] as Entry);
    for (const key of this.added) if (this.objects.get(key)?.dead) this.objects.delete(key);
    this.sorted = merged;
    this.added = [];
    this.deadCount = 0;
  }
}

function lowerBound(entries: readonly Entry[], key: string, order: (a: string, b: string) => number): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (order((entries[mid] as Entry).key, key) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}
