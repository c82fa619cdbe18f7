import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertValidJsonFeed } from "../helpers/feed-check.ts";
import { createBucket, type Moto, motoEnv, s3Client, startMoto } from "../support/moto.ts";

const REPO = new URL("../..", import.meta.url).pathname;
const BUCKET = "rebuild-site";
let moto: Moto;
let s3: S3Client;
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
  s3 = s3Client(moto.endpoint);
  await createBucket(s3, BUCKET);
  dir = await mkdtemp(join(tmpdir(), "feedpub-rebuild-"));
  await writeFile(join(dir, "feedpub.config.yaml"), "title: Bucket Site\nurl: https://bucket.example/\n");
}, 60_000);
afterAll(async () => {
  await moto?.stop();
  await rm(dir, { recursive: true, force: true });
});

const rebuild = (...args: string[]) =>
  spawnSync(
    process.execPath,
    [join(REPO, "bin/feedpub.mjs"), "rebuild", ...args, "--config", join(dir, "feedpub.config.yaml")],
    {
      cwd: dir,
      env: { ...process.env, ...motoEnv(moto.endpoint) },
      encoding: "utf8",
    },
  );

describe("feedpub rebuild --bucket", () => {
  it("rebuilds the feeds of a bucket from a listing of content/, reporting bad articles", async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "content/a.md",
        Body: "---\ntitle: A\ndate: 2025-01-01\n---\nA.",
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "content/b.txt", Body: "B title\n\nB body." }));
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "content/bad.md", Body: "---\ntitle: [x\n---\n" }),
    );
    const run = rebuild("--bucket", BUCKET);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /published 2 of 3 articles, 1 skipped with problems -> s3:\/\/rebuild-site\/feeds/,
    );
    expect(run.stderr).toMatch(/^s3:\/\/rebuild-site\/content\/bad\.md:2: front matter is not valid YAML/m);
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "feeds/feed.json" }))
    ).Body?.transformToString();
    const feed = assertValidJsonFeed(body ?? "") as { items: { title: string }[] };
    expect(feed.items.map((item) => item.title).sort()).toEqual(["A", "B title"]);
  });

  it("feedpub status --bucket reports the rejected article from the bucket's index", () => {
    const run = spawnSync(
      process.execPath,
      [
        join(REPO, "bin/feedpub.mjs"),
        "status",
        "--bucket",
        BUCKET,
        "--config",
        join(dir, "feedpub.config.yaml"),
      ],
      { cwd: dir, env: { ...process.env, ...motoEnv(moto.endpoint) }, encoding: "utf8" },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^articles: 3 indexed, 2 in the feeds, 1 rejected$/m);
    expect(run.stdout).toMatch(/^s3:\/\/rebuild-site\/content\/bad\.md:2: front matter is not valid YAML/m);
  });

  it("asks for --bucket", () => {
    const run = rebuild();
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("rebuild needs --bucket NAME");
  });
});
