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
import { generateCorpus } from "./corpus.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const WORK = join(REPO, "bench/.work/local-memory");
/**
 * The corpus ends an hour before this date, one article an hour, so that none is scheduled: a
 * news site's archive. (Until session 10 it began in 2020, and at 100,000 articles 40% of it lay
 * in the future; every scheduled article is a planning candidate of each of its feeds.)
 */
export const CORPUS_UNTIL = new Date("2026-11-01T00:00:00Z");

/** Heap limits for the worker threads, as a machine with little memory would set them. */
export const LIMITS = { FEEDPUB_WORKER_HEAP_MB: "192", FEEDPUB_REDUCE_HEAP_MB: "384" };

export interface LocalFigures {
  readonly articles: number;
  readonly mapReduce: { readonly ms: number; readonly rssMb: number };
  /** The same with the heap limits of LIMITS. */
  readonly limited: { readonly ms: number; readonly rssMb: number };
  readonly inline: { readonly ms: number; readonly rssMb: number };
}

function build(site: string, env: Record<string, string>): { ms: number; rssMb: number } {
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
  const kb = Number(stderr.split("\n").pop());
  return { ms, rssMb: kb / 1024 };
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
  log("  map/reduce build with heap limits");
  const limited = build(site, LIMITS);
  await fresh();
  log("  one-thread build");
  const inline = build(site, { FEEDPUB_MAP_REDUCE_MIN: String(articles + 1) });
  await fresh();
  return { articles, mapReduce, limited, inline };
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
    "| | wall time | peak memory |",
    "| --- | --- | --- |",
    `| map/reduce, group workers in ${"worker threads on every core"} (the default from 2,000 articles) | ${s(f.mapReduce.ms)} | **${f.mapReduce.rssMb.toFixed(0)} MB** |`,
    `| the same with ${Object.entries(LIMITS)
      .map(([name, value]) => `\`${name}=${value}\``)
      .join(" ")} | ${s(f.limited.ms)} | **${f.limited.rssMb.toFixed(0)} MB** |`,
    `| one rebuild in one thread (\`FEEDPUB_MAP_REDUCE_MIN=${articles + 1}\`) | ${s(f.inline.ms)} | ${f.inline.rssMb.toFixed(0)} MB |`,
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
