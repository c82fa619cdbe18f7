#!/usr/bin/env node
// The CLI is TypeScript. `npm run compile` (run by npm install, start, build, check and test)
// bundles it into dist/feedpub.mjs, which starts in a fraction of the time; when that bundle is
// missing or older than any source file, tsx compiles the sources on the fly instead.
import { readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dist = new URL("../dist/feedpub.mjs", import.meta.url);
const sources = fileURLToPath(new URL("../functions", import.meta.url));

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

let main;
if (bundleIsFresh()) {
  ({ main } = await import(dist.href));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../functions/cli/main.ts"));
}
process.exitCode = await main(process.argv.slice(2));
