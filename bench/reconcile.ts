/**
 * A reconcile with nothing changed, at 10,000 articles, against moto_server: what the scheduled
 * reconciliation costs when no event was missed. A bucket is seeded as bench/run.ts seeds it, one
 * full build writes the feeds and the state (its figures are kept too), then `publishAll` runs again
 * on the unchanged bucket, a few times, each with fresh counting wrappers and a fresh S3 client.
 *
 *   npx tsx bench/reconcile.ts [--repo DIR] [--module RELPATH] [--articles 10000] [--runs 3]
 *        [--out bench/.work/reconcile.json] [--force]
 *
 * --repo is the checkout whose code is measured (this one by default), so an older commit in a
 * git worktree can be measured with the same script; publishAll is imported from --module inside
 * it (default functions/engine/publish.ts, or functions/app/ in older checkouts), and so are the S3 adapter (--storage-module) and the
 * config parser (--config-module). moto, the counting wrapper and the seed body are this
 * checkout's. --force is passed on to publishAll only when given.
 *
 * Requests are counted per kind (GET, HEAD, PUT, DELETE, LIST) for content and output apart.
 * CountingStorage counts one LIST per list() call, whatever the pages; the objects each list()
 * yields are counted too, and S3's pages estimated from them (1,000 keys a page, at least one).
 *
 * Also `reconcileSection` (section 7 of BENCHMARKS.md, beside bench/reconcile-before.json).
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { S3Client } from "@aws-sdk/client-s3";
import type { ObjectInfo, PutOptions, Storage, StoredObject } from "../functions/storage/port.ts";
import { CountingStorage } from "../test/app/counting-storage.ts";
import { createBucket, s3Client, startMoto } from "../test/support/moto.ts";
import { aliasXmlWriter, commitOf } from "./measured-repo.ts";
import { seedBucket } from "./seed-bucket.ts";

const BENCH_REPO = fileURLToPath(new URL("..", import.meta.url));
const BEFORE = fileURLToPath(new URL("./reconcile-before.json", import.meta.url));
const DEFAULT_OUT = join(BENCH_REPO, "bench/.work/reconcile.json");
/** The engine's entry: functions/engine/ since session 6, functions/app/ before. */
function defaultModule(repo: string): string {
  return existsSync(join(repo, "functions/engine/publish.ts"))
    ? "functions/engine/publish.ts"
    : "functions/app/publish.ts";
}
const DEFAULT_STORAGE_MODULE = "functions/storage/s3-storage.ts";
const DEFAULT_CONFIG_MODULE = "functions/core/config.ts";
const BUCKET = "bench-reconcile";
/** Objects in one ListObjectsV2 page (S3's and moto's default MaxKeys). */
const LIST_PAGE = 1000;
const KINDS = ["GET", "HEAD", "PUT", "DELETE", "LIST"] as const;
type Kind = (typeof KINDS)[number];
export type Requests = Record<Kind, number>;

/** Loosely typed, so that a refactored signature (e.g. with `force`) still type-checks here. */
interface PublishModule {
  publishAll(options: {
    content: Storage;
    output: Storage;
    config: unknown;
    now: Date;
    force?: boolean;
  }): Promise<unknown>;
  CONTENT_PREFIX?: string;
}
interface StorageModule {
  S3Storage: new (client: S3Client, bucket: string, prefix?: string) => Storage;
}
interface ConfigModule {
  parseConfig(raw: unknown): unknown;
}

export interface Listed {
  /** list() calls (what CountingStorage counts as LIST). */
  readonly calls: number;
  /** Objects the calls yielded. */
  readonly keys: number;
  /** ListObjectsV2 pages that took: ceil(keys / 1000) per call, at least one. */
  readonly pages: number;
}

export interface Measured {
  readonly ms: number;
  readonly cpuMs: number;
  readonly content: Requests;
  readonly output: Requests;
  readonly listed: { readonly content: Listed; readonly output: Listed };
  /** What publishAll reported, in short (written and unchanged are counts of keys). */
  readonly report: Record<string, unknown>;
}

export interface ReconcileRun {
  readonly repo: string;
  readonly commit: string;
  readonly module: string;
  readonly force: boolean;
  readonly node: string;
  readonly date: string;
  readonly articles: number;
  readonly seedMs: number;
  readonly initial: Measured;
  readonly reconcile: readonly Measured[];
  readonly median: Omit<Measured, "report">;
}

export interface ReconcileOptions {
  readonly repo?: string;
  readonly module?: string;
  readonly storageModule?: string;
  readonly configModule?: string;
  readonly articles?: number;
  readonly runs?: number;
  readonly force?: boolean;
  /** Where the run's JSON goes (default bench/.work/reconcile.json); false: nowhere. */
  readonly out?: string | false;
  readonly log?: (line: string) => void;
}

/** CountingStorage, plus how many objects each list() call yielded. */
class ListCounting implements Storage {
  readonly counting: CountingStorage;
  readonly yielded: number[] = [];
  constructor(inner: Storage) {
    this.counting = new CountingStorage(inner);
  }
  get(key: string): Promise<StoredObject | undefined> {
    return this.counting.get(key);
  }
  head(key: string): Promise<ObjectInfo | undefined> {
    return this.counting.head(key);
  }
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<{ etag: string }> {
    return this.counting.put(key, body, options);
  }
  delete(key: string): Promise<void> {
    return this.counting.delete(key);
  }
  async *list(prefix?: string): AsyncIterable<ObjectInfo> {
    const call = this.yielded.push(0) - 1;
    for await (const info of this.counting.list(prefix)) {
      this.yielded[call] = (this.yielded[call] ?? 0) + 1;
      yield info;
    }
  }
  requests(): Requests {
    const counts: Requests = { GET: 0, HEAD: 0, PUT: 0, DELETE: 0, LIST: 0 };
    for (const call of this.counting.calls) {
      const kind = call.slice(0, call.indexOf(" ")) as Kind;
      if (!(kind in counts)) throw new Error(`unknown request in CountingStorage: ${call}`);
      counts[kind]++;
    }
    return counts;
  }
  listed(): Listed {
    return {
      calls: this.yielded.length,
      keys: this.yielded.reduce((sum, count) => sum + count, 0),
      pages: this.yielded.reduce((sum, count) => sum + Math.max(1, Math.ceil(count / LIST_PAGE)), 0),
    };
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const round1 = (value: number) => Math.round(value * 10) / 10;

/** A short, JSON-safe account of publishAll's report (counts, not 10,000 keys). */
function summary(report: unknown): Record<string, unknown> {
  if (typeof report !== "object" || report === null) return {};
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(report)) {
    if (Array.isArray(value)) out[name] = value.length;
    else if (value instanceof Date) out[name] = value.toISOString();
    else if (typeof value !== "object" || value === null) out[name] = value;
  }
  return out;
}

/** Runs the bench: moto on a free port, a seeded bucket, one build, then the no-change reconciles. */
export async function runReconcile(options: ReconcileOptions = {}): Promise<ReconcileRun> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const repo = resolve(options.repo ?? BENCH_REPO);
  const module = options.module ?? defaultModule(repo);
  const articles = options.articles ?? 10_000;
  const runs = options.runs ?? 3;
  const force = options.force ?? false;
  aliasXmlWriter(repo);
  const [publish, storage, configModule] = await Promise.all([
    import(join(repo, module)) as Promise<PublishModule>,
    import(join(repo, options.storageModule ?? DEFAULT_STORAGE_MODULE)) as Promise<StorageModule>,
    import(join(repo, options.configModule ?? DEFAULT_CONFIG_MODULE)) as Promise<ConfigModule>,
  ]);
  const prefix = publish.CONTENT_PREFIX ?? "content/";
  const config = configModule.parseConfig({
    title: "Bench",
    url: "https://bench.example/",
    feedsUrl: "https://cdn.example/feeds/",
  });
  const commit = commitOf(repo);
  // One clock for every run, so that a later run sees exactly what the build saw.
  const now = new Date();

  const moto = await startMoto();
  // Ctrl-C or a kill of this process: stop moto by its PID before going.
  const onSignal = (signal: NodeJS.Signals) => {
    try {
      process.kill(moto.pid, "SIGKILL");
    } catch {}
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    log(
      `reconcile bench: ${articles} articles, code of ${repo} (${commit}), ${module}; moto pid ${moto.pid}`,
    );
    const s3 = s3Client(moto.endpoint);
    await createBucket(s3, BUCKET);
    let started = performance.now();
    await seedBucket(s3, BUCKET, prefix, articles);
    const seedMs = Math.round(performance.now() - started);
    log(`  seeded in ${seedMs} ms`);

    const measure = async (): Promise<Measured> => {
      const client = s3Client(moto.endpoint);
      const content = new ListCounting(new storage.S3Storage(client, BUCKET, prefix));
      const output = new ListCounting(new storage.S3Storage(client, BUCKET));
      const cpu = process.cpuUsage();
      started = performance.now();
      const report = await publish.publishAll({ content, output, config, now, ...(force ? { force } : {}) });
      const ms = performance.now() - started;
      const used = process.cpuUsage(cpu);
      client.destroy();
      return {
        ms: Math.round(ms),
        cpuMs: Math.round((used.user + used.system) / 1000),
        content: content.requests(),
        output: output.requests(),
        listed: { content: content.listed(), output: output.listed() },
        report: summary(report),
      };
    };
    const line = (what: string, run: Measured) => {
      const total = (requests: Requests) => KINDS.map((kind) => `${kind} ${requests[kind]}`).join(", ");
      log(`  ${what}: ${run.ms} ms wall, ${run.cpuMs} ms CPU`);
      log(`    content: ${total(run.content)}; listed ${run.listed.content.keys} keys`);
      log(`    output:  ${total(run.output)}; listed ${run.listed.output.keys} keys`);
    };

    const initial = await measure();
    line("initial build", initial);
    const reconcile: Measured[] = [];
    for (let run = 0; run < runs; run++) {
      reconcile.push(await measure());
      line(`no-change reconcile ${run + 1}/${runs}`, reconcile[run] as Measured);
    }
    const mid = (pick: (run: Measured) => number) => round1(median(reconcile.map(pick)));
    const requests = (side: "content" | "output") =>
      Object.fromEntries(KINDS.map((kind) => [kind, mid((run) => run[side][kind])])) as Requests;
    const listed = (side: "content" | "output"): Listed => ({
      calls: mid((run) => run.listed[side].calls),
      keys: mid((run) => run.listed[side].keys),
      pages: mid((run) => run.listed[side].pages),
    });
    const result: ReconcileRun = {
      repo,
      commit,
      module,
      force,
      node: process.version,
      date: new Date().toISOString(),
      articles,
      seedMs,
      initial,
      reconcile,
      median: {
        ms: mid((run) => run.ms),
        cpuMs: mid((run) => run.cpuMs),
        content: requests("content"),
        output: requests("output"),
        listed: { content: listed("content"), output: listed("output") },
      },
    };
    if (options.out !== false) {
      const out = resolve(options.out ?? DEFAULT_OUT);
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
      log(`  wrote ${out}`);
    }
    return result;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await moto.stop();
  }
}

const total = (requests: Requests) => KINDS.reduce((sum, kind) => sum + requests[kind], 0);
const count = (value: number) => value.toLocaleString("en-US");
const msText = (value: number) => `${count(Math.round(value))} ms`;

/** The table of section 7: one row per figure, before and now side by side. */
export function renderReconcile(now: ReconcileRun, before?: ReconcileRun): string[] {
  const rows: [string, (run: ReconcileRun) => string][] = [];
  for (const side of ["content", "output"] as const) {
    for (const kind of KINDS) rows.push([`${side} ${kind}`, (run) => count(run.median[side][kind])]);
    rows.push([
      `${side} LIST pages (keys listed)`,
      (run) => `${count(run.median.listed[side].pages)} (${count(run.median.listed[side].keys)})`,
    ]);
  }
  rows.push(["S3 requests (LIST as pages)", (run) => count(requestsWithPages(run))]);
  rows.push(["wall time", (run) => msText(run.median.ms)]);
  rows.push(["CPU time (this process)", (run) => msText(run.median.cpuMs)]);
  rows.push(["initial build: wall time", (run) => msText(run.initial.ms)]);
  rows.push([
    "initial build: S3 requests (LIST as pages)",
    (run) => count(requestsWithPages({ ...run, median: run.initial })),
  ]);
  const lines = [
    `| median of ${now.reconcile.length} runs | before${before ? ` (${before.commit})` : ""} | now (${now.commit}) |`,
    "| --- | ---: | ---: |",
  ];
  for (const [label, value] of rows)
    lines.push(`| ${label} | ${before ? value(before) : "—"} | ${value(now)} |`);
  return lines;
}

function requestsWithPages(run: Pick<ReconcileRun, "median">): number {
  const { content, output, listed } = run.median;
  return (
    total(content) - content.LIST + listed.content.pages + total(output) - output.LIST + listed.output.pages
  );
}

/**
 * Section 7 of `npm run bench`: this checkout's code (or `options.repo`), beside the figures
 * recorded in bench/reconcile-before.json when that file exists.
 */
export async function reconcileSection(lines: string[], options: ReconcileOptions = {}): Promise<void> {
  const run = await runReconcile(options);
  const before = await readFile(BEFORE, "utf8").then(
    (text) => JSON.parse(text) as ReconcileRun,
    () => undefined,
  );
  lines.push(
    `## 7. A reconcile with nothing changed, at ${count(run.articles)} articles (moto)`,
    "",
    "The scheduled reconciliation when no event was missed: `publishAll` on a bucket it has just",
    `built, in process against moto_server (bench/reconcile.ts). ${count(run.articles)} seed-shaped articles`,
    `are seeded as in section 2, one full build writes the feeds and the state, then ${run.reconcile.length} more`,
    "`publishAll` runs on the unchanged bucket, each with a fresh S3 client; the medians are shown.",
    "Requests are counted per kind for content and output apart; a list() is one LIST, and the",
    "pages it took are estimated from the keys it yielded (1,000 a page). CPU time is this",
    "process's (user and system), not moto's.",
    "",
    ...(before ? [] : ["No bench/reconcile-before.json was found, so there is no before column.", ""]),
    ...renderReconcile(run, before),
    "",
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repo: { type: "string", default: BENCH_REPO },
      module: { type: "string" },
      "storage-module": { type: "string", default: DEFAULT_STORAGE_MODULE },
      "config-module": { type: "string", default: DEFAULT_CONFIG_MODULE },
      articles: { type: "string", default: "10000" },
      runs: { type: "string", default: "3" },
      out: { type: "string", default: DEFAULT_OUT },
      force: { type: "boolean", default: false },
    },
  });
  const articles = Number(values.articles);
  const runs = Number(values.runs);
  if (!Number.isSafeInteger(articles) || articles < 1) throw new Error(`--articles: ${values.articles}`);
  if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`--runs: ${values.runs}`);
  const run = await runReconcile({
    repo: values.repo,
    ...(values.module ? { module: values.module } : {}),
    storageModule: values["storage-module"],
    configModule: values["config-module"],
    articles,
    runs,
    force: values.force,
    out: values.out,
  });
  process.stdout.write(`${JSON.stringify({ initial: run.initial, median: run.median }, null, 2)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
