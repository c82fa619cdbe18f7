import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidKeyError, PreconditionFailedError } from "../../functions/storage/errors.ts";
import { FsStorage } from "../../functions/storage/fs-storage.ts";

const SECRET = "outside-the-root-secret-93c1";

let base: string;
let root: string;
let outside: string;
let storage: FsStorage;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "feedpub-storage-"));
  root = join(base, "root");
  outside = join(base, "outside");
  await mkdir(root);
  await mkdir(outside);
  await writeFile(join(outside, "secret.txt"), SECRET);
  storage = new FsStorage(root);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function keys(prefix?: string): Promise<string[]> {
  const found: string[] = [];
  for await (const info of storage.list(prefix)) found.push(info.key);
  return found;
}

describe("FsStorage keys", () => {
  const BAD_KEYS = [
    "",
    "..",
    "../secret.txt",
    "../outside/secret.txt",
    "a/../../outside/secret.txt",
    "a/..",
    ".",
    "./a.txt",
    "a/./b.txt",
    "/etc/passwd",
    `/${"x"}`,
    "a\\..\\..\\outside\\secret.txt",
    "..\\outside\\secret.txt",
    "a//b.txt",
    "a/",
    "/",
    "a\u0000b",
    "a\nb",
    "x".repeat(1025),
  ];

  it.each(BAD_KEYS.map((k) => [JSON.stringify(k).slice(0, 40), k]))(
    "refuses %s for get, head, put and delete",
    async (_, key) => {
      await expect(storage.get(key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(storage.head(key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(storage.put(key, "pwned")).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(storage.delete(key)).rejects.toBeInstanceOf(InvalidKeyError);
    },
  );

  it("wrote nothing anywhere while refusing keys", async () => {
    for (const key of BAD_KEYS) await storage.put(key, "pwned").catch(() => undefined);
    expect(await readdir(root)).toEqual([]);
    expect((await readdir(outside)).sort()).toEqual(["secret.txt"]);
    expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe(SECRET);
  });

  it("accepts ordinary nested keys and round-trips bytes", async () => {
    const bytes = Uint8Array.from([0, 1, 2, 255]);
    const { etag } = await storage.put("feeds/sub/a b.bin", bytes);
    const got = await storage.get("feeds/sub/a b.bin");
    expect(got && Buffer.from(got.body).equals(Buffer.from(bytes))).toBe(true);
    expect(got?.etag).toBe(etag);
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect((await storage.head("feeds/sub/a b.bin"))?.size).toBe(4);
    expect(await keys()).toEqual(["feeds/sub/a b.bin"]);
    await storage.delete("feeds/sub/a b.bin");
    expect(await storage.get("feeds/sub/a b.bin")).toBeUndefined();
  });
});

describe("FsStorage and symbolic links", () => {
  it("never reads a file through a link that points outside the root, and does not list it", async () => {
    await writeFile(join(root, "plain.txt"), "inside");
    await symlink(join(outside, "secret.txt"), join(root, "leak.txt"));
    await symlink(outside, join(root, "leakdir"));
    await symlink("../outside/secret.txt", join(root, "relative-leak.md"));

    expect(await storage.get("leak.txt")).toBeUndefined();
    expect(await storage.head("leak.txt")).toBeUndefined();
    expect(await storage.get("leakdir/secret.txt")).toBeUndefined();
    expect(await storage.get("relative-leak.md")).toBeUndefined();
    expect(await keys()).toEqual(["plain.txt"]);
    expect(await keys("leak")).toEqual([]);
  });

  it("never writes or deletes through a linked folder that points outside the root", async () => {
    await symlink(outside, join(root, "leakdir"));
    await expect(storage.put("leakdir/secret.txt", "overwritten")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(storage.put("leakdir/new.txt", "planted")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(storage.put("leakdir/sub/deeper/new.txt", "planted")).rejects.toBeInstanceOf(
      InvalidKeyError,
    );
    await expect(storage.delete("leakdir/secret.txt")).rejects.toBeInstanceOf(InvalidKeyError);
    expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe(SECRET);
    expect((await readdir(outside)).sort()).toEqual(["secret.txt"]);
    // Folders that do not exist yet are still created under the root.
    await storage.put("fresh/sub/a.txt", "ok");
    expect(await readFile(join(root, "fresh/sub/a.txt"), "utf8")).toBe("ok");
    await storage.delete("fresh/sub/a.txt");
    await storage.delete("never/was/there.txt");
  });

  it("replaces a linked file on put instead of writing through it", async () => {
    await symlink(join(outside, "secret.txt"), join(root, "leak.txt"));
    await storage.put("leak.txt", "replaced");
    expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe(SECRET);
    expect((await storage.get("leak.txt"))?.body.toString()).toBe("replaced");
  });

  it("still works when the root itself is reached through a link, even before it exists", async () => {
    await symlink(outside, join(base, "linked"));
    const linked = new FsStorage(join(base, "linked", "store"));
    // First call while the root is missing, then create it with a write.
    expect(await linked.get("a.txt")).toBeUndefined();
    await linked.put("a.txt", "hello");
    expect((await linked.get("a.txt"))?.body.toString()).toBe("hello");
    expect((await linked.head("a.txt"))?.size).toBe(5);
  });
});

describe("FsStorage conditional writes", () => {
  it('ifNoneMatch "*" creates a missing key and refuses an existing one', async () => {
    await storage.put("state.json", "v1", { ifNoneMatch: "*" });
    await expect(storage.put("state.json", "v2", { ifNoneMatch: "*" })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    expect((await storage.get("state.json"))?.body.toString()).toBe("v1");
  });

  it("ifMatch writes only over the expected version", async () => {
    const { etag: v1 } = await storage.put("state.json", "v1");
    const { etag: v2 } = await storage.put("state.json", "v2", { ifMatch: v1 });
    expect(v2).not.toBe(v1);
    const stale = storage.put("state.json", "v3", { ifMatch: v1 });
    await expect(stale).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(stale).rejects.toThrow(/precondition failed for state\.json/);
    expect((await storage.get("state.json"))?.body.toString()).toBe("v2");
    await expect(storage.put("missing.json", "x", { ifMatch: v2 })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    expect(await storage.get("missing.json")).toBeUndefined();
  });

  it("a refused write leaves no temporary files behind", async () => {
    await storage.put("a.txt", "1");
    await expect(storage.put("a.txt", "2", { ifNoneMatch: "*" })).rejects.toThrow();
    expect(await readdir(root)).toEqual(["a.txt"]);
  });
});
