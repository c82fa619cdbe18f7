/**
 * Runs ONE adversarial article in this (fresh) process and prints what it cost as JSON:
 *
 *   node --expose-gc --import tsx bench/adversarial-worker.ts --repo DIR --case ID [--seed N]
 *   node --import tsx bench/adversarial-worker.ts --repo DIR --file PATH
 *
 * The work measured is a one-article site built with the real code of the checkout in --repo:
 * the file is written into a temporary content folder and `publishAll` runs with FsStorage
 * content and output, so parsing, validation, the three feed formats, the archive page and every
 * tag and author feed the article fans out to are all included. "Before" is taken after the
 * modules are loaded and one small ordinary article of the same format went through the same
 * work. Output: a first line {"phase":"baseline",...} (so that a driver that has to kill this
 * process knows its baseline), then {ms, peakMB, outcome, bytes, written, baselineMB}.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_SEED, fileNameOf, findCase } from "./adversarial-corpus.ts";
import { type Format, materialize } from "./adversarial-gen.ts";
import { aliasXmlWriter } from "./measured-repo.ts";

type PublishModule = typeof import("../functions/engine/publish.ts");
type StorageModule = typeof import("../functions/storage/fs-storage.ts");
type ConfigModule = typeof import("../functions/core/config.ts");
type Report = Awaited<ReturnType<PublishModule["publishAll"]>>;

/** Where the article sits in the content folder (a section, as real sites have). */
const SECTION = "adversarial";

const WARM_UP: Record<Format, string> = {
  md: '---\ntitle: "Warm-up"\ndate: 2024-02-01T09:00:00Z\ntags: [warm]\nauthor: "Ann Lee <ann@example.org>"\n---\nA *small* [ordinary](https://example.org/) article.\n\n- one\n- two\n',
  txt: "Warm-up\n\nA small ordinary article.\n\nWith two paragraphs.\n",
  html: '<!doctype html><html lang="en"><head><title>Warm-up</title><meta name="keywords" content="warm"><meta name="author" content="Ann"></head><body><p>A <em>small</em> <a href="/x">ordinary</a> article.</p></body></html>\n',
  json: '{"title": "Warm-up", "date_published": "2024-02-01T09:00:00Z", "tags": ["warm"], "authors": [{"name": "Ann"}], "content_html": "<p>A small ordinary article.</p>"}\n',
};

interface Modules {
  readonly publish: PublishModule;
  readonly storage: StorageModule;
  readonly config: ConfigModule;
}

function publishModule(repo: string): string {
  const engine = `${repo}/functions/engine/publish.ts`;
  return existsSync(engine) ? engine : `${repo}/functions/app/publish.ts`;
}

async function load(repo: string): Promise<Modules> {
  aliasXmlWriter(repo);
  const [publish, storage, config] = await Promise.all([
    // The engine lived in functions/app/ until session 6: older checkouts are measured too.
    import(publishModule(repo)) as Promise<PublishModule>,
    import(`${repo}/functions/storage/fs-storage.ts`) as Promise<StorageModule>,
    import(`${repo}/functions/core/config.ts`) as Promise<ConfigModule>,
  ]);
  return { publish, storage, config };
}

/** A one-article site in a fresh temporary folder; returns the report and the folder to remove. */
async function site(
  modules: Modules,
  name: string,
  bytes: Uint8Array,
): Promise<{ report: Report; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "feedpub-adversarial-"));
  const content = join(dir, "content");
  await mkdir(join(content, SECTION), { recursive: true });
  await writeFile(join(content, SECTION, name), bytes);
  const report = await modules.publish.publishAll({
    content: new modules.storage.FsStorage(content),
    output: new modules.storage.FsStorage(join(dir, "out")),
    config: modules.config.parseConfig({ title: "Adversarial", url: "https://adversarial.example/" }),
  });
  return { report, dir };
}

function outcomeOf(report: Report, name: string): string {
  const key = `${SECTION}/${name}`;
  const problem = report.problems.find((entry) => entry.file === key);
  if (problem) return `rejected: ${problem.reason.slice(0, 100)}`;
  if (report.published > 0) return "published";
  const held = report.held.find((entry) => entry.file === key);
  return held ? `held: ${held.reason}` : "not published (no problem reported)";
}

async function input(values: { case?: string; seed?: string; file?: string }) {
  if (values.file) {
    const name = basename(values.file);
    const ext = name.slice(name.lastIndexOf(".") + 1).toLowerCase();
    const format = ({ markdown: "md", text: "txt", htm: "html" } as Record<string, Format>)[ext] ?? ext;
    return { name, ext: (format in WARM_UP ? format : "md") as Format, bytes: await readFile(values.file) };
  }
  if (!values.case) throw new Error("give --case ID (with --seed N) or --file PATH");
  const entry = findCase(values.case);
  const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
  return { name: fileNameOf(entry), ext: entry.ext, bytes: materialize(entry, seed) };
}

const maxRssKb = () => process.resourceUsage().maxRSS;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repo: { type: "string" },
      case: { type: "string" },
      seed: { type: "string" },
      file: { type: "string" },
    },
  });
  if (!values.repo) throw new Error("--repo DIR is required: the checkout whose functions/ to measure");
  const modules = await load(resolve(values.repo));
  const article = await input(values);
  gc();
  const warm = await site(modules, `warm-up.${article.ext}`, Buffer.from(WARM_UP[article.ext]));
  await rm(warm.dir, { recursive: true, force: true });
  gc();
  const before = maxRssKb();
  process.stdout.write(`${JSON.stringify({ phase: "baseline", maxRssKb: before })}\n`);
  const started = performance.now();
  let outcome: string;
  let written = 0;
  let dir: string | undefined;
  try {
    const result = await site(modules, article.name, article.bytes);
    dir = result.dir;
    outcome = outcomeOf(result.report, article.name);
    written = result.report.written.length;
  } catch (error) {
    outcome = `crashed: ${String((error as Error)?.message ?? error)
      .split("\n")[0]
      ?.slice(0, 200)}`;
  }
  const ms = performance.now() - started;
  const after = maxRssKb();
  if (dir) await rm(dir, { recursive: true, force: true });
  const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;
  process.stdout.write(
    `${JSON.stringify({ ms: Math.round(ms * 10) / 10, peakMB: mb(after - before), outcome, bytes: article.bytes.byteLength, written, baselineMB: mb(before) })}\n`,
  );
}

await main();
