/**
 * The S3 scale model of the benchmarks (bench/model-*.ts), with waits off (scale 0) or on an
 * injected clock: S3's listing order and paging, conditional writes, the request counters, the
 * token bucket, and generated content that is the same for the same seed and takes uploads.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { GeneratedContent, SECTIONS } from "../../bench/model-content.ts";
import { MODEL_SOURCES, ModelStorage, RequestModel, S3_LATENCY } from "../../bench/model-storage.ts";
import { parseArticle } from "../../functions/core/parse.ts";
import { PreconditionFailedError } from "../../functions/storage/errors.ts";
import type { ObjectInfo, Storage } from "../../functions/storage/port.ts";

const md5 = (bytes: Uint8Array) => `"${createHash("md5").update(bytes).digest("hex")}"`;
const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString("utf8") : undefined);
async function listed(storage: Storage, prefix?: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of storage.list(prefix)) out.push(info);
  return out;
}
/** What a promise rejects with (undefined if it resolves), caught at once so no rejection goes unhandled. */
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );
const pad = (i: number) => String(i).padStart(4, "0");

describe("ModelStorage", () => {
  it("lists in S3's order (UTF-8 bytes, not UTF-16 units), one LIST per page of 1,000", async () => {
    // Prepare: written out of order; U+FF5E sorts after U+1F600 in UTF-16 but before it in UTF-8.
    const store = new ModelStorage({ scale: 0 });
    for (let i = 2499; i >= 0; i--) await store.put(`many/${pad(i)}`, `${i}`);
    for (const key of ["odd/\u{1F600}", "odd/\uFF5E", "odd/a"]) await store.put(key, "x");
    for (let i = 0; i < 2000; i++) await store.put(`even/${pad(i)}`, "x");
    store.reset();

    // Act
    const many = await listed(store, "many/");
    const pagesForMany = store.counts().LIST;
    const even = await listed(store, "even/");
    const odd = await listed(store, "odd/");
    const none = await listed(store, "nothing/");

    // Assess
    expect(many.map((info) => info.key)).toEqual(Array.from({ length: 2500 }, (_, i) => `many/${pad(i)}`));
    expect(pagesForMany).toBe(3);
    expect(even).toHaveLength(2000);
    expect(odd.map((info) => info.key)).toEqual(["odd/a", "odd/\uFF5E", "odd/\u{1F600}"]);
    expect(none).toEqual([]);
    // 3 + 2 (exactly 2,000: the second page says it is the last) + 1 + 1 (an empty answer is a request too).
    expect(store.counts().LIST).toBe(7);
    expect((await listed(store)).length).toBe(4503);
  });

  it("shows writes and deletes made between pages, as S3's continuation does", async () => {
    // Prepare
    const store = new ModelStorage({ scale: 0 });
    for (let i = 0; i < 1500; i++) await store.put(`k/${pad(i * 2)}`, "x");

    // Act: after the first page, delete a key ahead and add two (one ahead, one already passed).
    const seen: string[] = [];
    for await (const info of store.list("k/")) {
      seen.push(info.key);
      if (seen.length === 1000) {
        await store.delete("k/2998");
        await store.put("k/2999", "new");
        await store.put("k/0001", "behind");
      }
    }

    // Assess
    expect(seen).toContain("k/2999");
    expect(seen).not.toContain("k/2998");
    expect(seen).not.toContain("k/0001");
    expect(seen).toHaveLength(1500);
    expect((await listed(store, "k/")).map((info) => info.key).slice(0, 2)).toEqual(["k/0000", "k/0001"]);
  });

  it("refuses conditional writes that do not hold, with the S3 adapter's error", async () => {
    // Prepare
    const store = new ModelStorage({ scale: 0 });
    const { etag } = await store.put("head.json", "v1");

    // Act
    const exists = refusal(store.put("head.json", "v2", { ifNoneMatch: "*" }));
    const stale = refusal(store.put("head.json", "v2", { ifMatch: '"00000000000000000000000000000000"' }));
    const missing = refusal(store.put("other.json", "v1", { ifMatch: etag }));
    const fresh = await store.put("head.json", "v2", { ifMatch: etag });
    await store.delete("head.json");
    const recreated = await store.put("head.json", "v3", { ifNoneMatch: "*" });

    // Assess
    for (const refused of await Promise.all([exists, stale, missing]))
      expect(refused).toBeInstanceOf(PreconditionFailedError);
    expect(fresh.etag).toBe(md5(Buffer.from("v2")));
    expect(recreated.etag).toBe(md5(Buffer.from("v3")));
    expect(text((await store.get("head.json"))?.body)).toBe("v3");
    expect(await store.head("other.json")).toBeUndefined();
  });

  it("counts requests by kind, bytes in and out, and modelled time; reset starts again", async () => {
    // Prepare
    const date = new Date("2026-03-01T00:00:00Z");
    const store = new ModelStorage({ scale: 0, date: () => date });

    // Act
    await store.put("a.txt", "12345", { contentType: "text/plain" });
    const got = await store.get("a.txt");
    await store.get("missing.txt");
    const head = await store.head("a.txt");
    await store.delete("a.txt");
    await listed(store);
    const stats = store.stats();
    store.reset();

    // Assess
    expect(stats.counts).toEqual({ GET: 2, HEAD: 1, PUT: 1, DELETE: 1, LIST: 1 });
    expect([stats.bytesIn, stats.bytesOut]).toEqual([5, 5]);
    const { firstByteMs: ms, bytesPerMs } = S3_LATENCY;
    expect(stats.requestMs).toBeCloseTo(
      2 * ms.GET + ms.HEAD + ms.PUT + ms.DELETE + ms.LIST + 10 / bytesPerMs,
    );
    expect(stats.throttledMs).toBe(0);
    expect(got).toMatchObject({ key: "a.txt", size: 5, contentType: "text/plain", lastModified: date });
    expect(head).toEqual({ key: "a.txt", etag: got?.etag, lastModified: date, size: 5 });
    expect(store.counts()).toEqual({ GET: 0, HEAD: 0, PUT: 0, DELETE: 0, LIST: 0 });
  });

  it("gives fresh bytes on every read and keeps a copy of what it was given", async () => {
    // Prepare
    const store = new ModelStorage({ scale: 0 });
    const body = new Uint8Array([1, 2, 3]);
    await store.put("b.bin", body);

    // Act
    body[0] = 9;
    const first = await store.get("b.bin");
    if (first) first.body[1] = 9;

    // Assess
    expect([...((await store.get("b.bin"))?.body ?? [])]).toEqual([1, 2, 3]);
  });

  it("reads and writes tag sets, which change neither bytes nor ETag", async () => {
    const store = new ModelStorage({ scale: 0 });
    const { etag } = await store.put("t.md", "x");
    expect(await store.tagging.write("t.md", [{ key: "k", value: "v" }])).toBe(true);
    expect(await store.tagging.write("none.md", [])).toBe(false);
    expect(await store.tagging.read("t.md")).toEqual([{ key: "k", value: "v" }]);
    expect(await store.tagging.read("none.md")).toBeUndefined();
    expect((await store.head("t.md"))?.etag).toBe(etag);
    expect(store.stats().tagging).toBe(4);
  });
});

describe("RequestModel", () => {
  it("admits a burst per partition and class, then one request per interval", () => {
    // Prepare: 1,000 reads a second (one a millisecond), a bucket of 3.
    const model = new RequestModel({ latency: { readsPerSecond: 1000, writesPerSecond: 1000, burstMs: 3 } });
    const throttle = (kind: "GET" | "PUT", at: number) => model.admit(kind, "k", 0, at).throttleMs;

    // Act
    const burst = [0, 0, 0, 0, 0].map((at) => throttle("GET", at));
    const writes = [throttle("PUT", 0), throttle("PUT", 0)];
    const later = throttle("GET", 100);

    // Assess
    expect(burst).toEqual([0, 0, 0, 1, 2]);
    expect(writes).toEqual([0, 0]);
    expect(later).toBe(0);
    expect(model.admit("GET", "k", 170_000, 200).serviceMs).toBeCloseTo(S3_LATENCY.firstByteMs.GET + 2);
  });

  it("sleeps the modelled time times the scale on the clock it is given, at most `connections` at once", async () => {
    // Prepare: a clock whose sleeps end when the test says so.
    const sleeps: { ms: number; end: () => void }[] = [];
    const clock = {
      now: () => 0,
      sleep: (ms: number) => new Promise<void>((end) => sleeps.push({ ms, end })),
    };
    const model = new RequestModel({ scale: 0.5, connections: 2, clock, latency: { readsPerSecond: 1e9 } });

    // Act
    const requests = [model.run("GET", "a", 0), model.run("HEAD", "b", 0), model.run("GET", "c", 0)];
    await new Promise((done) => setImmediate(done));
    const whileTwoInFlight = sleeps.length;
    sleeps[0]?.end();
    await new Promise((done) => setImmediate(done));
    for (const sleep of sleeps) sleep.end();
    await Promise.all(requests);

    // Assess
    expect(whileTwoInFlight).toBe(2);
    expect(sleeps.map((sleep) => sleep.ms)).toEqual([
      S3_LATENCY.firstByteMs.GET / 2,
      S3_LATENCY.firstByteMs.HEAD / 2,
      S3_LATENCY.firstByteMs.GET / 2,
    ]);
  });

  it("names its sources", () => {
    expect(MODEL_SOURCES).toContain("3,500 PUT/COPY/POST/DELETE or 5,500 GET/HEAD");
    expect(MODEL_SOURCES).toContain("85-90 MB/s");
  });
});

describe("GeneratedContent", () => {
  const COUNT = 2400;

  it("is the same for the same seed, byte for byte and ETag for ETag, and differs for another", async () => {
    // Prepare
    const one = new GeneratedContent({ count: COUNT, seed: 42, scale: 0 });
    const again = new GeneratedContent({ count: COUNT, seed: 42, scale: 0 });
    const other = new GeneratedContent({ count: COUNT, seed: 43, scale: 0 });

    // Act
    const [a, b, c] = await Promise.all([listed(one), listed(again), listed(other)]);
    const key = one.keyOf(123);

    // Assess
    expect(b).toEqual(a);
    expect(text((await again.get(key))?.body)).toBe(text((await one.get(key))?.body));
    expect(c.map((info) => info.key)).toEqual(a.map((info) => info.key));
    expect(c.filter((info, i) => info.etag !== a[i]?.etag).length).toBeGreaterThan(COUNT / 2);
  });

  it("lists every article once, in key order, with the ETag and size of the bytes GET renders", async () => {
    // Prepare
    const content = new GeneratedContent({ count: COUNT, seed: 7, scale: 0 });

    // Act
    const all = await listed(content);
    const news2016 = await listed(content, "news/2016/");
    const samples = await Promise.all([0, 1, 777, COUNT - 1].map((i) => content.get(content.keyOf(i))));

    // Assess
    const keys = all.map((info) => info.key);
    expect(keys).toHaveLength(COUNT);
    expect([...keys].sort()).toEqual(keys);
    expect(new Set(keys.map((key) => key.split("/")[0]))).toEqual(new Set(SECTIONS));
    expect(keys[0]).toMatch(/^analysis\/2015\/01\/article-0000000\.md$/);
    expect(new Set(keys.map((key) => key.split("/").slice(1, 3).join("/"))).size).toBe(120);
    expect(news2016.map((info) => info.key)).toEqual(keys.filter((key) => key.startsWith("news/2016/")));
    expect(content.counts().LIST).toBe(3 + 1);
    for (const object of samples) {
      const info = all.find((entry) => entry.key === object?.key);
      expect(info).toEqual({
        key: object?.key,
        etag: md5(object?.body ?? new Uint8Array()),
        lastModified: object?.lastModified,
        size: object?.body.byteLength,
      });
      expect(object?.body.byteLength).toBeGreaterThan(1500);
      expect(object?.body.byteLength).toBeLessThan(3000);
    }
  });

  it("renders articles the parser reads: a title, a date in its month, an author and 2-3 tags", async () => {
    const content = new GeneratedContent({ count: COUNT, seed: 7, scale: 0 });
    const tags = new Set<string>();
    const authors = new Set<string>();
    for (let i = 0; i < COUNT; i += 7) {
      const key = content.keyOf(i);
      const article = parseArticle(key, (await content.get(key))?.body ?? new Uint8Array());
      expect(article.title).toMatch(new RegExp(`^Article ${i}: `));
      expect(article.date?.toISOString().slice(0, 7).replace("-", "/")).toBe(
        key.split("/").slice(1, 3).join("/"),
      );
      expect(article.tags.length === 2 || article.tags.length === 3).toBe(true);
      for (const tag of article.tags) tags.add(tag);
      for (const author of article.authors) authors.add(author.name);
    }
    expect(tags.size).toBeGreaterThan(40);
    expect(authors.size).toBe(20);
  });

  it("takes uploads: an edit wins over the generated article, a delete removes it, a new key joins the listing", async () => {
    // Prepare
    const content = new GeneratedContent({ count: COUNT, seed: 7, scale: 0 });
    const edited = content.keyOf(10);
    const deleted = content.keyOf(11);
    const generated = await content.head(edited);

    // Act
    const { etag } = await content.put(edited, "---\ntitle: Edited\n---\nNew text.\n");
    await content.delete(deleted);
    await content.put("news/2016/05/zz-upload.md", "---\ntitle: Uploaded\n---\n");
    await content.put("gone.md", "x");
    await content.delete("gone.md");
    const collision = await refusal(content.put(edited, "again", { ifNoneMatch: "*" }));
    const all = await listed(content);

    // Assess
    expect(collision).toBeInstanceOf(PreconditionFailedError);
    expect(text((await content.get(edited))?.body)).toBe("---\ntitle: Edited\n---\nNew text.\n");
    expect(etag).not.toBe(generated?.etag);
    expect(all.find((info) => info.key === edited)).toMatchObject({ etag, size: 32 });
    expect(await content.get(deleted)).toBeUndefined();
    expect(all.some((info) => info.key === deleted)).toBe(false);
    expect(all.some((info) => info.key === "gone.md")).toBe(false);
    const keys = all.map((info) => info.key);
    expect(keys).toHaveLength(COUNT);
    expect([...keys].sort()).toEqual(keys);
    expect(keys).toContain("news/2016/05/zz-upload.md");
  });
});
