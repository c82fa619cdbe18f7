/**
 * The S3 adapter of the storage port against a real S3 API (moto_server, one per file).
 */
import { createHash } from "node:crypto";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeIfChanged } from "../../functions/engine/write.ts";
import { InvalidKeyError, PreconditionFailedError } from "../../functions/storage/errors.ts";
import type { ObjectInfo } from "../../functions/storage/port.ts";
import { S3Storage } from "../../functions/storage/s3-storage.ts";
import { createBucket, type Moto, s3Client, sleep, startMoto } from "../support/moto.ts";

let moto: Moto;
let s3: S3Client;
/** Every command name the shared client sent, in order. */
const sent: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  s3 = s3Client(moto.endpoint);
  s3.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(context.commandName ?? "?");
      return next(args);
    },
    { step: "initialize", name: "recordCommands" },
  );
});

afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});

let buckets = 0;
/** A fresh, empty bucket, so tests share nothing but the server. */
async function newBucket(): Promise<string> {
  const name = `storage-${++buckets}-${process.pid}`;
  await createBucket(s3, name);
  return name;
}

const md5 = (bytes: string | Uint8Array): string => `"${createHash("md5").update(bytes).digest("hex")}"`;
const text = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString("utf8");

async function all(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of iterable) out.push(info);
  return out;
}

async function rawHead(bucket: string, key: string) {
  return s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>) {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(runners);
}

describe("S3Storage: get, head, put, delete", () => {
  it("round-trips an object without a prefix", async () => {
    const storage = new S3Storage(s3, await newBucket());
    const before = Date.now();
    const { etag } = await storage.put("posts/hello.md", "# Hello\n", { contentType: "text/markdown" });
    expect(etag).toBe(md5("# Hello\n"));

    const got = await storage.get("posts/hello.md");
    expect(got).toBeDefined();
    expect(text(got?.body)).toBe("# Hello\n");
    expect(got).toMatchObject({ key: "posts/hello.md", etag, size: 8, contentType: "text/markdown" });
    expect(got?.lastModified).toBeInstanceOf(Date);
    // S3 keeps whole seconds.
    expect(got?.lastModified.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 2000);

    const head = await storage.head("posts/hello.md");
    expect(head).toEqual({ key: "posts/hello.md", etag, size: 8, lastModified: got?.lastModified });

    await storage.delete("posts/hello.md");
    expect(await storage.get("posts/hello.md")).toBeUndefined();
    expect(await storage.head("posts/hello.md")).toBeUndefined();
  });

  it("round-trips binary and empty bodies byte for byte", async () => {
    const storage = new S3Storage(s3, await newBucket());
    const bytes = Uint8Array.from({ length: 256 }, (_, index) => index);
    expect((await storage.put("bin/all-bytes", bytes)).etag).toBe(md5(bytes));
    expect((await storage.get("bin/all-bytes"))?.body).toEqual(bytes);
    await storage.put("bin/empty", "");
    const empty = await storage.get("bin/empty");
    expect(empty?.body.byteLength).toBe(0);
    expect(empty?.size).toBe(0);
    expect((await storage.head("bin/empty"))?.size).toBe(0);
  });

  it("scopes every key under its prefix and reports keys without it", async () => {
    const bucket = await newBucket();
    const content = new S3Storage(s3, bucket, "content/");
    const root = new S3Storage(s3, bucket);
    await content.put("posts/a.md", "a");
    await root.put("feeds/rss.xml", "<rss/>");

    expect((await rawHead(bucket, "content/posts/a.md")).ContentLength).toBe(1);
    expect(await content.get("posts/a.md")).toMatchObject({ key: "posts/a.md", size: 1 });
    expect(await root.head("content/posts/a.md")).toMatchObject({ key: "content/posts/a.md" });
    // The prefixed storage cannot see what lies outside its prefix.
    expect(await content.get("feeds/rss.xml")).toBeUndefined();
    expect(await content.head("rss.xml")).toBeUndefined();

    await content.delete("posts/a.md");
    expect(await root.head("content/posts/a.md")).toBeUndefined();
    expect(await root.head("feeds/rss.xml")).toBeDefined();
  });

  it("answers undefined for missing keys, and deleting one is not an error", async () => {
    const storage = new S3Storage(s3, await newBucket(), "content/");
    expect(await storage.get("nope.md")).toBeUndefined();
    expect(await storage.head("nope.md")).toBeUndefined();
    expect(await storage.get("deep/er/nope.md")).toBeUndefined();
    await expect(storage.delete("nope.md")).resolves.toBeUndefined();
  });

  it("throws, rather than answering undefined, when the bucket itself is missing", async () => {
    const storage = new S3Storage(s3, "no-such-bucket-here");
    await expect(storage.get("a.md")).rejects.toMatchObject({ name: "NoSuchBucket" });
    await expect(storage.put("a.md", "x")).rejects.toMatchObject({ name: "NoSuchBucket" });
  });

  it("stores Content-Type and Cache-Control and reads them back", async () => {
    const bucket = await newBucket();
    const storage = new S3Storage(s3, bucket, "feeds/");
    await storage.put("rss.xml", "<rss/>", {
      contentType: "application/rss+xml; charset=utf-8",
      cacheControl: "public, max-age=300, stale-while-revalidate=60",
    });
    const head = await rawHead(bucket, "feeds/rss.xml");
    expect(head.ContentType).toBe("application/rss+xml; charset=utf-8");
    expect(head.CacheControl).toBe("public, max-age=300, stale-while-revalidate=60");
    expect((await storage.get("rss.xml"))?.contentType).toBe("application/rss+xml; charset=utf-8");
  });
});

describe("S3Storage: keys", () => {
  const awkward = [
    "Ünïcode café+plus.md",
    "with space/and more spaces.md",
    "plus+sign+.md",
    "percent%41%2F.md",
    "query?and#hash&amp=1.md",
    "emoji 🎉/日本語.md",
    "quote'\"<>.md",
    "tilde~*(paren).md",
  ];

  it("round-trips keys with spaces, '+', '%', reserved and non-ASCII characters", async () => {
    const bucket = await newBucket();
    const storage = new S3Storage(s3, bucket, "content/");
    for (const key of awkward) {
      await storage.put(key, `body of ${key}`, { contentType: "text/markdown" });
      expect(text((await storage.get(key))?.body), key).toBe(`body of ${key}`);
      expect((await storage.head(key))?.etag, key).toBe(md5(`body of ${key}`));
      // Stored under exactly that key, not an encoded form of it.
      expect((await rawHead(bucket, `content/${key}`)).ContentLength, key).toBe(
        Buffer.byteLength(`body of ${key}`),
      );
    }
    const listed = (await all(storage.list())).map((info) => info.key);
    expect([...listed].sort()).toEqual([...awkward].sort());
    for (const key of awkward) await storage.delete(key);
    expect(await all(storage.list())).toEqual([]);
  });

  it.each([
    ["../x"],
    ["/abs"],
    ["a//b"],
    [""],
    ["a/./b"],
    ["a/../../b"],
    ["a/"],
    ["back\\slash"],
    ["ctrl\u0001char"],
  ])("refuses %j before sending any request", async (key) => {
    const storage = new S3Storage(s3, "never-created-bucket", "content/");
    const before = sent.length;
    await expect(storage.get(key)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(storage.head(key)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(storage.put(key, "x")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(storage.put(key, "x", { ifNoneMatch: "*" })).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(storage.delete(key)).rejects.toBeInstanceOf(InvalidKeyError);
    expect(sent.slice(before)).toEqual([]);
  });
});

describe("S3Storage: list", () => {
  it("lists in key order, with and without a prefix, stripping the storage prefix", async () => {
    const bucket = await newBucket();
    const root = new S3Storage(s3, bucket);
    const content = new S3Storage(s3, bucket, "content/");
    for (const key of [
      "content/b.md",
      "content/a/z.md",
      "content/a/a.md",
      "contentious.md",
      "feeds/rss.xml",
    ]) {
      await root.put(key, key);
    }
    expect((await all(content.list())).map((info) => info.key)).toEqual(["a/a.md", "a/z.md", "b.md"]);
    expect((await all(content.list("a/"))).map((info) => info.key)).toEqual(["a/a.md", "a/z.md"]);
    expect((await all(content.list("zzz/"))).map((info) => info.key)).toEqual([]);
    expect((await all(root.list("content"))).map((info) => info.key)).toEqual([
      "content/a/a.md",
      "content/a/z.md",
      "content/b.md",
      "contentious.md",
    ]);
    expect((await all(root.list())).length).toBe(5);

    const [first] = await all(content.list("b.md"));
    expect(first).toEqual({
      key: "b.md",
      etag: md5("content/b.md"),
      size: "content/b.md".length,
      lastModified: (await content.head("b.md"))?.lastModified,
    });
  });

  it("lists keys XML cannot carry and keys that look encoded exactly as they were written", async () => {
    const bucket = await newBucket();
    const root = new S3Storage(s3, bucket);
    const keys = ["a b+c%20d.md", "back\\slash.md", "cr\rx.md", "esc\u001b[2J.md", "tab\tx.md", "é 𠀀.md"];
    for (const key of keys)
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `content/${key}`, Body: key }));
    const listed = (await all(new S3Storage(s3, bucket, "content/").list())).map((info) => info.key);
    expect(listed).toEqual([...keys].sort());
    // The listed name is the stored one: it reads back (through the SDK, past the key check).
    const plus = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `content/${listed[0]}` }));
    expect(await plus.Body?.transformToString()).toBe("a b+c%20d.md");
    expect((await all(root.list("content/"))).length).toBe(keys.length);
  });

  // moto takes ~10 ms per PutObject whatever the parallelism, so this test needs ~10-15 s.
  it("pages through more than 1,000 keys", { timeout: 90_000 }, async () => {
    const bucket = await newBucket();
    const keys = Array.from({ length: 1_100 }, (_, index) => `many/${String(index).padStart(5, "0")}.md`);
    await inParallel(keys, 24, (key) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: `content/${key}`, Body: key })),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "outside.md", Body: "x" }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "content/zz.md", Body: "x" }));
    const storage = new S3Storage(s3, bucket, "content/");

    const before = sent.length;
    const listed = await all(storage.list("many/"));
    const pages = sent.slice(before).filter((name) => name === "ListObjectsV2Command").length;
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(listed.map((info) => info.key)).toEqual(keys);
    expect(listed.every((info) => info.size === info.key.length)).toBe(true);

    const everything = (await all(storage.list())).map((info) => info.key);
    expect(everything.length).toBe(1_101);
    expect(everything.at(-1)).toBe("zz.md");
    expect(everything.some((key) => key.startsWith("content/") || key === "outside.md")).toBe(false);
  });
});

describe("S3Storage: conditional writes", () => {
  it("ifNoneMatch '*' creates a new key and refuses to overwrite an existing one", async () => {
    const storage = new S3Storage(s3, await newBucket(), "state/");
    const { etag } = await storage.put("lock.json", "first", { ifNoneMatch: "*" });
    expect(etag).toBe(md5("first"));

    const error = await storage.put("lock.json", "second", { ifNoneMatch: "*" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreconditionFailedError);
    expect((error as PreconditionFailedError).key).toBe("lock.json");
    const after = await storage.get("lock.json");
    expect(text(after?.body)).toBe("first");
    expect(after?.etag).toBe(etag);
  });

  it("ifMatch with a stale ETag fails and changes nothing; the current ETag succeeds", async () => {
    const storage = new S3Storage(s3, await newBucket(), "state/");
    const v1 = await storage.put("seen.json", '{"v":1}');
    const v2 = await storage.put("seen.json", '{"v":2}', { ifMatch: v1.etag });
    expect(v2.etag).toBe(md5('{"v":2}'));
    expect(text((await storage.get("seen.json"))?.body)).toBe('{"v":2}');

    // A writer that read v1 lost the race.
    await expect(storage.put("seen.json", '{"v":"stale"}', { ifMatch: v1.etag })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    const after = await storage.get("seen.json");
    expect(text(after?.body)).toBe('{"v":2}');
    expect(after?.etag).toBe(v2.etag);

    const v3 = await storage.put("seen.json", '{"v":3}', { ifMatch: v2.etag });
    expect(v3.etag).toBe(md5('{"v":3}'));
    expect(text((await storage.get("seen.json"))?.body)).toBe('{"v":3}');
  });

  it("ifMatch on a missing key fails as a precondition, as in the fs adapter", async () => {
    const storage = new S3Storage(s3, await newBucket(), "state/");
    await expect(storage.put("gone.json", "x", { ifMatch: md5("x") })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    expect(await storage.head("gone.json")).toBeUndefined();
  });
});

describe("writeIfChanged on S3", () => {
  it("skips unchanged bytes (same ETag and Last-Modified) and writes changed ones", async () => {
    const bucket = await newBucket();
    const storage = new S3Storage(s3, bucket, "feeds/");
    const meta = { contentType: "application/atom+xml", cacheControl: "max-age=60" };

    expect(await writeIfChanged(storage, "atom.xml", "<feed>1</feed>", meta)).toBe(true);
    const first = await rawHead(bucket, "feeds/atom.xml");
    expect(first.ETag).toBe(md5("<feed>1</feed>"));
    expect(first.ContentType).toBe("application/atom+xml");
    expect(first.CacheControl).toBe("max-age=60");

    // Last-Modified has one-second resolution: wait past it so a rewrite would show.
    await sleep(1_100);
    expect(await writeIfChanged(storage, "atom.xml", "<feed>1</feed>", meta)).toBe(false);
    const unchanged = await rawHead(bucket, "feeds/atom.xml");
    expect(unchanged.ETag).toBe(first.ETag);
    expect(unchanged.LastModified?.getTime()).toBe(first.LastModified?.getTime());

    await sleep(1_100);
    expect(await writeIfChanged(storage, "atom.xml", "<feed>2</feed>", meta)).toBe(true);
    const changed = await rawHead(bucket, "feeds/atom.xml");
    expect(changed.ETag).toBe(md5("<feed>2</feed>"));
    expect(changed.LastModified?.getTime()).toBeGreaterThan(first.LastModified?.getTime() ?? Infinity);
  });

  it("writes non-ASCII text as UTF-8 and recognises it as unchanged", async () => {
    const storage = new S3Storage(s3, await newBucket());
    const body = "<title>Café — 日本語 🎉</title>";
    expect(await writeIfChanged(storage, "feed.json", body, { contentType: "application/feed+json" })).toBe(
      true,
    );
    expect((await storage.head("feed.json"))?.etag).toBe(md5(Buffer.from(body, "utf8")));
    expect(await writeIfChanged(storage, "feed.json", body, { contentType: "application/feed+json" })).toBe(
      false,
    );
  });
});
