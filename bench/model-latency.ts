/**
 * The latency and rate model of the S3 scale model (bench/model-storage.ts): what each request
 * waits before it completes, from published AWS figures or stated assumptions (MODEL_SOURCES).
 */
export type RequestKind = "GET" | "HEAD" | "PUT" | "DELETE" | "LIST";

export interface LatencyModel {
  /** Modelled milliseconds until the first byte, per request (LIST: per page of up to 1,000 keys). */
  readonly firstByteMs: Readonly<Record<RequestKind, number>>;
  /** What one request moves once its first byte is out, in bytes per millisecond. */
  readonly bytesPerMs: number;
  /** PUT/COPY/POST/DELETE per second per partitioned prefix (tagging writes count here). */
  readonly writesPerSecond: number;
  /** GET/HEAD per second per partitioned prefix (LIST pages and tagging reads count here). */
  readonly readsPerSecond: number;
  /** The token bucket's size, in milliseconds of its rate: requests a partition admits at once. */
  readonly burstMs: number;
}

export const MODEL_SOURCES = `S3 model (bench/model-latency.ts, bench/model-storage.ts). Published by AWS:
- request rates: "at least 3,500 PUT/COPY/POST/DELETE or 5,500 GET/HEAD requests per second per partitioned prefix" (S3 User Guide, Optimizing Amazon S3 performance);
- throughput: "one concurrent request for each 85-90 MB/s of desired network throughput" (whitepaper Best Practices Design Patterns: Optimizing Amazon S3 Performance, Horizontal Scaling and Request Parallelization); modelled as 85 MB/s per request;
- latency: for small requests (< 512 KB), median latencies in the tens of milliseconds (same whitepaper, Timeouts and Retries for Latency-Sensitive Applications); the "roughly 100-200 milliseconds" of consistent small-object latency it quotes elsewhere (Using Caching for Frequently Accessed Content) is what latency-sensitive designs plan for, nearer the tail, and is not used as the mean.
Assumed here, not published, not measured (no AWS account on this machine):
- first byte per request kind, chosen within "tens of milliseconds" for S3 Standard from a Lambda in the bucket's region: GET 20 ms, HEAD 15 ms, PUT 35 ms (a write is acknowledged only once stored redundantly), DELETE 20 ms, LIST 60 ms per page of 1,000 keys (a page is ~200 KB of XML, its transfer is added);
- the token bucket's size: 100 ms of the rate (550 reads, 350 writes); a throttled request waits its turn, whereas S3 answers 503 SlowDown and the SDK backs off, so the model is optimistic under throttling;
- one partition for the whole bucket unless a partitioner is given: S3 splits a prefix only after sustained load, so a one-off build meets the partitions the bucket already has;
- every request takes exactly the mean (no variance, no tail), TLS set-up of new connections is not modelled; at most 50 requests in flight per model, the JS SDK's default maxSockets per client.
Not from BENCHMARKS.md: its moto figures are moto_server's and feedpub's CPU on this machine, not S3 latency.`;

/** The defaults, with MODEL_SOURCES saying where each figure comes from. */
export const S3_LATENCY: LatencyModel = {
  firstByteMs: { GET: 20, HEAD: 15, PUT: 35, DELETE: 20, LIST: 60 },
  bytesPerMs: 85_000,
  writesPerSecond: 3500,
  readsPerSecond: 5500,
  burstMs: 100,
};

export interface ModelOptions {
  readonly latency?: Partial<LatencyModel>;
  /** Real milliseconds per modelled millisecond: 1 is real time, 0.1 ten times faster, 0 no waits. */
  readonly scale?: number;
  /** Requests in flight at once (the SDK's connection pool). @default 50 */
  readonly connections?: number;
  /** The partitioned prefix a key's requests count against. @default one partition */
  readonly partition?: (key: string) => string;
  /** The real clock in milliseconds and a sleep on it: tests pass their own. */
  readonly clock?: { now(): number; sleep(ms: number): Promise<void> };
  /** Last-modified dates of writes. @default the wall clock */
  readonly date?: () => Date;
}

export interface ModelStats {
  readonly counts: Record<RequestKind, number>;
  /** Object-tagging requests (GetObjectTagging / PutObjectTagging), beside the five kinds. */
  readonly tagging: number;
  /** Bytes into the store (PUT bodies) and out of it (GET bodies, LIST pages). */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Modelled time summed over requests: first byte and transfer, and waits for the rate limit. */
  readonly requestMs: number;
  readonly throttledMs: number;
}

/** Timers grouped per millisecond of their due time: a million waits make few thousand timers. */
const wakeups = new Map<number, (() => void)[]>();
function sleepBatched(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  const due = Math.ceil(performance.now() + ms);
  return new Promise((wake) => {
    const waiting = wakeups.get(due);
    if (waiting) return void waiting.push(wake);
    wakeups.set(due, [wake]);
    const fire = () => {
      const woken = wakeups.get(due) ?? [];
      wakeups.delete(due);
      for (const each of woken) each();
    };
    setTimeout(fire, Math.max(0, due - performance.now()));
  });
}

/**
 * The latency and rate model, shareable by the stores of one bucket (content and output share
 * its partitions and, through one SDK client, its connections).
 */
export class RequestModel {
  readonly latency: LatencyModel;
  readonly scale: number;
  private readonly clock: { now(): number; sleep(ms: number): Promise<void> };
  private readonly partition: (key: string) => string;
  /** Per partition and class: the theoretical arrival time of the next request (GCRA, modelled ms). */
  private readonly due = new Map<string, number>();
  private inFlight = 0;
  private readonly queued: (() => void)[] = [];
  private readonly connections: number;

  constructor(options: ModelOptions = {}) {
    this.latency = { ...S3_LATENCY, ...options.latency };
    this.scale = options.scale ?? 1;
    this.clock = options.clock ?? { now: () => performance.now(), sleep: sleepBatched };
    this.partition = options.partition ?? (() => "");
    this.connections = options.connections ?? 50;
  }

  /** Modelled milliseconds of one request: its service time, and its wait for the rate limit at `now`. */
  admit(
    kind: RequestKind,
    key: string,
    bytes: number,
    now: number,
  ): { serviceMs: number; throttleMs: number } {
    const write = kind === "PUT" || kind === "DELETE";
    const perSecond = write ? this.latency.writesPerSecond : this.latency.readsPerSecond;
    const interval = 1000 / perSecond;
    const id = `${write ? "w" : "r"}:${this.partition(key)}`;
    // A token bucket as a virtual schedule (GCRA): O(1) per request, nothing ticking meanwhile.
    const due = Math.max(this.due.get(id) ?? now, now);
    const burst = Math.max(1, Math.floor((perSecond * this.latency.burstMs) / 1000));
    const admitted = Math.max(now, due - (burst - 1) * interval);
    this.due.set(id, due + interval);
    return { serviceMs: this.serviceMs(kind, bytes), throttleMs: admitted - now };
  }

  private serviceMs(kind: RequestKind, bytes: number): number {
    return this.latency.firstByteMs[kind] + bytes / this.latency.bytesPerMs;
  }

  /**
   * Waits out one request and returns its modelled times. At scale 0 no modelled time passes,
   * so nothing waits and the rate limit does not apply; the service time still counts.
   */
  async run(
    kind: RequestKind,
    key: string,
    bytes: number,
  ): Promise<{ serviceMs: number; throttleMs: number }> {
    if (this.scale === 0) return { serviceMs: this.serviceMs(kind, bytes), throttleMs: 0 };
    // A finished request hands its connection straight to the next in the queue.
    if (this.inFlight >= this.connections) await new Promise<void>((go) => this.queued.push(go));
    else this.inFlight++;
    try {
      const times = this.admit(kind, key, bytes, this.clock.now() / this.scale);
      await this.clock.sleep((times.serviceMs + times.throttleMs) * this.scale);
      return times;
    } finally {
      const next = this.queued.shift();
      if (next) next();
      else this.inFlight--;
    }
  }
}
