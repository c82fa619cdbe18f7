import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import Module from "node:module";
import { join } from "node:path";

/** The commit a bench measures, and whether functions/ had uncommitted changes. */
export function commitOf(repo: string): string {
  const git = (...args: string[]) =>
    spawnSync("git", ["-C", repo, ...args], { encoding: "utf8" }).stdout.trim();
  const commit = git("rev-parse", "--short", "HEAD") || "unknown";
  // Uncommitted changes under functions/ are what is measured, so say so.
  return git("status", "--porcelain", "--", "functions")
    ? `${commit} + uncommitted changes in functions/`
    : commit;
}

/**
 * feed writes its XML through xml-js, which the CLI, the Lambda bundles and vitest all replace
 * with our own writer (see functions/core/render/xml-writer.ts); so does a bench process, so that
 * it measures the code that ships. feed is CommonJS: the alias goes into require's resolver.
 */
export function aliasXmlWriter(repo: string): void {
  const writer = join(repo, "functions/core/render/xml-writer.ts");
  const cjs = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const resolveFilename = cjs._resolveFilename;
  cjs._resolveFilename = function (request, ...rest) {
    return resolveFilename.call(this, request === "xml-js" && existsSync(writer) ? writer : request, ...rest);
  };
}
