#!/usr/bin/env node
// The CLI is TypeScript. `npm run compile` (run by npm install, start, build, check and test)
// bundles it into dist/feedpub.mjs, which starts in a fraction of the time. A bundle older than
// any source (after a git pull or checkout, an edit, or when `npx feedpub` runs with no npm
// script before it) is rebuilt here with the same compile script, once, in about 0.1 s: compiling
// the sources with tsx on every run instead cost a second each time. tsx remains the fallback when
// the bundle cannot be made (no esbuild in a production install, a read-only folder, a syntax
// error, which tsx then reports with its location).
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const distDir = join(root, "dist");
const dist = join(distDir, "feedpub.mjs");
const sources = join(root, "functions");

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function bundleIsFresh() {
  try {
    return statSync(dist).mtimeMs >= newestSource(sources);
  } catch {
    return false;
  }
}

/**
 * Runs package.json's compile script into a private folder, then moves the chunks, the worker
 * entry and, last, the CLI's entry into dist/: each rename is atomic and chunks are named by their content, so a feedpub
 * starting meanwhile (tests start many at once) loads the old bundle or the new one, never half.
 */
function refreshBundle() {
  let work;
  try {
    const script = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts?.compile;
    if (typeof script !== "string") return;
    mkdirSync(distDir, { recursive: true });
    work = mkdtempSync(join(distDir, ".compile-"));
    const result = spawnSync("sh", ["-c", `${script} --outdir="$FEEDPUB_COMPILE_OUT"`], {
      cwd: root,
      env: {
        ...process.env,
        FEEDPUB_COMPILE_OUT: work,
        PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
      },
      stdio: "ignore",
    });
    if (result.status !== 0) return;
    const chunks = join(work, "chunks");
    mkdirSync(join(distDir, "chunks"), { recursive: true });
    for (const name of existsSync(chunks) ? readdirSync(chunks) : [])
      renameSync(join(chunks, name), join(distDir, "chunks", name));
    // Other entries (the whole-site group worker) before the CLI's own, which is moved last.
    for (const name of readdirSync(work))
      if (name.endsWith(".mjs") && name !== "feedpub.mjs") renameSync(join(work, name), join(distDir, name));
    renameSync(join(work, "feedpub.mjs"), dist);
  } catch {
    // Any failure leaves the old bundle (or none) in place; tsx runs the sources below.
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
}

/** How the CLI is loaded this time (tests read it from FEEDPUB_DEBUG_LOADER). */
let loader = "bundle";
if (!bundleIsFresh()) {
  refreshBundle();
  loader = "rebuilt bundle";
}
let main;
if (bundleIsFresh()) {
  ({ main } = await import(pathToFileURL(dist).href));
} else {
  loader = "tsx";
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../functions/cli/main.ts"));
}
if (process.env.FEEDPUB_DEBUG_LOADER) process.stderr.write(`feedpub: loaded from ${loader}\n`);
process.exitCode = await main(process.argv.slice(2));
