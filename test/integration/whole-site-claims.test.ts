/**
 * The head's claim of a whole-site run against a real S3 API: uploads that find whole-site work
 * start one run (never two), keep being applied while it runs, and leave notes that its reduce
 * applies again; a run that timed out is replaced; a superseded run never commits.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { applyChanges } from "../../functions/engine/apply.ts";
import { publishAll } from "../../functions/engine/rebuild.ts";
import { INDEX_KEY } from "../../functions/engine/state/head.ts";
import { loadIndex } from "../../functions/engine/store.ts";
import { CONTENT_PREFIX, type Stores } from "../../functions/engine/stores.ts";
import { PENDING_PREFIX, pendingKey } from "../../functions/engine/whole/layout.ts";
import { reduceRun } from "../../functions/engine/whole/reduce.ts";
import { RUN_LEASE_MS, startWholeSite } from "../../functions/engine/whole/start.ts";
import type { Storage } from "../../functions/storage/port.ts";
import { S3Storage } from "../../functions/storage/s3-storage.ts";
import { createBucket, type Moto, s3Client, startMoto } from "../support/moto.ts";
import { driveRun, mapRun, readTree, recordingStarter, storedHead, treeDiff } from "../support/whole-site.ts";

const NOW = new Date("2026-03-10T08:00:00Z");
const SITE = { title: "Claims", url: "https://claims.example/", itemLimit: 20 };
const config = parseConfig(SITE, "test");
const renamed = parseConfig({ ...SITE, title: "Claims, renamed" }, "test");

let moto: Moto;
let s3: S3Client;
let buckets = 0;

beforeAll(async () => {
  moto = await startMoto();
  s3 = s3Client(moto.endpoint);
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});

/** A bucket of its own for each test; `stores()` gives each invocation its own client. */
async function newBucket(): Promise<{ bucket: string; stores: () => Stores }> {
  const bucket = `claims-${++buckets}`;
  await createBucket(s3, bucket);
  return {
    bucket,
    stores: () => {
      const client = s3Client(moto.endpoint);
      return {
        content: new S3Storage(client, bucket, CONTENT_PREFIX),
        output: new S3Storage(client, bucket),
      };
    },
  };
}

const article = (title: string, day: number) =>
  `---\ntitle: ${JSON.stringify(title)}\ndate: 2026-02-${String(day).padStart(2, "0")}T10:00:00Z\n---\nAbout ${title}.\n`;

/** A site built with the first settings: its head now calls for whole-site work under `renamed`. */
async function builtSite(): Promise<{ bucket: string; stores: () => Stores }> {
  const site = await newBucket();
  const { content } = site.stores();
  for (const [i, name] of ["alpha", "beta", "gamma"].entries())
    await content.put(`${name}.md`, article(name, i + 1));
  await publishAll({ ...site.stores(), config, now: NOW });
  return site;
}

async function text(storage: Storage, key: string): Promise<string> {
  return Buffer.from((await storage.get(key))?.body ?? []).toString("utf8");
}

async function keysUnder(storage: Storage, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of storage.list(prefix)) keys.push(info.key);
  return keys;
}

type Claim = { run: string; reason: string; until: number; blind?: true };
const claimOf = async (output: Storage) => (await storedHead(output))?.wholeSite as Claim | undefined;

describe("whole-site claims on the head", () => {
  it("two uploads under new settings start one run, and both are applied and noted", async () => {
    const { stores } = await builtSite();
    const { content, output } = stores();
    await content.put("one.md", article("Upload one", 20));
    await content.put("two.md", article("Upload two", 21));
    const starter = recordingStarter();

    const reports = await Promise.all(
      ["one.md", "two.md"].map((key) =>
        applyChanges({ ...stores(), config: renamed, keys: [key], now: NOW, wholeSite: starter.start }),
      ),
    );

    expect(starter.runs).toHaveLength(1);
    const claim = await claimOf(output);
    expect(claim).toEqual({
      run: starter.runs[0],
      reason: "settings-changed",
      until: NOW.getTime() + RUN_LEASE_MS,
    });
    expect(reports.map((report) => report.changed)).toEqual([true, true]);
    const rss = await text(output, "feeds/rss.xml");
    expect(rss).toContain("Upload one");
    expect(rss).toContain("Upload two");
    expect((await keysUnder(output, PENDING_PREFIX)).sort()).toEqual(
      [pendingKey("one.md"), pendingKey("two.md")].sort(),
    );
    expect(JSON.parse(await text(output, pendingKey("one.md")))).toEqual({ key: "one.md" });
  });

  it("with no head, uploads only leave notes, under one blind claim", async () => {
    const { stores } = await newBucket();
    const { content, output } = stores();
    await content.put("first.md", article("First", 1));
    await content.put("second.md", article("Second", 2));
    const starter = recordingStarter();

    // At once: the claim on a missing head is a create-if-absent, so only one of them makes it.
    const reports = await Promise.all(
      ["first.md", "second.md"].map((key) =>
        applyChanges({ ...stores(), config, keys: [key], now: NOW, wholeSite: starter.start }),
      ),
    );

    expect(reports.map((report) => report.changed)).toEqual([false, false]);
    expect(starter.runs).toHaveLength(1);
    expect(await keysUnder(output, "feeds/")).toEqual([]);
    const head = await storedHead(output);
    expect(head?.wholeSite).toEqual({
      run: starter.runs[0],
      reason: "missing",
      until: NOW.getTime() + RUN_LEASE_MS,
      blind: true,
    });
    // No feed is made from the empty catalog of a blind claim.
    expect(head?.shards).toEqual([]);
    expect((await keysUnder(output, PENDING_PREFIX)).sort()).toEqual(
      [pendingKey("first.md"), pendingKey("second.md")].sort(),
    );
  });

  it("a claim whose lease has run out is replaced by a new run", async () => {
    const { stores } = await builtSite();
    const { content, output } = stores();
    await content.put("late.md", article("Late", 9));
    const starter = recordingStarter();
    const apply = (now: Date) =>
      applyChanges({ ...stores(), config: renamed, keys: ["late.md"], now, wholeSite: starter.start });

    await apply(NOW);
    const until = NOW.getTime() + RUN_LEASE_MS;
    // One millisecond before the lease ends the run still owns the head.
    await apply(new Date(until - 1));
    expect(starter.runs).toHaveLength(1);
    await apply(new Date(until));

    expect(starter.runs).toHaveLength(2);
    expect(starter.runs[1]).not.toBe(starter.runs[0]);
    expect(await claimOf(output)).toEqual({
      run: starter.runs[1],
      reason: "retry:settings-changed",
      until: until + RUN_LEASE_MS,
    });
  });

  it("a superseded run's reduce refuses to commit, before writing and at its commit", async () => {
    const { stores } = await builtSite();
    const { output } = stores();
    // Four shuffle groups, not the state machine's 256: a group lists each of its folders.
    const claim = async (reason: string) =>
      startWholeSite(output, renamed, await loadIndex(output, renamed), {
        reason,
        now: NOW,
        start: async () => {},
        shuffleGroups: 4,
      });
    const before = await readTree(output, ["feeds/"]);

    const superseded = await claim("settings-changed");
    await mapRun(stores(), renamed, superseded, { now: NOW });
    const current = await claim("force");
    await expect(reduceRun(stores(), renamed, superseded, { now: NOW })).rejects.toThrow(
      `run ${superseded} was superseded by run ${current}: not committing`,
    );
    expect((await claimOf(output))?.run).toBe(current);
    // Refused before writing anything: feeds/ is as the first build left it.
    expect(treeDiff(before, await readTree(output, ["feeds/"]))).toEqual([]);

    // Superseded while its reduce runs: the commit finds another run's claim and stops there.
    await mapRun(stores(), renamed, current, { now: NOW });
    let newer: string | undefined;
    const racing: Storage = {
      get: (key) => output.get(key),
      head: (key) => output.head(key),
      delete: (key) => output.delete(key),
      list: (prefix) => output.list(prefix),
      // The commit's conditional write: another run claims the head just before it.
      put: async (key, body, options) => {
        if (key === INDEX_KEY && newer === undefined) newer = await claim("force");
        return output.put(key, body, options);
      },
    };
    const refused = await reduceRun({ content: stores().content, output: racing }, renamed, current, {
      now: NOW,
    }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(newer).toBeDefined();
    expect(refused).toBe(`run ${current} was superseded by run ${newer}: not committing`);
    expect((await claimOf(output))?.run).toBe(newer);
  });

  it("after a run, the uploads noted meanwhile are applied, their notes removed, the claim gone", async () => {
    const { stores } = await builtSite();
    const { content, output } = stores();
    const starter = recordingStarter();
    const loaded = await loadIndex(output, renamed);
    const run = await startWholeSite(output, renamed, loaded, {
      reason: "settings-changed",
      now: NOW,
      start: starter.start,
    });
    const upload = async (key: string, body?: string) => {
      if (body === undefined) await content.delete(key);
      else await content.put(key, body);
      await applyChanges({ ...stores(), config: renamed, keys: [key], now: NOW, wholeSite: starter.start });
    };

    const { report } = await driveRun(stores(), renamed, run, {
      now: NOW,
      // After the listing: the run cannot see these; only their notes bring them in.
      beside: async (phase) => {
        if (phase === "listed") {
          await upload("added.md", article("Added meanwhile", 25));
          await upload("beta.md");
          expect((await keysUnder(output, PENDING_PREFIX)).length).toBe(2);
          expect((await claimOf(output))?.run).toBe(run);
        }
      },
    });

    expect(starter.runs).toEqual([run]);
    expect(await keysUnder(output, PENDING_PREFIX)).toEqual([]);
    expect(await claimOf(output)).toBeUndefined();
    expect(report.articles).toBe(3);
    const rss = await text(output, "feeds/rss.xml");
    expect(rss).toContain("<title>Claims, renamed</title>");
    expect(rss).toContain("Added meanwhile");
    expect(rss).not.toContain("<title>beta</title>");
    expect(rss).toContain("<title>gamma</title>");

    // And the feeds are what a rebuild of the same content makes.
    const fresh = await newBucket();
    await publishAll({ content, output: fresh.stores().output, config: renamed, now: NOW });
    expect(
      treeDiff(await readTree(fresh.stores().output, ["feeds/"]), await readTree(output, ["feeds/"])),
    ).toEqual([]);
  });
});
