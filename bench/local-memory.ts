/**
 * Section 9 of BENCHMARKS.md: `feedpub build --force` of a generated site on this machine, as
 * map/reduce in worker threads and as one rebuild in one thread (FEEDPUB_MAP_REDUCE_MIN above the
 * site's size), side by side: wall time and peak resident memory of the process (GNU time's
 * maximum resident set size, worker threads included).
 *
 *   npx tsx bench/local-memory.ts [--articles 100000]
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_GROUP_HEAP_MB, DEFAULT_REDUCE_HEAP_MB } from "../functions/engine/whole/site.ts";
import { generateCorpus } from "./corpus.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const WORK = join(REPO, "bench/.work/local-memory");
/**
 * The corpus ends an hour before this date, one article an hour, so that none is scheduled: a
 * news site's archive. (Until session 10 it began in 2020, and at 100,000 articles 40% of it lay
 * in the future; every scheduled article is a planning candidate of each of its feeds.)
 */
export const CORPUS_UNTIL = new Date("2026-11-01T00:00:00Z");

/** No heap limits for the worker threads (the default until session 11: Node's own). */
export const NO_LIMITS = { FEEDPUB_WORKER_HEAP_MB: "0", FEEDPUB_REDUCE_HEAP_MB: "0" };

interface Build {
  readonly ms: number;
  readonly rssMb: number;
  /** Jobs that ran out of their soft heap limit and ran once more without one (the CLI says so). */
  readonly retried: number;
}

export interface LocalFigures {
  readonly articles: number;
  /** The default: soft heap limits (DEFAULT_GROUP_HEAP_MB, DEFAULT_REDUCE_HEAP_MB). */
  readonly mapReduce: Build;
  /** The same with NO_LIMITS. */
  readonly unlimited: Build;
  readonly inline: Build;
}

function build(site: string, env: Record<string, string>): Build {
  const out = join(site, "out");
  const started = performance.now();
  const result = spawnSync(
    "/usr/bin/time",
    [
      "-f",
      "%M",
      process.execPath,
      join(REPO, "bin/feedpub.mjs"),
      "build",
      "--content",
      join(site, "content"),
      "--out",
      out,
      "--config",
      join(site, "feedpub.config.yaml"),
      "--force",
    ],
    { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 64 * 1024 * 1024 },
  );
  const ms = performance.now() - started;
  const stderr = result.stderr.toString().trim();
  if (result.status !== 0) throw new Error(`feedpub build failed: ${stderr.slice(-2000)}`);
  const lines = stderr.split("\n");
  const kb = Number(lines.pop());
  const retried = lines.filter((line) => line.includes("ran once more without one")).length;
  return { ms, rssMb: kb / 1024, retried };
}

export async function localMemory(articles: number, log: (line: string) => void): Promise<LocalFigures> {
  const site = join(WORK, `${articles}-until-${CORPUS_UNTIL.toISOString().slice(0, 10)}`);
  if (!existsSync(join(site, "content"))) {
    log(`  generating ${articles} articles`);
    await generateCorpus(join(site, "content"), articles, undefined, CORPUS_UNTIL);
  }
  await mkdir(site, { recursive: true });
  await writeFile(
    join(site, "feedpub.config.yaml"),
    'title: "Local memory"\nurl: "https://news.example.test/"\n',
  );
  const fresh = async () => rm(join(site, "out"), { recursive: true, force: true });
  await fresh();
  log("  map/reduce build");
  const mapReduce = build(site, {});
  await fresh();
  log("  map/reduce build without heap limits");
  const unlimited = build(site, NO_LIMITS);
  await fresh();
  log("  one-thread build");
  const inline = build(site, { FEEDPUB_MAP_REDUCE_MIN: String(articles + 1) });
  await fresh();
  return { articles, mapReduce, unlimited, inline };
}

export async function localSection(
  lines: string[],
  articles: number,
  log: (line: string) => void,
): Promise<void> {
  log(`9. local build of ${articles} articles`);
  const f = await localMemory(articles, log);
  const s = (ms: number) => `${(ms / 1000).toFixed(0)} s`;
  lines.push(
    `## 9. A local build of ${articles.toLocaleString("en")} articles: map/reduce against one rebuild`,
    "",
    "`feedpub build --force` of bench/corpus.ts's articles (~4.5 KB Markdown each, one an hour, the last on",
    `${CORPUS_UNTIL.toISOString().slice(0, 10)}: none scheduled) into an empty folder, in a fresh process with the default settings;`,
    "peak memory is the process's maximum resident set (worker threads included), by GNU time.",
    "",
    "| | wall time | peak memory | jobs retried without a limit |",
    "| --- | --- | --- | --- |",
    `| map/reduce (the default from 2,000 articles): group workers in worker threads on every core, soft heap limits of ${DEFAULT_GROUP_HEAP_MB} MB a group thread and ${DEFAULT_REDUCE_HEAP_MB} MB for the reduce's | ${s(f.mapReduce.ms)} | **${f.mapReduce.rssMb.toFixed(0)} MB** | ${f.mapReduce.retried} |`,
    `| the same with no heap limits (${Object.entries(NO_LIMITS)
      .map(([name, value]) => `\`${name}=${value}\``)
      .join(
        " ",
      )}; the default until session 11) | ${s(f.unlimited.ms)} | ${f.unlimited.rssMb.toFixed(0)} MB | ${f.unlimited.retried} |`,
    `| one rebuild in one thread (\`FEEDPUB_MAP_REDUCE_MIN=${articles + 1}\`) | ${s(f.inline.ms)} | ${f.inline.rssMb.toFixed(0)} MB | – |`,
    "",
    "Target (issue 15): a 100,000-article local build peaks at ≤ 512 MB.",
    "",
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { articles: { type: "string", default: "100000" } } });
  const lines: string[] = [];
  await localSection(lines, Number(values.articles), (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${lines.join("\n")}\n`);
}
