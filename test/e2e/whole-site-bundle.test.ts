import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { CreateStateMachineCommand, ListExecutionsCommand, SFNClient } from "@aws-sdk/client-sfn";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { publishAll } from "../../functions/engine/rebuild.ts";
import type { FeedIndex } from "../../functions/engine/state/head.ts";
import { loadIndex } from "../../functions/engine/store.ts";
import { pendingKey } from "../../functions/engine/whole/layout.ts";
import { readManifest } from "../../functions/engine/whole/parts.ts";
import { startWholeSite } from "../../functions/engine/whole/start.ts";
import { FsStorage } from "../../functions/storage/fs-storage.ts";
import { S3Storage } from "../../functions/storage/s3-storage.ts";
import { type Deployed, invokeFresh, synthesize } from "../support/deployed.ts";
import { mixedSite } from "../support/mixed-site.ts";
import {
  createBucket,
  FAKE_CREDENTIALS,
  MOTO_ACCOUNT,
  MOTO_REGION,
  type Moto,
  s3Client,
  sqsClient,
  startMoto,
} from "../support/moto.ts";
import { createNotifiedBucket, drainQueue, sqsEvent } from "../support/s3-events.ts";
import {
  deployedStarter,
  driveRun,
  synthesizedMachine,
  type WholeSiteMachine,
} from "../support/state-machine-driver.ts";

// The deployable artifact of a whole-site run: the four stage bundles exactly as `cdk synth`
// writes them, each invocation in a fresh Node process against moto, driven in the order and
// with the inputs the synthesized state machine's definition gives them (state-machine-driver.ts).
const DISTRIBUTION_DOMAIN = "d111111abcdef8.cloudfront.net";
const OLD_TITLE = "Daily NK Digest";
const NEW_TITLE = "Evening Wire Review";
/** The clock of test A's run, and so of the local build it is compared with. */
const NOW = new Date("2026-10-14T09:30:00.000Z");

let cdkOut: string;
let work: string;
let moto: Moto;
let s3: S3Client;
let sqs: SQSClient;
let sfn: SFNClient;

const aws = () => ({
  endpoint: moto.endpoint,
  region: MOTO_REGION,
  accessKeyId: FAKE_CREDENTIALS.accessKeyId,
  secretAccessKey: FAKE_CREDENTIALS.secretAccessKey,
});

beforeAll(async () => {
  cdkOut = await mkdtemp(join(tmpdir(), "feedpub-cdk-out-"));
  work = await mkdtemp(join(tmpdir(), "feedpub-whole-site-"));
  synthesize(cdkOut);
  moto = await startMoto();
  s3 = s3Client(moto.endpoint);
  sqs = sqsClient(moto.endpoint);
  sfn = new SFNClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: FAKE_CREDENTIALS });
}, 240_000);

afterAll(async () => {
  s3?.destroy();
  sqs?.destroy();
  sfn?.destroy();
  await moto?.stop();
  for (const dir of [cdkOut, work]) if (dir) await rm(dir, { recursive: true, force: true });
});

async function upload(bucket: string, files: ReadonlyMap<string, string>): Promise<void> {
  const queue = [...files];
  const one = async () => {
    for (let next = queue.shift(); next; next = queue.shift())
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `content/${next[0]}`, Body: next[1] }));
  };
  await Promise.all(Array.from({ length: 16 }, one));
}

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ""));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

async function bytesOf(bucket: string, key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
}

async function filesUnder(root: string, dir = root): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(root, path)));
    else found.push(relative(root, path).split("\\").join("/"));
  }
  return found.sort();
}

const headOf = async (bucket: string) =>
  JSON.parse((await bytesOf(bucket, "_state/index.json")).toString("utf8")) as FeedIndex;

/** The head claimed for a run as the starters claim it, with a starter that starts nothing. */
async function claimRun(bucket: string, siteConfig: string, now: Date): Promise<string> {
  const config = parseConfig(JSON.parse(siteConfig), "SITE_CONFIG");
  const output = new S3Storage(s3, bucket);
  return startWholeSite(output, config, await loadIndex(output, config), {
    reason: "first",
    now,
    start: async () => {},
  });
}

/**
 * The synthesized Regenerate bundle with new settings, starting runs on a state machine of moto's
 * Step Functions (any definition: the driver plays its part), and that machine's executions.
 */
async function regenerateOnMoto(machine: WholeSiteMachine, siteConfig: string) {
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: `WholeSite-${machine.shuffle.environment.BUCKET_NAME}`,
      definition: JSON.stringify({ StartAt: "Run", States: { Run: { Type: "Pass", End: true } } }),
      roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/feedpub-whole-site`,
    }),
  );
  const stateMachineArn = created.stateMachineArn ?? "";
  const starter = await deployedStarter(cdkOut, "Regenerate", machine, stateMachineArn);
  const regenerate: Deployed = {
    ...starter,
    environment: { ...starter.environment, SITE_CONFIG: siteConfig, AWS_ENDPOINT_URL_SFN: moto.endpoint },
  };
  const executions = async () =>
    ((await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? []).map((e) => e.name);
  return { regenerate, executions };
}

describe("a whole-site run of the synthesized bundles against moto", () => {
  it("publishes exactly the feeds/ a local rebuild of the same files, settings and clock writes", async () => {
    const bucket = "whole-site-equivalence";
    const machine = await synthesizedMachine(cdkOut, { bucket, distributionDomain: DISTRIBUTION_DOMAIN });
    // The construct's default shuffleBatchSize: 2,500 articles make two batches.
    expect(machine.maxItemsPerBatch).toBe(2000);
    const siteConfig = machine.shuffle.environment.SITE_CONFIG ?? "";
    await createBucket(s3, bucket);
    const files = mixedSite(2_500, 15, NOW.getTime());
    await upload(bucket, files);

    const run = await claimRun(bucket, siteConfig, NOW);
    const driven = await driveRun(machine, { s3, bucket, run, aws: aws() });
    expect(driven.batches).toEqual([2000, 500]);
    expect(driven.groups.length).toBeGreaterThan(0);
    expect((await headOf(bucket)).wholeSite).toBeUndefined();

    // `feedpub build` takes its clock from the system, and the run's is NOW: the same engine's
    // rebuild (publishAll, which the CLI runs for sites under 2,000 articles) with the run's clock.
    const manifest = await readManifest(new S3Storage(s3, bucket), run);
    expect(manifest.now).toBe(NOW.toISOString());
    const site = join(work, "equivalence");
    for (const [path, body] of files) {
      await mkdir(dirname(join(site, "content", path)), { recursive: true });
      await writeFile(join(site, "content", path), body);
    }
    await publishAll({
      content: new FsStorage(join(site, "content")),
      output: new FsStorage(join(site, "public")),
      config: parseConfig(JSON.parse(siteConfig), "SITE_CONFIG"),
      now: new Date(manifest.now),
    });

    const local = (await filesUnder(join(site, "public", "feeds"))).map((path) => `feeds/${path}`);
    const deployed = await keysUnder(bucket, "feeds/");
    expect(deployed).toEqual(local);
    expect(deployed).toEqual(expect.arrayContaining(["feeds/rss.xml", "feeds/atom.xml", "feeds/feed.json"]));
    const differing: string[] = [];
    for (const key of deployed) {
      const mine = await readFile(join(site, "public", key));
      if (!mine.equals(await bytesOf(bucket, key))) differing.push(key);
    }
    expect(differing).toEqual([]);
  }, 420_000);

  it("starts one execution for new settings, keeps uploads flowing and publishes them with the new settings", async () => {
    const bucket = "whole-site-settings";
    const { queueUrl } = await createNotifiedBucket(moto.endpoint, bucket);
    const machine = await synthesizedMachine(cdkOut, { bucket, distributionDomain: DISTRIBUTION_DOMAIN });
    const oldConfig = machine.shuffle.environment.SITE_CONFIG ?? "";
    expect(JSON.parse(oldConfig).title).toBe(OLD_TITLE);
    const newConfig = JSON.stringify({ ...JSON.parse(oldConfig), title: NEW_TITLE });
    const { regenerate, executions } = await regenerateOnMoto(machine, newConfig);
    const feedTitles = async () =>
      (
        JSON.parse((await bytesOf(bucket, "feeds/feed.json")).toString("utf8")) as {
          items: { title: string }[];
        }
      ).items.map((item) => item.title);

    // Prepare: a site built with the old settings.
    const site = new Map<string, string>();
    for (let i = 0; i < 30; i++)
      site.set(
        `notes/old-${i}.md`,
        `---\ntitle: "Old ${i}"\ndate: 2025-0${1 + (i % 9)}-1${i % 10}T08:00:00Z\n---\nOld.\n`,
      );
    await upload(bucket, site);
    await driveRun(machine, { s3, bucket, run: await claimRun(bucket, oldConfig, new Date()), aws: aws() });
    expect(await feedTitles()).toContain("Old 0");
    // The first uploads' notifications (and S3's test event) were the run's to publish.
    await drainQueue(sqs, queueUrl, { waitMs: 1200 });

    // Act: Regenerate with the new settings gets an upload.
    const uploadOf = (n: number) => ({
      key: `posts/upload-${n}.md`,
      body: `---\ntitle: "Upload ${n}"\ndate: 2026-0${n}-01T12:00:00Z\n---\nNew.\n`,
    });
    const first = uploadOf(1);
    await upload(bucket, new Map([[first.key, first.body]]));
    const invoke = async (fn: Deployed) =>
      (await invokeFresh(fn, sqsEvent(await drainQueue(sqs, queueUrl, { waitMs: 1200 })), aws())).result;
    expect(await invoke(regenerate)).toEqual({ batchItemFailures: [] });

    // Assess: one run claimed and started under its id; the upload is published meanwhile.
    const claim = (await headOf(bucket)).wholeSite;
    expect(claim?.reason).toBe("settings-changed");
    expect(await executions()).toEqual([claim?.run]);
    expect((await bytesOf(bucket, "feeds/rss.xml")).toString("utf8")).toContain("Upload 1");
    expect(await keysUnder(bucket, "_state/pending/")).toEqual([pendingKey(first.key)]);

    // A second upload while the run is under way: noted and published, no second execution.
    const second = uploadOf(2);
    await upload(bucket, new Map([[second.key, second.body]]));
    expect(await invoke(regenerate)).toEqual({ batchItemFailures: [] });
    expect(await executions()).toEqual([claim?.run]);
    expect((await headOf(bucket)).wholeSite?.run).toBe(claim?.run);
    expect(await feedTitles()).toEqual(expect.arrayContaining(["Upload 1", "Upload 2"]));
    expect(await keysUnder(bucket, "_state/pending/")).toEqual(
      [pendingKey(first.key), pendingKey(second.key)].sort(),
    );

    // The execution Regenerate started, driven with the new settings.
    await driveRun(machine, {
      s3,
      bucket,
      run: claim?.run ?? "",
      aws: aws(),
      environment: { SITE_CONFIG: newConfig },
    });
    expect(await feedTitles()).toEqual(expect.arrayContaining(["Upload 1", "Upload 2", "Old 0"]));
    const stale: string[] = [];
    for (const key of await keysUnder(bucket, "feeds/"))
      if ((await bytesOf(bucket, key)).toString("utf8").includes(OLD_TITLE)) stale.push(key);
    expect(stale).toEqual([]);
    for (const key of ["feeds/rss.xml", "feeds/atom.xml", "feeds/feed.json"])
      expect((await bytesOf(bucket, key)).toString("utf8")).toContain(NEW_TITLE);
    expect((await headOf(bucket)).wholeSite).toBeUndefined();
    expect(await keysUnder(bucket, "_state/pending/")).toEqual([]);
  }, 300_000);
});
