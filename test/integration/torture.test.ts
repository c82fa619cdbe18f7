/**
 * Concurrency torture: 1,000+ real S3 event notifications (creates, edits and deletes of articles
 * under content/), delivered shuffled, with ~20% duplicates, through 3 concurrent invocations of
 * the regenerate handler, while the next round of edits is already changing the bucket under them.
 * Afterwards the index and the feeds must be exactly what a full rebuild of the final bucket
 * produces.
 *
 * Events are moto's own S3 → SQS notifications (createNotifiedBucket + drainQueue), not records
 * built by the test: draining ~175 messages per round costs about a second, well within budget.
 *
 * Reproduce a failure with TORTURE_SEED=<seed printed by the run>. The PRNG decides every
 * mutation, every shuffle, every duplicate and every batch split; only which worker takes which
 * batch (and the product's retry back-off) depends on timing.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { CONTENT_PREFIX, INDEX_KEY, publishAll } from "../../functions/engine/publish.ts";
import { S3Storage } from "../../functions/storage/s3-storage.ts";
import { type HandlerHarness, startHandlerHarness } from "../support/handler-harness.ts";
import { mulberry32 } from "../support/random.ts";
import { drainQueue, isS3TestEvent, s3RecordsOf, sqsEvent } from "../support/s3-events.ts";
import { catalogPaths } from "../support/state.ts";

const BUCKET = "torture-site";
const ITEM_LIMIT = 20;
const SITE = { title: "Torture", url: "https://torture.example/", itemLimit: ITEM_LIMIT };
const config = parseConfig(SITE);

const KEYS = 200;
/** Keys whose articles carry no date: they are dated when first seen, so they are the newest. */
const UNDATED = 15;
const ROUNDS = 6;
const MUTATIONS_PER_ROUND = 175;
/**
 * Concurrent handlers: more than the stack allows (its event source runs at most 2). Each event
 * here moves an article to a random month of five years, so it rewrites two archive pages (about
 * 10 requests more than an upload of the day), and an attempt that loses the index race writes
 * all that again; the single moto process, not the product, is the limit. With 8 handlers that
 * took over 200 s; with 4, 124 s on a quiet 2-core machine but 275 s with both cores kept busy
 * (once over 300 s), each regeneration losing the race about twice. With 3 the same seed loses it
 * 0.9 times per regeneration and takes 218 s under that load (337 s with more work on the machine
 * besides): still three handlers racing for one index.
 */
const WORKERS = 3;
const DUPLICATE_RATE = 0.2;
const MUTATION_CONCURRENCY = 8;

const SEED = process.env.TORTURE_SEED ? Number(process.env.TORTURE_SEED) >>> 0 : (Date.now() ^ 0x5eed) >>> 0;

const random = mulberry32(SEED);
const below = (n: number) => Math.floor(random() * n);
function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = below(i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** Article paths (relative to content/): plain, with spaces, with '+', non-ASCII. */
const paths: string[] = Array.from({ length: KEYS }, (_, i) => {
  switch (i % 5) {
    case 0:
      return `posts/post-${i}.md`;
    case 1:
      return `notes/with space ${i}.md`;
    case 2:
      return `notes/c++ plus+${i}.md`;
    case 3:
      return `ünïcode/café ${i} 日本.md`;
    default:
      return `deep/a b/x+y ${i}.md`;
  }
});
const undated = (i: number) => i < UNDATED;

interface State {
  readonly title: string;
  /** Epoch ms, whole seconds; absent for undated articles. */
  readonly date?: number;
}
/** What the bucket should hold under content/ once every mutation so far has been made. */
const model = new Map<string, State>();
type Mutation = { path: string; state?: State };

const DATE_FROM = Date.UTC(2020, 0, 1);
const DATE_SPAN = Date.UTC(2025, 0, 1) - DATE_FROM;
let version = 0;

/** One round: distinct keys, each created, edited (new title and date) or deleted. */
function planRound(): Mutation[] {
  const chosen = shuffle([...paths.keys()]).slice(0, MUTATIONS_PER_ROUND);
  return chosen.map((i) => {
    const path = paths[i] as string;
    if (model.has(path) && random() < 0.3) {
      model.delete(path);
      return { path };
    }
    const title = `${i % 5 === 3 ? "Café" : "Article"} ${i} v${++version}`;
    const state: State = undated(i)
      ? { title }
      : { title, date: DATE_FROM + Math.floor((random() * DATE_SPAN) / 1000) * 1000 };
    model.set(path, state);
    return { path, state };
  });
}

const body = (state: State) =>
  `---\ntitle: ${JSON.stringify(state.title)}\n${
    state.date === undefined ? "" : `date: ${new Date(state.date).toISOString().replace(".000", "")}\n`
  }---\nAbout ${state.title}.\n`;

let harness: HandlerHarness;
let s3: S3Client;
let sqs: SQSClient;
let queueUrl: string;
let handler: HandlerHarness["handler"];

beforeAll(async () => {
  harness = await startHandlerHarness(BUCKET, SITE);
  ({ s3, sqs, queueUrl, handler } = harness);
}, 60_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await harness?.stop();
});

async function mutate(mutations: Mutation[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < mutations.length) {
      const { path, state } = mutations[next++] as Mutation;
      const Key = CONTENT_PREFIX + path;
      if (state) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: body(state) }));
      else await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key }));
    }
  };
  await Promise.all(Array.from({ length: MUTATION_CONCURRENCY }, worker));
}

/** Shuffled, with ~20% redelivered (same messageId, as SQS redelivers), split into batches of 1–10. */
function batchesOf(records: SQSRecord[]): { batches: SQSRecord[][]; duplicates: number } {
  const deliveries: SQSRecord[] = [];
  let duplicates = 0;
  for (const record of records) {
    deliveries.push(record);
    if (random() < DUPLICATE_RATE) {
      duplicates++;
      deliveries.push({ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: "2" } });
    }
  }
  shuffle(deliveries);
  const batches: SQSRecord[][] = [];
  for (let at = 0; at < deliveries.length; ) {
    const size = 1 + below(10);
    batches.push(deliveries.slice(at, at + size));
    at += size;
  }
  return { batches, duplicates };
}

/** WORKERS workers, each invoking the handler on the next batch, as concurrent Lambda containers. */
async function deliver(batches: SQSRecord[][]): Promise<SQSBatchResponse["batchItemFailures"]> {
  const failures: SQSBatchResponse["batchItemFailures"] = [];
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++] as SQSRecord[];
      failures.push(...(await handler(sqsEvent(batch))).batchItemFailures);
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return failures;
}

const text = async (key: string) =>
  (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body?.transformToString("utf8");

async function listContent(): Promise<string[]> {
  const keys: string[] = [];
  const content = new S3Storage(s3, BUCKET, CONTENT_PREFIX);
  for await (const info of content.list()) keys.push(info.key);
  return keys.sort();
}

describe("concurrency torture: shuffled, duplicated S3 events through concurrent handlers", () => {
  it("converges on exactly what a full rebuild of the final bucket produces", async () => {
    const started = Date.now();
    console.log(`torture seed ${SEED} (rerun with TORTURE_SEED=${SEED})`);
    // The handler logs a line per batch; keep warnings and errors (they explain a failure), and
    // how often each regeneration lost the index race (reported below).
    const lostRaces: number[] = [];
    vi.spyOn(console, "info").mockImplementation((line: string) => {
      if (line.includes(`"message":"regenerated"`)) lostRaces.push(JSON.parse(line).retries as number);
    });
    const warnings: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => void warnings.push(line));
    vi.spyOn(console, "error").mockImplementation((line: string) => void warnings.push(line));

    let events = 0;
    let deliveries = 0;
    let duplicates = 0;
    let invocations = 0;
    const failures: SQSBatchResponse["batchItemFailures"] = [];
    let inFlight: Promise<void> = Promise.resolve();
    for (let round = 0; round < ROUNDS; round++) {
      const mutations = planRound();
      // Round N's edits hit the bucket while round N-1's events are still being handled.
      await Promise.all([mutate(mutations), inFlight]);
      const records = (await drainQueue(sqs, queueUrl, { waitMs: 1000 })).filter((r) => !isS3TestEvent(r));
      const drained = records.flatMap(s3RecordsOf);
      expect(drained.length, `round ${round}: one notification per mutation`).toBe(mutations.length);
      events += drained.length;
      const planned = batchesOf(records);
      duplicates += planned.duplicates;
      deliveries += records.length + planned.duplicates;
      invocations += planned.batches.length;
      inFlight = deliver(planned.batches).then((failed) => void failures.push(...failed));
    }
    await inFlight;
    const deliveredMs = Date.now() - started;

    expect(failures).toEqual([]);
    expect(warnings.filter((line) => line.includes(`"message":"regeneration failed"`))).toEqual([]);
    expect(events).toBeGreaterThanOrEqual(1000);

    // The bucket holds what the test meant it to hold.
    const finalKeys = await listContent();
    expect(finalKeys).toEqual([...model.keys()].sort());

    // The index lists exactly the final content keys.
    expect(await catalogPaths(new S3Storage(s3, BUCKET))).toEqual(finalKeys);

    // The feed holds the newest ITEM_LIMIT final articles, computed here from the model: undated
    // articles are dated when first seen (now), so they come first, in an order this test cannot
    // know; then the dated ones, newest first, ties by path.
    const live = [...model.entries()];
    const undatedTitles = live.filter(([, s]) => s.date === undefined).map(([, s]) => s.title);
    const dated = live
      .filter(([, s]) => s.date !== undefined)
      .sort(([pa, a], [pb, b]) => (b.date as number) - (a.date as number) || (pa < pb ? -1 : pa > pb ? 1 : 0))
      .map(([, s]) => s.title);
    expect(undatedTitles.length).toBeLessThan(ITEM_LIMIT);
    const feed = JSON.parse((await text("feeds/feed.json")) ?? "{}") as { items: { title: string }[] };
    const titles = feed.items.map((item) => item.title);
    expect(titles).toHaveLength(Math.min(ITEM_LIMIT, live.length));
    // Undated first (as a set, so sorted), then dated in order.
    expect([...titles.slice(0, undatedTitles.length).sort(), ...titles.slice(undatedTitles.length)]).toEqual([
      ...[...undatedTitles].sort(),
      ...dated.slice(0, ITEM_LIMIT - undatedTitles.length),
    ]);

    // A full rebuild of the final bucket finds nothing to correct: every feed's bytes and every
    // catalog entry are what the incremental path left. (It may pick a fresh set of planning
    // candidates, which is why the index itself can be rewritten.)
    const shardsBefore = (JSON.parse((await text(INDEX_KEY)) ?? "{}") as { shards: string[] }).shards;
    const feedsBefore = await Promise.all(
      ["rss.xml", "atom.xml", "feed.json"].map((f) => text(`feeds/${f}`)),
    );
    const rebuild = await publishAll({
      content: new S3Storage(s3, BUCKET, CONTENT_PREFIX),
      output: new S3Storage(s3, BUCKET),
      config,
    });
    expect(rebuild.written.filter((key) => key !== INDEX_KEY)).toEqual([]);
    expect((JSON.parse((await text(INDEX_KEY)) ?? "{}") as { shards: string[] }).shards).toEqual(
      shardsBefore,
    );
    expect(rebuild.problems).toEqual([]);
    const feedsAfter = await Promise.all(["rss.xml", "atom.xml", "feed.json"].map((f) => text(`feeds/${f}`)));
    expect(feedsAfter).toEqual(feedsBefore);

    const retries = warnings.filter((line) => line.includes("retrying message by message")).length;
    console.log(
      `torture seed ${SEED}: ${events} S3 events (${duplicates} duplicates, ${deliveries} deliveries) in ` +
        `${invocations} handler invocations over ${ROUNDS} rounds, ${WORKERS} workers; ` +
        `${finalKeys.length} final articles; batch fallbacks ${retries}; index races lost ` +
        `${lostRaces.reduce((sum, n) => sum + n, 0)} in ${lostRaces.length} regenerations ` +
        `(at most ${Math.max(0, ...lostRaces)} by one); ` +
        `delivered in ${deliveredMs} ms, total ${Date.now() - started} ms`,
    );
    // The limit is about 4 times what the test takes with both cores kept busy (218 s): a
    // saturated machine makes it slow, not failed. Only a hang runs into it.
  }, 900_000);
});
