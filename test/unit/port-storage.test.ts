/**
 * PortStorage and serveStorage: the Storage port across a MessagePort, as whole-site group
 * workers reach the main thread's store. A real worker thread first, then the details in one
 * thread over a MessageChannel (errors, early-ended listings, whose buffers get transferred).
 */
import { MessageChannel, Worker, type WorkerOptions } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { ModelStorage, md5Etag } from "../../bench/model-storage.ts";
import { InvalidKeyError, PreconditionFailedError } from "../../functions/storage/errors.ts";
import type { ObjectInfo, Storage, StoredObject } from "../../functions/storage/port.ts";
import { PortStorage, serveStorage } from "../../functions/storage/port-storage.ts";

const WORKER = new URL("../support/port-storage-worker.ts", import.meta.url);

/**
 * A worker thread running a TypeScript file. On Node 20, `execArgv: ["--import", "tsx"]` does
 * not reach a worker's module loading ("Unknown file extension .ts"), so the worker starts from
 * a line of JavaScript that loads the file through tsx's own API.
 */
function tsWorker(file: URL, options: WorkerOptions): Worker {
  const tsx = import.meta.resolve("tsx/esm/api");
  const code = `import(${JSON.stringify(tsx)}).then((tsx) => tsx.tsImport(${JSON.stringify(file.href)}, ${JSON.stringify(file.href)}));`;
  return new Worker(code, { ...options, eval: true });
}
const text = (object: StoredObject | undefined) =>
  object ? Buffer.from(object.body).toString("utf8") : undefined;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A PortStorage in this thread, served from `storage` over a fresh channel. */
function overChannel(storage: Storage, options?: ConstructorParameters<typeof PortStorage>[1]) {
  const { port1, port2 } = new MessageChannel();
  const stop = serveStorage(storage, port1);
  cleanups.push(() => {
    stop();
    port1.close();
  });
  return new PortStorage(port2, options);
}

describe("PortStorage in a worker thread", () => {
  it("reads, writes, lists and deletes the main thread's ModelStorage", async () => {
    // Prepare
    const store = new ModelStorage({ scale: 0, date: () => new Date("2026-01-01T00:00:00Z") });
    const seed = await store.put("in/seed.md", "---\ntitle: Seed\n---\nBody.\n");
    await store.put("in/delete-me.md", "gone soon");
    for (let i = 0; i < 2500; i++) await store.put(`many/${String(i).padStart(4, "0")}.md`, `${i}`);
    store.reset();
    const { port1, port2 } = new MessageChannel();
    const stop = serveStorage(store, port1);

    // Act
    const worker = tsWorker(WORKER, { workerData: { port: port2 }, transferList: [port2] });
    const report = await new Promise<Record<string, unknown>>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`worker exited with ${code} before reporting`)));
    });
    const exit = await new Promise<number>((resolve) => worker.once("exit", resolve));
    stop();
    port1.close();

    // Assess
    expect(report).toEqual({
      seeded: { text: "---\ntitle: Seed\n---\nBody.\n", etag: seed.etag, size: 26 },
      missing: true,
      written: md5Etag(new TextEncoder().encode("written as bytes")),
      bytesAfterPut: "written as bytes",
      conflict: "PreconditionFailedError true",
      listed: { count: 2500, first: "many/0000.md", last: "many/2499.md" },
      firstThree: ["many/0000.md", "many/0001.md", "many/0002.md"],
    });
    // The worker exits by itself: an idle PortStorage does not hold its thread open.
    expect(exit).toBe(0);
    expect(text(await store.get("out/bytes.txt"))).toBe("written as bytes");
    expect((await store.get("out/bytes.txt"))?.contentType).toBe("text/plain");
    expect(text(await store.get("out/text.txt"))).toBe("written as text");
    expect(text(await store.get("in/seed.md"))).toBe("---\ntitle: Seed\n---\nBody.\n");
    expect(await store.head("in/delete-me.md")).toBeUndefined();
    // Three pages for the full listing; the one left early asked for one page only.
    expect(store.counts()).toMatchObject({ PUT: 3, DELETE: 1, LIST: 4 });
  });
});

describe("PortStorage over a MessageChannel", () => {
  it("brings the port's own errors back as themselves, and others with their name and message", async () => {
    // Prepare
    const store = new ModelStorage({ scale: 0 });
    const remote = overChannel(store);
    const { etag } = await remote.put("a.md", "one");

    // Act: each rejection caught at once, so none goes unhandled while another is awaited.
    const caught = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: unknown) => error,
      );
    const failingStore = { get: () => Promise.reject(new TypeError("disk on fire")) } as unknown as Storage;
    const [stale, invalid, failing] = await Promise.all([
      caught(remote.put("a.md", "two", { ifMatch: '"0123456789abcdef0123456789abcdef"' })),
      caught(remote.get("../escape.md")),
      caught(overChannel(failingStore).get("a.md")),
    ]);

    // Assess
    expect(stale).toBeInstanceOf(PreconditionFailedError);
    expect(stale).toMatchObject({ key: "a.md" });
    expect(invalid).toBeInstanceOf(InvalidKeyError);
    expect(invalid).toMatchObject({ key: "../escape.md" });
    expect(failing).toMatchObject({ name: "TypeError", message: "disk on fire" });
    expect(await remote.head("a.md")).toMatchObject({ key: "a.md", etag, size: 3 });
  });

  it("ends the serving side's listing when the consumer stops early", async () => {
    // Prepare
    let closed = false;
    const storage = {
      async *list(): AsyncIterable<ObjectInfo> {
        try {
          for (let i = 0; ; i++) yield { key: `k${i}`, etag: '""', lastModified: new Date(0), size: 0 };
        } finally {
          closed = true;
        }
      },
    } as unknown as Storage;
    const remote = overChannel(storage);

    // Act
    const seen: string[] = [];
    for await (const info of remote.list()) {
      seen.push(info.key);
      if (seen.length === 1500) break;
    }

    // Assess
    expect(seen.at(-1)).toBe("k1499");
    expect(closed).toBe(true);
  });

  it("transfers a body that owns its buffer and copies a view into a bigger one", async () => {
    // Prepare
    const owned = new Uint8Array([1, 2, 3]);
    const shared = new Uint8Array([9, 9, 4, 5, 6, 9]);
    const bodies: Record<string, Uint8Array> = { "owned.bin": owned, "view.bin": shared.subarray(2, 5) };
    const storage = {
      get: async (key: string) => ({
        key,
        body: bodies[key],
        etag: '""',
        lastModified: new Date(0),
        size: 0,
      }),
    } as unknown as Storage;
    const remote = overChannel(storage);

    // Act
    const gotOwned = await remote.get("owned.bin");
    const gotView = await remote.get("view.bin");

    // Assess
    expect([...(gotOwned?.body ?? [])]).toEqual([1, 2, 3]);
    expect(owned.byteLength).toBe(0); // detached: it was moved, not copied
    expect([...(gotView?.body ?? [])]).toEqual([4, 5, 6]);
    expect([...shared]).toEqual([9, 9, 4, 5, 6, 9]); // the rest of the buffer is still its owner's
  });

  it("reports the adapter's ETag by default, or the bytes' MD5 without asking for it", async () => {
    // Prepare
    const store = new ModelStorage({ scale: 0 });
    const reported = overChannel(store);
    const local = overChannel(store, { md5Etags: true });

    // Act
    const first = await reported.put("x.txt", "same bytes");
    const second = await local.put("y.txt", new TextEncoder().encode("same bytes"));

    // Assess
    expect(first.etag).toBe((await store.head("x.txt"))?.etag);
    expect(second.etag).toBe(first.etag);
  });

  it("reads and writes object tags when told the served storage has them", async () => {
    // Prepare
    const store = new ModelStorage({ scale: 0 });
    await store.put("tagged.md", "x");
    const remote = overChannel(store, { tagging: true });

    // Act
    const wrote = await remote.tagging?.write("tagged.md", [{ key: "feedpub-status", value: "published" }]);
    const missing = await remote.tagging?.write("missing.md", []);

    // Assess
    expect([wrote, missing]).toEqual([true, false]);
    expect(await remote.tagging?.read("tagged.md")).toEqual([{ key: "feedpub-status", value: "published" }]);
    expect(overChannel(store).tagging).toBeUndefined();
  });
});
