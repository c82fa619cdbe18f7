/** Markdown for an adversarial run (bench/adversarial.ts): per class, the worst files and the budget. */
import type { AdversarialRun, CaseResult } from "./adversarial.ts";
import { CLASSES, n } from "./adversarial-gen.ts";

export const BUDGET_MS = 250;
export const BUDGET_MB = 64;

const skipped = (r: CaseResult) => r.outcome.startsWith("skipped");
const crashed = (r: CaseResult) => r.outcome.startsWith("crashed");
/** For ranking: a timeout is slower than anything measured; a crash counts with its wall time. */
const timeKey = (r: CaseResult) =>
  skipped(r) ? -1 : r.timedOut ? Number.POSITIVE_INFINITY : (r.ms ?? r.wallMs);
const peakKey = (r: CaseResult) => r.peakMB ?? -1;
export const overTime = (r: CaseResult) => !skipped(r) && timeKey(r) > BUDGET_MS;
export const overMemory = (r: CaseResult) => peakKey(r) > BUDGET_MB;

/** Safe inside a Markdown table cell: no raw HTML, pipes or control characters. */
function cell(text: string): string {
  return text
    .replace(
      /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    )
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/\|/g, "\\|");
}

export function time(r: CaseResult): string {
  if (skipped(r)) return "skipped";
  if (r.timedOut) return `${r.outcome.replace("timeout ", "")} (timeout)`;
  if (r.ms === null) return `crashed after ${(r.wallMs / 1000).toFixed(1)} s`;
  return r.ms < 10_000 ? `${n(Math.round(r.ms))} ms` : `${(r.ms / 1000).toFixed(1)} s`;
}

export function peak(r: CaseResult): string {
  if (r.peakMB === null) return "?";
  return `${r.peakAtLeast ? "≥ " : ""}${r.peakMB.toFixed(1)} MB`;
}

const worst = (results: readonly CaseResult[], key: (r: CaseResult) => number) =>
  results.reduce<CaseResult | undefined>((best, r) => (!best || key(r) > key(best) ? r : best), undefined);
const named = (r: CaseResult | undefined, value: string) =>
  r ? `${value}: \`${r.id}\`, ${cell(r.description)}` : "—";

function classRows(results: readonly CaseResult[]): string[] {
  const rows = [
    "| class | files | over 250 ms | over 64 MB | timeouts | crashes | worst time (file) | worst peak added (file) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
  ];
  for (const cls of CLASSES) {
    const mine = results.filter((r) => r.class === cls);
    if (!mine.length) continue;
    const slow = worst(mine, timeKey);
    const big = worst(mine, peakKey);
    rows.push(
      `| ${cls} | ${mine.length} | ${mine.filter(overTime).length} | ${mine.filter(overMemory).length} | ${mine.filter((r) => r.timedOut).length} | ${mine.filter(crashed).length} | ${slow ? named(slow, time(slow)) : "—"} | ${big ? named(big, peak(big)) : "—"} |`,
    );
  }
  return rows;
}

function overBudgetRows(results: readonly CaseResult[], limit: number): string[] {
  const over = results.filter((r) => overTime(r) || overMemory(r));
  over.sort((a, b) => timeKey(b) - timeKey(a) || peakKey(b) - peakKey(a));
  if (!over.length) return ["No file is over either budget.", ""];
  return [
    `Files over a budget${over.length > limit ? ` (the ${limit} slowest of ${over.length})` : ""}:`,
    "",
    "| file | time | peak added | outcome | what it is |",
    "| --- | ---: | ---: | --- | --- |",
    ...over
      .slice(0, limit)
      .map(
        (r) =>
          `| \`${r.id}\` | ${time(r)} | ${peak(r)} | ${cell(r.outcome.slice(0, 90))} | ${cell(r.description)} |`,
      ),
    "",
  ];
}

/** The recorded baseline beside this run, over the files both ran (a quick run has fewer). */
function beforeRows(run: AdversarialRun, before: AdversarialRun): string[] {
  const ids = new Set(run.results.filter((r) => !skipped(r)).map((r) => r.id));
  const old = before.results.filter((r) => ids.has(r.id) && !skipped(r));
  const now = run.results.filter((r) => ids.has(r.id) && old.some((o) => o.id === r.id));
  if (!now.length) return [];
  const rows = [
    `Beside the recorded baseline (bench/adversarial-before.json: commit ${before.commit}, ${before.date.slice(0, 10)}), over the ${now.length} files both runs measured:`,
    "",
    "| class | over a budget, before | now | worst time, before | now | worst peak added, before | now |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const cls of CLASSES) {
    const a = old.filter((r) => r.class === cls);
    const b = now.filter((r) => r.class === cls);
    if (!a.length || !b.length) continue;
    const over = (list: CaseResult[]) => list.filter((r) => overTime(r) || overMemory(r)).length;
    const t = (list: CaseResult[]) => time(worst(list, timeKey) as CaseResult);
    const p = (list: CaseResult[]) => peak(worst(list, peakKey) as CaseResult);
    rows.push(`| ${cls} | ${over(a)} | ${over(b)} | ${t(a)} | ${t(b)} | ${p(a)} | ${p(b)} |`);
  }
  return [...rows, ""];
}

export function renderAdversarial(
  run: AdversarialRun,
  options: { heading: string; before?: AdversarialRun | undefined; limit?: number },
): string[] {
  const results = run.results;
  const measured = results.filter((r) => !skipped(r));
  const slowest = worst(measured, timeKey);
  const biggest = worst(measured, peakKey);
  const lines = [
    options.heading,
    "",
    `Each file of a generated hostile corpus (bench/adversarial-*.ts; ${results.length} files${run.quick ? " of the quick run" : ""},`,
    `seed ${run.seed}, each ≤ 1 MiB but the size class's files just over it) is published alone as a one-article site`,
    "with the real code (`publishAll` over FsStorage: parsing, validation, the three formats, the archive page and",
    "every tag and author feed it fans out to), in a fresh process, one at a time, each killed after",
    `${run.capMs / 1000} s. Time is the worker's clock around that work; memory is the peak RSS it adds after the`,
    "modules are loaded and warmed by one small ordinary article (`process.resourceUsage().maxRSS`; for a killed",
    "or crashed worker, the high-water mark read from /proc so far, a lower bound). Budget: ≤ 250 ms and ≤ 64 MB",
    `per article. Code: ${run.commit} (\`${run.repo}\`); the run took ${(run.elapsedMs / 1000).toFixed(0)} s.`,
    `Replay a file: \`npx tsx bench/adversarial-worker.ts --repo DIR --seed ${run.seed} --case ID\`.`,
    "",
    ...classRows(results),
    "",
    `Worst overall: by time ${named(slowest, slowest ? time(slowest) : "")}; by memory ${named(biggest, biggest ? peak(biggest) : "")}.`,
    "",
    `**${measured.filter(overTime).length} of ${measured.length} files exceed 250 ms and ${measured.filter(overMemory).length} exceed 64 MB** ` +
      `(${measured.filter((r) => r.timedOut).length} timeouts, ${measured.filter(crashed).length} crashes` +
      `${measured.length < results.length ? `, ${results.length - measured.length} skipped at the run's total cap` : ""}).`,
    "",
    ...overBudgetRows(results, options.limit ?? 25),
    ...(options.before ? beforeRows(run, options.before) : []),
  ];
  return lines;
}
