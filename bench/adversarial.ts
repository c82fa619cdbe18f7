/**
 * The per-article budget on an adversarial corpus: every hostile file of bench/adversarial-*.ts
 * goes through bench/adversarial-worker.ts (a one-article site built with the real code, in a
 * fresh process), one at a time (two at once on two cores added half to some times), each killed after a wall-clock cap. The promise measured:
 * the slowest article parses and renders in ≤ 250 ms and adds ≤ 64 MB of peak memory.
 *
 *   npx tsx bench/adversarial.ts --repo DIR [--out FILE.json] [--seed N] [--quick]
 *        [--filter REGEX] [--cap-s 60] [--total-cap-s 1800] [--concurrency 1] [--list]
 *
 * --repo is the checkout whose functions/ are measured (this one by default), so an older commit
 * in a git worktree can be measured beside the current code with the same corpus. Also section 6
 * of `npm run bench` (bench/run.ts), against this checkout.
 */
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { adversarialCases, DEFAULT_SEED } from "./adversarial-corpus.ts";
import { type AdversarialCase, materialize, n } from "./adversarial-gen.ts";
import { renderAdversarial } from "./adversarial-report.ts";
import { commitOf } from "./measured-repo.ts";

export { adversarialCases, DEFAULT_SEED } from "./adversarial-corpus.ts";

const BENCH_REPO = fileURLToPath(new URL("..", import.meta.url));
const WORKER = fileURLToPath(new URL("./adversarial-worker.ts", import.meta.url));

export interface CaseResult {
  readonly id: string;
  readonly class: AdversarialCase["class"];
  readonly ext: AdversarialCase["ext"];
  readonly description: string;
  readonly bytes?: number;
  /** The per-article work as the worker timed it; null when it never reported (killed, crashed). */
  readonly ms: number | null;
  /** Peak RSS added; for a killed or crashed worker, a lower bound read from /proc (peakAtLeast). */
  readonly peakMB: number | null;
  readonly peakAtLeast?: boolean;
  readonly outcome: string;
  readonly timedOut?: boolean;
  /** The child's whole life: start-up, warm-up and the work. */
  readonly wallMs: number;
}

export interface AdversarialRun {
  readonly seed: number;
  readonly repo: string;
  readonly commit: string;
  readonly node: string;
  readonly date: string;
  readonly quick: boolean;
  readonly capMs: number;
  readonly totalCapMs: number;
  readonly elapsedMs: number;
  readonly results: readonly CaseResult[];
}

export interface RunOptions {
  readonly repo: string;
  readonly seed?: number;
  readonly quick?: boolean;
  /** Only the cases whose id matches. */
  readonly filter?: RegExp;
  readonly capMs?: number;
  /** No case starts after this much time has passed; the rest are recorded as skipped. */
  readonly totalCapMs?: number;
  readonly concurrency?: number;
  readonly log?: (line: string) => void;
}

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

/** Peak RSS so far of a running process (Linux), in kB. */
async function highWaterKb(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) : undefined;
}

/** The worker's last JSON line on stdout, if any. */
function lastJson(stdout: string): Record<string, unknown> | undefined {
  for (const line of stdout.trim().split("\n").reverse()) {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {}
  }
  return undefined;
}

/** One case in a fresh worker process, killed after `capMs`. */
export function runCase(
  entry: AdversarialCase,
  repo: string,
  seed: number,
  capMs: number,
): Promise<CaseResult> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ["--expose-gc", "--import", "tsx", WORKER, "--repo", repo, "--seed", String(seed), "--case", entry.id],
    { cwd: BENCH_REPO, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  let baselineKb: number | undefined;
  let hwmKb: number | undefined;
  let timedOut = false;
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk;
    baselineKb ??= lastJson(stdout)?.maxRssKb as number | undefined;
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const poll = setInterval(async () => {
    if (child.pid !== undefined) hwmKb = (await highWaterKb(child.pid)) ?? hwmKb;
  }, 200);
  const cap = setTimeout(async () => {
    if (child.pid !== undefined) hwmKb = (await highWaterKb(child.pid)) ?? hwmKb;
    // It may have finished while /proc was read: then its own report stands.
    if (child.exitCode !== null || child.signalCode !== null) return;
    timedOut = true;
    child.kill("SIGKILL");
  }, capMs);
  const base = { id: entry.id, class: entry.class, ext: entry.ext, description: entry.description };
  return new Promise((done) => {
    child.on("close", (code, signal) => {
      clearInterval(poll);
      clearTimeout(cap);
      const wallMs = Math.round(performance.now() - started);
      const report = lastJson(stdout);
      const lowerBound =
        baselineKb !== undefined && hwmKb !== undefined ? mb(Math.max(0, hwmKb - baselineKb)) : null;
      if (timedOut) {
        return done({
          ...base,
          ms: null,
          peakMB: lowerBound,
          peakAtLeast: true,
          outcome: `timeout > ${capMs / 1000} s`,
          timedOut,
          wallMs,
        });
      }
      if (report && typeof report.ms === "number") {
        const { ms, peakMB, outcome, bytes } = report as {
          ms: number;
          peakMB: number;
          outcome: string;
          bytes: number;
        };
        return done({ ...base, bytes, ms, peakMB, outcome, wallMs });
      }
      const why = stderr.trim().split("\n").filter(Boolean).slice(-3).join(" / ").slice(0, 200);
      const outcome = `crashed: ${signal ?? `exit ${code}`}${why ? `: ${why}` : ""}`;
      return done({ ...base, ms: null, peakMB: lowerBound, peakAtLeast: true, outcome, wallMs });
    });
  });
}

/** Runs the corpus (or a part of it) through the worker. */
export async function runAdversarial(options: RunOptions): Promise<AdversarialRun> {
  const seed = options.seed ?? DEFAULT_SEED;
  const capMs = options.capMs ?? 60_000;
  const totalCapMs = options.totalCapMs ?? 30 * 60_000;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const repo = resolve(options.repo);
  const cases = adversarialCases().filter(
    (entry) => (!options.quick || entry.quick) && (!options.filter || options.filter.test(entry.id)),
  );
  log(`adversarial corpus: ${cases.length} files, seed ${seed}, code of ${repo} (${commitOf(repo)})`);
  log(`  replay one: npx tsx bench/adversarial-worker.ts --repo ${repo} --seed ${seed} --case <id>`);
  const started = performance.now();
  const results: CaseResult[] = new Array(cases.length);
  let next = 0;
  let finished = 0;
  const lane = async () => {
    while (next < cases.length) {
      const index = next++;
      const entry = cases[index] as AdversarialCase;
      if (performance.now() - started > totalCapMs) {
        const skipped = `skipped: the run's total cap of ${totalCapMs / 1000} s was reached`;
        results[index] = {
          id: entry.id,
          class: entry.class,
          ext: entry.ext,
          description: entry.description,
          ms: null,
          peakMB: null,
          outcome: skipped,
          wallMs: 0,
        };
        continue;
      }
      const result = await runCase(entry, repo, seed, capMs);
      results[index] = result;
      const time = result.ms === null ? `${n(result.wallMs)} ms wall` : `${n(Math.round(result.ms))} ms`;
      const peak = result.peakMB === null ? "? MB" : `${result.peakAtLeast ? "≥ " : ""}${result.peakMB} MB`;
      log(
        `  [${++finished}/${cases.length}] ${entry.id}: ${time}, +${peak}, ${JSON.stringify(result.outcome.slice(0, 88)).slice(1, -1)}`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, lane));
  return {
    seed,
    repo,
    commit: commitOf(repo),
    node: process.version,
    date: new Date().toISOString(),
    quick: options.quick ?? false,
    capMs,
    totalCapMs,
    elapsedMs: Math.round(performance.now() - started),
    results,
  };
}

/** Section 6 of `npm run bench`: this checkout's code, beside the recorded baseline. */
export async function adversarialSection(
  lines: string[],
  options: { quick: boolean; out: string; log?: (line: string) => void },
): Promise<void> {
  const run = await runAdversarial({
    repo: BENCH_REPO,
    quick: options.quick,
    totalCapMs: (options.quick ? 4 : 10) * 60_000,
    ...(options.log ? { log: options.log } : {}),
  });
  await writeFile(options.out, `${JSON.stringify(run, null, 2)}\n`);
  const before = await readFile(new URL("./adversarial-before.json", import.meta.url), "utf8").then(
    (text) => JSON.parse(text) as AdversarialRun,
    () => undefined,
  );
  lines.push(
    ...renderAdversarial(run, { heading: "## 6. Per-article budget on an adversarial corpus", before }),
  );
}

/** `--list`: every case with its size, checking the size limit on the way. */
function listCases(seed: number, quick: boolean): void {
  let failed = 0;
  for (const entry of adversarialCases()) {
    if (quick && !entry.quick) continue;
    try {
      const bytes = materialize(entry, seed).byteLength;
      process.stdout.write(`${entry.id}\t${entry.class}\t${bytes}\t${entry.description}\n`);
    } catch (error) {
      failed++;
      process.stderr.write(`${(error as Error).message}\n`);
    }
  }
  if (failed) process.exitCode = 1;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repo: { type: "string", default: BENCH_REPO },
      out: { type: "string" },
      seed: { type: "string" },
      quick: { type: "boolean", default: false },
      filter: { type: "string" },
      "cap-s": { type: "string", default: "60" },
      "total-cap-s": { type: "string", default: "1800" },
      concurrency: { type: "string", default: "1" },
      list: { type: "boolean", default: false },
    },
  });
  const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be a whole number, got ${values.seed}`);
  if (values.list) return listCases(seed, values.quick);
  const run = await runAdversarial({
    repo: values.repo,
    seed,
    quick: values.quick,
    ...(values.filter ? { filter: new RegExp(values.filter) } : {}),
    capMs: Number(values["cap-s"]) * 1000,
    totalCapMs: Number(values["total-cap-s"]) * 1000,
    concurrency: Math.min(2, Number(values.concurrency)),
  });
  if (values.out) await writeFile(values.out, `${JSON.stringify(run, null, 2)}\n`);
  process.stdout.write(
    `${renderAdversarial(run, { heading: "## Per-article budget on an adversarial corpus" }).join("\n")}\n`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
