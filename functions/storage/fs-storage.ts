import { createHash } from "node:crypto";
import { constants, lstatSync, readFileSync } from "node:fs";
import { lstat, mkdir, readdir, realpath, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { InvalidKeyError, PreconditionFailedError } from "./errors.ts";
import { checkKey } from "./keys.ts";
import type { ObjectInfo, PutOptions, Storage, StoredObject } from "./port.ts";

function md5(bytes: Uint8Array): string {
  return `"${createHash("md5").update(bytes).digest("hex")}"`;
}

/**
 * The storage port on a local folder. Keys map to files under `root`; a resolved path outside
 * `root` is refused even if a key slipped past the key check. Writes go to a temporary file
 * and are renamed into place, so readers never see a half-written feed.
 */
export class FsStorage implements Storage {
  readonly root: string;
  private realRoot: string | undefined;
  private walkedDirs = new Set<string>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    const path = resolve(this.root, ...checkKey(key).split("/"));
    if (!path.startsWith(this.root + sep)) throw new Error(`key escapes the storage root: ${key}`);
    return path;
  }

  /**
   * The key check is lexical, so a symbolic link to a folder outside the root (root/dir -> /etc)
   * would let put and delete reach outside it. Throws unless the nearest existing folder on the
   * way to `path` resolves inside the root; missing folders are then created under it by put.
   */
  private async assertParentInside(path: string, key: string): Promise<void> {
    let dir = dirname(path);
    for (;;) {
      const real = await realpath(dir).catch((error: unknown) => {
        if (isMissing(error)) return undefined;
        throw error;
      });
      if (real !== undefined) {
        const root = await realpath(this.root);
        if (real === root || real.startsWith(root + sep)) return;
        throw new InvalidKeyError(key, "leads outside the storage root through a symbolic link");
      }
      if (dir === this.root) return; // nothing exists yet: put creates it all under the root
      dir = dirname(dir);
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const path = this.path(key);
    try {
      // A symbolic link must not lead outside the root: the file itself is opened with
      // O_NOFOLLOW and its folder's real path is checked, unless the last listing walked it.
      if (!(await this.insideRoot(dirname(path)))) return undefined;
      // Synchronous calls on purpose: for small files they cost a fifth of the async round
      // trips through libuv's thread pool, which dominated builds of big folders.
      const info = lstatSync(path);
      if (!info.isFile()) return undefined;
      const body = readFileSync(path, {
        flag: (constants.O_RDONLY | constants.O_NOFOLLOW) as unknown as string,
      });
      return { key, body, etag: md5(body), lastModified: info.mtime, size: body.byteLength };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  private async insideRoot(dir: string): Promise<boolean> {
    // Folders the last listing walked were real folders (the walk does not follow links);
    // skipping realpath for them is what keeps reading thousands of articles fast.
    if (this.walkedDirs.has(dir)) return true;
    const real = await realpath(dir);
    this.realRoot ??= await realpath(this.root);
    return real === this.realRoot || real.startsWith(this.realRoot + sep);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const found = await this.get(key);
    if (!found) return undefined;
    const { body: _body, ...info } = found;
    return info;
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<{ etag: string }> {
    const path = this.path(key);
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    if (options.ifMatch !== undefined || options.ifNoneMatch !== undefined) {
      const current = await this.head(key);
      if (options.ifNoneMatch === "*" && current) throw new PreconditionFailedError(key);
      if (options.ifMatch !== undefined && current?.etag !== options.ifMatch)
        throw new PreconditionFailedError(key);
    }
    await this.assertParentInside(path, key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, path);
    // Computed only if asked for: a build writes megabytes of feeds whose ETag nobody reads back.
    let etag: string | undefined;
    return {
      get etag() {
        etag ??= md5(bytes);
        return etag;
      },
    };
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    await this.assertParentInside(path, key);
    await rm(path, { force: true });
  }

  /** Removes a folder and everything in it (a whole-site run's partial results, once committed). */
  async deleteFolder(prefix: string): Promise<void> {
    const path = this.path(prefix.replace(/\/+$/, ""));
    await this.assertParentInside(path, prefix);
    await rm(path, { recursive: true, force: true });
  }

  /** MD5s of files this process listed, by path, with the size and mtime they were read at. */
  private readonly hashed = new Map<string, { size: number; mtimeMs: number; etag: string }>();

  /**
   * As S3 does, a listing reports the MD5 of a file (articles and feeds are small), so that it
   * matches what `get` reports and a rebuild can tell unchanged files without reading them again.
   * Larger files (media) get a version stamp of size and mtime instead, never read here.
   */
  private async listedEtag(key: string, info: { size: number; mtimeMs: number }): Promise<string> {
    const stamp = `"${info.size.toString(16)}-${info.mtimeMs.toString(16)}"`;
    if (info.size > HASHED_LIST_BYTES) return stamp;
    const known = this.hashed.get(key);
    if (known && known.size === info.size && known.mtimeMs === info.mtimeMs) return known.etag;
    // A file this adapter cannot read (a name it refuses, no permission) keeps the stamp: reading
    // it is what reports its problem.
    const object = await this.get(key).catch(() => undefined);
    if (!object) return stamp;
    this.hashed.set(key, { size: info.size, mtimeMs: info.mtimeMs, etag: object.etag });
    return object.etag;
  }

  async *list(prefix = ""): AsyncIterable<ObjectInfo> {
    const keys: string[] = [];
    const dirs = new Set<string>();
    await walk(this.root, keys, dirs);
    this.walkedDirs = dirs;
    keys.sort();
    const wanted = keys.filter((key) => key.startsWith(prefix));
    // Stat in parallel batches: one at a time is what makes big folders slow.
    for (let start = 0; start < wanted.length; start += STAT_BATCH) {
      const batch = wanted.slice(start, start + STAT_BATCH);
      const infos = await Promise.all(
        batch.map((key) => lstat(join(this.root, ...key.split("/"))).catch(() => undefined)),
      );
      for (const [index, key] of batch.entries()) {
        const info = infos[index];
        if (!info?.isFile()) continue;
        yield { key, etag: await this.listedEtag(key, info), lastModified: info.mtime, size: info.size };
      }
    }
  }
}

const STAT_BATCH = 256;
/** Files up to this size are listed with their MD5, as S3 lists single-part uploads. */
const HASHED_LIST_BYTES = 1024 * 1024;

async function walk(dir: string, out: string[], dirs: Set<string>, root = dir): Promise<void> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  dirs.add(dir);
  for (const entry of entries) {
    const full = join(dir, entry.name);
    // Symbolic links are not followed: content may not pull in files from elsewhere.
    if (entry.isDirectory()) await walk(full, out, dirs, root);
    else if (entry.isFile() && !entry.name.endsWith(".tmp"))
      out.push(relative(root, full).split(sep).join("/"));
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  // ELOOP: O_NOFOLLOW met a symbolic link, which is treated as absent.
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR" || code === "ELOOP";
}
