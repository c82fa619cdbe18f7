import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import {
  applyChanges,
  CATALOG_PREFIX,
  CONTENT_PREFIX,
  INDEX_KEY,
  publishAll,
} from "../../functions/engine/publish.ts";
import { S3Storage } from "../../functions/storage/s3-storage.ts";
import { CountingStorage } from "../app/counting-storage.ts";
import { createBucket, type Moto, s3Client, startMoto } from "../support/moto.ts";

// Reconcile by listing: the catalog records each article's ETag, so a rebuild lists the bucket
// and reads only what is new, changed or unknown. Real S3 API (moto), one bucket per test.
const config = parseConfig({ title: "Listed", url: "https://listed.example/", itemLimit: 5 });
const NOW = new Date("2026-06-15T12:00:00Z");
const ARTICLES = 40;
let moto: Moto;
let s3: S3Client;
let bucketCount = 0;

beforeAll(async () => {
  moto = await startMoto();
  s3 = s3Client(moto.endpoint);
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});

const article = (i: number, title = `Article ${i}`) =>
  `---\ntitle: "${title}"\ndate: 2026-0${1 + (i % 5)}-${String(1 + (i % 27)).padStart(2, "0")}T10:00:00Z\ntags: [t${i % 3}]\n---\nBody ${i}.\n`;

async function site(): Promise<{ bucket: string; put: (key: string, body: string) => Promise<void> }> {
  const bucket = `listed-${++bucketCount}`;
  await createBucket(s3, bucket);
  const put = async (key: string, body: string) => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: CONTENT_PREFIX + key, Body: body }));
  };
  for (let i = 0; i < ARTICLES; i++) await put(`posts/a${i}.md`, article(i));
  return { bucket, put };
}

function counted(bucket: string) {
  const content = new CountingStorage(new S3Storage(s3, bucket, CONTENT_PREFIX));
  const output = new CountingStorage(new S3Storage(s3, bucket));
  const gets = () => content.calls.filter((call) => call.startsWith("GET ")).length;
  return { content, output, gets };
}

describe("a rebuild reads only the articles the catalog does not know", () => {
  it("with nothing changed, a reconcile lists and reads state, and GETs no article", async () => {
    const { bucket } = await site();
    const first = counted(bucket);
    const built = await publishAll({ ...first, config, now: NOW });
    expect(built.read).toBe(ARTICLES);
    expect(first.gets()).toBe(ARTICLES);

    const again = counted(bucket);
    const report = await publishAll({ ...again, config, now: NOW });
    expect(report.read).toBe(0);
    expect(again.gets()).toBe(0);
    // Content: the listing, and the listing again that checks nothing moved meanwhile.
    expect(again.content.calls.every((call) => call.startsWith("LIST"))).toBe(true);
    // Output: the head, the catalog shard(s), the feed states, listings of feeds/ and _state/; no writes.
    expect(again.output.calls.filter((call) => call.startsWith("PUT") || call.startsWith("DELETE"))).toEqual(
      [],
    );
    expect(report.written).toEqual([]);
    // Every article is public; the feed holds the newest five.
    expect(report.published).toBe(40);
    expect(report.inFeed).toBe(5);
  });

  it("an edit, a new article and a delete missed by events are read (only they) and published", async () => {
    const { bucket, put } = await site();
    await publishAll({ ...counted(bucket), config, now: NOW });
    await put("posts/a3.md", article(3, "Edited behind the pipeline's back"));
    await put("posts/new.md", article(2, "Brand new"));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${CONTENT_PREFIX}posts/a7.md` }));
    const stores = counted(bucket);
    const report = await publishAll({ ...stores, config, now: NOW });
    expect(report.read).toBe(2);
    expect(stores.content.calls.filter((call) => call.startsWith("GET ")).sort()).toEqual([
      "GET posts/a3.md",
      "GET posts/new.md",
    ]);
    expect(report.articles).toBe(ARTICLES);
    // What it published equals a forced full re-read of every article.
    const feed = await text(bucket, "feeds/feed.json");
    const tag = await text(bucket, "feeds/tags/t0/feed.json");
    // a3 is dated in April: its month's archive page carries the edit; a7's page lost it.
    expect(await text(bucket, "feeds/archive/2026-04/feed.json")).toContain("Edited behind the pipeline");
    expect(await text(bucket, "feeds/archive/2026-03/feed.json")).not.toContain("Article 7");
    expect(await text(bucket, "feeds/archive/2026-03/feed.json")).toContain("Brand new");
    const forced = counted(bucket);
    const full = await publishAll({ ...forced, config, now: NOW, force: true });
    expect(full.read).toBe(ARTICLES);
    expect(forced.gets()).toBe(ARTICLES);
    expect(full.written.filter((key) => key !== INDEX_KEY)).toEqual([]);
    expect(await text(bucket, "feeds/feed.json")).toBe(feed);
    expect(await text(bucket, "feeds/tags/t0/feed.json")).toBe(tag);
  });

  it("after an upload through the pipeline, the reconcile does not read that article again", async () => {
    const { bucket, put } = await site();
    await publishAll({ ...counted(bucket), config, now: NOW });
    await put("posts/a5.md", article(5, "Uploaded"));
    await applyChanges({ ...counted(bucket), config, keys: ["posts/a5.md"], now: NOW });
    const stores = counted(bucket);
    expect((await publishAll({ ...stores, config, now: NOW })).read).toBe(0);
    expect(stores.gets()).toBe(0);
  });

  for (const damage of ["missing", "unreadable", "settings"] as const)
    it(`with the state ${damage === "settings" ? "made with other settings" : damage}, every article is read again`, async () => {
      const { bucket } = await site();
      await publishAll({ ...counted(bucket), config, now: NOW });
      if (damage === "missing") await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: INDEX_KEY }));
      if (damage === "unreadable")
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: INDEX_KEY, Body: "{not json" }));
      const settings = damage === "settings" ? { ...config, title: "Renamed" } : config;
      const stores = counted(bucket);
      const report = await publishAll({ ...stores, config: settings, now: NOW });
      expect(report.read).toBe(ARTICLES);
      expect(stores.gets()).toBe(ARTICLES);
      if (damage === "settings") expect(await text(bucket, "feeds/tags/t1/atom.xml")).toContain("Renamed");
    });

  it("a damaged feed state costs that feed its cached items, not the rebuild", async () => {
    const { bucket } = await site();
    await publishAll({ ...counted(bucket), config, now: NOW });
    const head = JSON.parse(await text(bucket, INDEX_KEY)) as { facets: Record<string, { state: string }> };
    const state = head.facets["tags/t1"]?.state as string;
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: `${CATALOG_PREFIX}${state}.json`, Body: "garbage" }),
    );
    const before = await text(bucket, "feeds/tags/t1/feed.json");
    const stores = counted(bucket);
    const report = await publishAll({ ...stores, config, now: NOW });
    // The tag's items are made again from their articles (read for it); its bytes do not change.
    expect(stores.gets()).toBeGreaterThan(0);
    expect(stores.gets()).toBeLessThan(ARTICLES);
    expect(await text(bucket, "feeds/tags/t1/feed.json")).toBe(before);
    expect(report.written.filter((key) => key !== INDEX_KEY)).toEqual([]);
    // And the damaged object is written again, so the next reconcile reads nothing.
    const next = counted(bucket);
    await publishAll({ ...next, config, now: NOW });
    expect(next.gets()).toBe(0);
  });
});

async function text(bucket: string, key: string): Promise<string> {
  const object = await new S3Storage(s3, bucket).get(key);
  return Buffer.from(object?.body ?? []).toString("utf8");
}
