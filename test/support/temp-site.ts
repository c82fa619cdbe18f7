import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { FsStorage } from "../../functions/storage/fs-storage.ts";

/** A site in a temporary folder: ROOT/content (the articles) and ROOT/out (what is published). */
export interface TempSite {
  readonly root: string;
  readonly content: FsStorage;
  readonly output: FsStorage;
}

/**
 * A fresh temporary site for every test of the file, removed after it. `use` receives it before
 * each test (tests keep their own `root`, `content` and `output` variables).
 */
export function useTempSite(prefix: string, use: (site: TempSite) => void): void {
  let root: string | undefined;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), prefix));
    use({ root, content: new FsStorage(join(root, "content")), output: new FsStorage(join(root, "out")) });
  });
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });
}

/** Writes an article (or any file) under ROOT/content, creating its folders. */
export async function writeContent(root: string, path: string, body: string | Uint8Array): Promise<void> {
  const full = join(root, "content", path);
  await mkdir(dirname(full), { recursive: true });
  await writeFile(full, body);
}
