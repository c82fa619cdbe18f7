/**
 * A whole-site run driven stage by stage, as the state machine drives it, while uploads, edits
 * and deletes race it through applyChanges (the upload path with the state machine at hand):
 * before the listing, during the shuffle, between the maps, during the groups, during the
 * reduce and after it. Afterwards feeds/ must be, byte for byte, what a full rebuild of the
 * final content makes in a fresh bucket: whatever the run's listing missed, the notes brought in.
 *
 * Every clock is NOW: the first build, the run's manifest, every racing upload, the reduce's
 * re-application of the notes and the reference rebuild. Undated articles (plain text, Markdown
 * without a date) are dated when first seen, and the reference rebuild sees them all for the
 * first time; with one clock, "first seen" is NOW wherever an article was first seen, so the
 * comparison is about what the feeds hold, not about when. (test/app/whole-site.test.ts checks
 * that a run keeps first-seen dates of an earlier clock.)
 *
 * Reproduce a failure with the seed in the test's name: the PRNG decides the site, every change,
 * its phase and its body; only the interleaving within a phase depends on timing.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, it, vi } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { sourceKind } from "../../functions/core/parse.ts";
import { applyChanges } from "../../functions/engine/apply.ts";
import { forEachLimited } from "../../functions/engine/concurrency.ts";
import { publishAll } from "../../functions/engine/rebuild.ts";
import { loadIndex } from "../../functions/engine/store.ts";
import { CONTENT_PREFIX, type Stores } from "../../functions/engine/stores.ts";
import type * as Layout from "../../functions/engine/whole/layout.ts";
import { PENDING_PREFIX } from "../../functions/engine/whole/layout.ts";
import { startWholeSite, wholeSiteReason } from "../../functions/engine/whole/start.ts";
import type { Storage } from "../../functions/storage/port.ts";
import { S3Storage } from "../../functions/storage/s3-storage.ts";
import { mixedSite } from "../support/mixed-site.ts";
import { createBucket, type Moto, s3Client, startMoto } from "../support/moto.ts";
import { mulberry32 } from "../support/random.ts";
import { catalogPaths } from "../support/state.ts";
import {
  driveRun,
  etagTree,
  type RunPhase,
  recordingStarter,
  storedHead,
  treeDiff,
  writeFiles,
} from "../support/whole-site.ts";

/**
 * 300 articles are one group at the real GROUP_TARGET (4,000). A run of TWO_GROUPS shuffle groups
 * is sized as if a group took 100 articles (same rule: a power of two, at most the shards), so
 * two groups split the catalog's slots. Keyed by the run's shuffle groups, not a switch, because
 * the seeds run at once and each must get its own sizing.
 */
const TWO_GROUPS = vi.hoisted(() => 32);
vi.mock("../../functions/engine/whole/layout.ts", async (importOriginal) => {
  const layout = await importOriginal<typeof Layout>();
  return {
    ...layout,
    groupCountFor: (articles: number, shards: number, shuffleGroups: number, target?: number) => {
      if (shuffleGroups !== TWO_GROUPS) return layout.groupCountFor(articles, shards, shuffleGroups, target);
      let count = 1;
      while (count < shuffleGroups && count < shards && count * 100 < articles) count *= 2;
      return count;
    },
  };
});

const NOW = new Date("2026-05-20T06:00:00Z");
const DAY = 86_400_000;
const SITE = {
  title: "Race",
  url: "https://race.example/",
  itemLimit: 10,
  sectionFeeds: { depth: 2 },
  languageFeeds: true,
};
const before = parseConfig({ ...SITE, title: "Race, before" }, "test");
const config = parseConfig(SITE, "test");
const ARTICLES = 300;
const CHANGES = 40;
/** When a change is made: before the run lists, at each phase of driveRun, or after the reduce. */
const PHASES = ["claimed", "listed", "shuffle", "planned", "groups", "grouped", "reduce", "after"] as const;
type Phase = (typeof PHASES)[number];

let moto: Moto;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMoto();
  s3 = s3Client(moto.endpoint);
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});

function bucketStores(bucket: string): Stores {
  const client = s3Client(moto.endpoint);
  return { content: new S3Storage(client, bucket, CONTENT_PREFIX), output: new S3Storage(client, bucket) };
}

interface Change {
  readonly phase: Phase;
  readonly key: string;
  /** The new bytes; undefined deletes the file. */
  readonly body?: string;
}

/** Seeded changes: new files (some undated), edits (some that break or draft), deletes. */
function planChanges(next: () => number, keys: readonly string[]): Change[] {
  const live = [...keys];
  const changes: Change[] = [];
  const pick = () => live[Math.floor(next() * live.length)] as string;
  for (let n = 0; n < CHANGES; n++) {
    const phase = PHASES[Math.floor(next() * PHASES.length)] as Phase;
    const roll = next();
    if (roll < 0.3) {
      const key = next() < 0.25 ? `race/new-${n}.txt` : `race/deep/new-${n}.md`;
      live.push(key);
      changes.push({ phase, key, body: bodyFor(key, n, next) });
    } else if (roll < 0.55) {
      const key = pick();
      live.splice(live.indexOf(key), 1);
      changes.push({ phase, key });
    } else {
      const key = pick();
      changes.push({ phase, key, body: bodyFor(key, n, next) });
    }
  }
  return changes;
}

function bodyFor(key: string, n: number, next: () => number): string {
  const date = new Date(NOW.getTime() - Math.floor(next() * 500) * DAY).toISOString();
  if (key.endsWith(".txt")) return `Raced note ${n}\n\nUndated: first seen is its date.\n`;
  if (key.endsWith(".html"))
    return `<html><head><title>Raced page ${n}</title><meta name="date" content="${date}"></head><body><p>${n}</p></body></html>`;
  if (key.endsWith(".json"))
    return JSON.stringify({ title: `Raced JSON ${n}`, date, content: `<p>${n}</p>` });
  const roll = next();
  if (roll < 0.1) return "---\ntitle: [broken\n---\n";
  const extra = roll < 0.2 ? "draft: true\n" : roll < 0.3 ? "" : `date: ${date}\n`;
  const tags = ["news", "tech", "raced"].filter(() => next() < 0.4);
  const lang = next() < 0.3 ? "lang: ja\n" : "";
  return `---\ntitle: "Raced ${n}"\n${extra}${tags.length ? `tags: [${tags.join(", ")}]\n` : ""}${lang}---\nRaced body ${n}.\n`;
}

async function keysUnder(storage: Storage, prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of storage.list(prefix)) keys.push(info.key);
  return keys;
}

interface RaceCase {
  readonly seed: number;
  /** What the run starts from: no head at all (a blind claim), or a head of other settings. */
  readonly head: "missing" | "other settings";
  /** The run's shuffle groups (the state machine's claim uses SHUFFLE_GROUPS, 256). */
  readonly shuffleGroups: number;
  /** Group workers the plan step must choose. */
  readonly groups: number;
}

const CASES: readonly RaceCase[] = [
  { seed: 101, head: "missing", shuffleGroups: 256, groups: 1 },
  { seed: 202, head: "other settings", shuffleGroups: 16, groups: 1 },
  { seed: 303, head: "other settings", shuffleGroups: TWO_GROUPS, groups: 2 },
];

/** The site in a bucket of its own, and the run's claim on its head. */
async function prepare(race: RaceCase): Promise<{ bucket: string; run: string; site: Map<string, string> }> {
  const bucket = `race-${race.seed}`;
  await createBucket(s3, bucket);
  const stores = bucketStores(bucket);
  const site = mixedSite(ARTICLES, race.seed, NOW.getTime());
  await writeFiles(stores.content, site);
  if (race.head === "other settings") await publishAll({ ...stores, config: before, now: NOW });
  const loaded = await loadIndex(stores.output, config);
  const reason = wholeSiteReason(loaded, NOW);
  if (reason !== (race.head === "missing" ? "missing" : "settings-changed"))
    throw new Error(`the head calls for ${reason}`);
  const run = await startWholeSite(stores.output, config, loaded, {
    reason,
    now: NOW,
    start: async () => {},
    shuffleGroups: race.shuffleGroups,
  });
  return { bucket, run, site };
}

describe("a whole-site run raced by uploads, edits and deletes", () => {
  // Concurrently: each seed has its own buckets, and their uploads' back-off waits overlap.
  it.concurrent.for([...CASES])(
    "seed $seed, $head, $shuffleGroups shuffle groups: feeds equal a rebuild of the final content",
    { timeout: 120_000 },
    async (race: RaceCase, { expect }) => {
      const { bucket, run, site } = await prepare(race);
      const stores = () => bucketStores(bucket);
      const { content, output } = stores();
      // Racing uploads find the run under way: none of them may start another.
      const starter = recordingStarter();
      const changes = planChanges(mulberry32(race.seed), [...site.keys()]);
      // Every seed races every phase (a seed that left one out would test less than it says).
      expect(new Set(changes.map((change) => change.phase))).toEqual(new Set(PHASES));
      const make = async (change: Change) => {
        const store = stores();
        if (change.body === undefined) await store.content.delete(change.key);
        else await store.content.put(change.key, change.body);
        await applyChanges({ ...store, config, keys: [change.key], now: NOW, wholeSite: starter.start });
      };
      // Two at a time: they race each other as well as the run, without all losing the head at once.
      const at = (phase: Phase) =>
        forEachLimited(
          changes.filter((change) => change.phase === phase),
          2,
          make,
        );

      await at("claimed");
      const { report, groups } = await driveRun(stores(), config, run, {
        now: NOW,
        beside: (phase: RunPhase) => at(phase),
      });
      await at("after");

      expect(groups).toBe(race.groups);
      expect(report.articles).toBeGreaterThan(ARTICLES - CHANGES);
      expect(starter.runs).toEqual([]);
      expect((await storedHead(output))?.wholeSite).toBeUndefined();
      expect(await keysUnder(output, PENDING_PREFIX)).toEqual([]);
      const articles = (await keysUnder(content)).filter((key) => sourceKind(key)).sort();
      expect(await catalogPaths(output)).toEqual(articles);

      await createBucket(s3, `race-${race.seed}-reference`);
      const reference = bucketStores(`race-${race.seed}-reference`);
      await publishAll({ content, output: reference.output, config, now: NOW });
      // Compared by the listings' ETags (the MD5 of each file's bytes): no file read twice.
      const expected = await etagTree(reference.output, "feeds/");
      expect(expected.size).toBeGreaterThan(20);
      expect([...expected.values()].every((etag) => /^"[0-9a-f]{32}"$/.test(etag))).toBe(true);
      expect(treeDiff(expected, await etagTree(output, "feeds/"))).toEqual([]);
    },
  );
});
