import { mkdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Article } from "../core/article.ts";
import { buildFeed } from "../core/build.ts";
import type { SiteConfig } from "../core/config.ts";
import type { ArticleProblem } from "../core/errors.ts";
import { ConfigError } from "../core/errors.ts";
import { MEDIA_PREFIX, mediaType } from "../core/media.ts";
import { sourceKind } from "../core/parse.ts";
import { mediaProblem } from "../engine/object-problems.ts";
import {
  type ArticleCache,
  CONTENT_PREFIX,
  type PublishReport,
  publishSite,
  readArticle,
} from "../engine/publish.ts";
import { readStatus } from "../engine/status.ts";
import { writeTags } from "../engine/tagging.ts";
import { notifyHub } from "../engine/websub.ts";
import { FsStorage } from "../storage/fs-storage.ts";
import { parseCommandLine } from "./args.ts";
import { DEFAULT_CONFIG_FILE, loadConfigFile } from "./config-file.ts";
import { heapNotices, mapReduceEnv } from "./map-reduce-env.ts";
import { articleWarnings, builtWarnings } from "./media-check.ts";
import { countOf, formatProblem, formatWarning, progressReporter } from "./report.ts";
import { createFeedServer, settingsReloader, watchAndRebuild } from "./serve.ts";

const USAGE = `feedpub — articles in, RSS 2.0, Atom 1.0 and JSON Feed 1.1 out

Usage:
  feedpub build [--content DIR] [--out DIR] [--config FILE] [--strict] [--ping] [--force]
      Write OUT/feeds/rss.xml, atom.xml and feed.json (defaults: content/ -> public/).
      Reads only articles new or changed since the last build; --force reads every one.
      Bad articles are reported (file:line: reason) and skipped; exit 1 only with --strict
      (which also fails on warnings about the articles it read).
      --ping: tell the config's WebSub hub which feeds changed (once they are online).
  feedpub check [--content DIR] [--config FILE] [--strict]
      Validate every article; print file:line: reason; exit 1 on any problem.
      Warnings (an image or enclosure that is not in the content folder) do not fail it;
      --strict: they do.
  feedpub serve [--content DIR] [--out DIR] [--config FILE] [--port N] [--host ADDR]
      Build, serve OUT/feeds on http://localhost:8080/feeds/ (PORT overrides) and rebuild on
      every change to the content folder or the config file (an invalid config is reported
      and the last good feeds stay served).
      Listens on 127.0.0.1 only; --host 0.0.0.0 (or another address) serves other machines too.
  feedpub status [--out DIR | --bucket NAME] [--content DIR] [--config FILE] [--files]
      Print the articles that were rejected (file:line: reason) and when the feeds last changed.
      Files are named under --content DIR (default content/): the folder OUT was built from.
      --files: every article, one a line: published, held or rejected, and why (what its
      feedpub-status and feedpub-reason object tags say in the bucket).
  feedpub rebuild --bucket NAME [--config FILE] [--force]
      Full rebuild of a deployed bucket from a listing of s3://NAME/content/, reading only the
      articles whose ETag the catalog does not know (--force: every one; AWS credentials
      and region from the environment; AWS_ENDPOINT_URL_S3 for S3-compatible servers). Pings
      the config's WebSub hub about the feeds that changed.
`;

const OPTIONS = {
  content: { type: "string", default: "content" },
  out: { type: "string", default: "public" },
  config: { type: "string", default: DEFAULT_CONFIG_FILE },
  port: { type: "string" },
  host: { type: "string", default: "127.0.0.1" },
  strict: { type: "boolean", default: false },
  ping: { type: "boolean", default: false },
  force: { type: "boolean", default: false },
  bucket: { type: "string" },
  files: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Values = {
  content: string;
  out: string;
  config: string;
  port?: string;
  host: string;
  strict: boolean;
  ping: boolean;
  force: boolean;
  bucket?: string;
  files: boolean;
};

export async function main(argv: string[]): Promise<number> {
  // The command line is judged before the config is read: a typo is reported as a typo.
  const parsed = parseCommandLine(argv, USAGE, OPTIONS);
  if ("exit" in parsed) {
    process[parsed.stream].write(parsed.text);
    return parsed.exit;
  }
  const { command } = parsed;
  const values = parsed.values as Values;
  try {
    const config = await loadConfigFile(values.config);
    switch (command) {
      case "build":
        return await build(config, values);
      case "check":
        return await check(config, values);
      case "serve":
        return await serve(config, values);
      case "rebuild":
        return await rebuild(config, values);
      case "status":
        return await status(config, values);
      default:
        // parseCommandLine knows the commands from USAGE; one listed there but not run here:
        throw new Error(`feedpub: command ${command} has no implementation`);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** How the serving line names the address: loopback as localhost, IPv6 in brackets. */
function displayHost(host: string): string {
  if (host === "127.0.0.1" || host === "::1" || host === "localhost") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}

function contentPrefix(values: Values): string {
  return `${values.content.replace(/\/+$/, "")}/`;
}

/**
 * build and check need an existing content folder: the storage adapter reads a missing folder as
 * an empty one, so a mistyped --content would otherwise "publish" empty feeds over good ones
 * (build) or report "0 with problems" (check). serve creates the folder on purpose instead.
 */
async function contentFolderMissing(values: Values): Promise<boolean> {
  const info = await stat(values.content).catch(() => undefined);
  if (info?.isDirectory()) return false;
  process.stderr.write(
    `feedpub: content folder ${resolve(values.content)} ${info ? "is not a folder" : "not found"}; pass --content DIR\n`,
  );
  return true;
}

async function runBuild(config: SiteConfig, values: Values, cache?: ArticleCache): Promise<PublishReport> {
  await mkdir(values.out, { recursive: true });
  return publishSite({
    config,
    ...mapReduceEnv(import.meta.url),
    ...heapNotices((line) => process.stderr.write(line)),
    content: new FsStorage(values.content),
    output: new FsStorage(values.out),
    ...(cache ? { cache } : {}),
    ...(values.force ? { force: true } : {}),
    ...(() => {
      const onProgress = progressReporter(process.stderr, "reading articles");
      return onProgress ? { onProgress } : {};
    })(),
  });
}

function printReport(
  report: PublishReport,
  values: Values,
  where = { content: contentPrefix(values), feeds: resolve(values.out, "feeds") },
  warnings: readonly ArticleProblem[] = [],
): void {
  for (const problem of report.problems) process.stderr.write(`${formatProblem(problem, where.content)}\n`);
  for (const warning of warnings) process.stderr.write(`${formatWarning(warning, where.content)}\n`);
  const skipped = report.problems.filter((p) => !p.file.startsWith("_state/")).length;
  const written = report.written.filter((k) => k.startsWith("feeds/"));
  // The feeds first: copied media (which the media sync writes before them) are named after.
  const feeds = [
    ...written.filter((k) => !k.startsWith(MEDIA_PREFIX)),
    ...written.filter((k) => k.startsWith(MEDIA_PREFIX)),
  ];
  process.stdout.write(
    `published ${report.published} of ${report.articles} articles${whereShown(report)}` +
      `${skipped ? `, ${skipped} skipped with problems` : ""}` +
      `${report.held.length ? `, ${report.held.length} held back (draft or scheduled)` : ""}` +
      `${warnings.length ? `, ${countOf(warnings.length, "warning")}` : ""}` +
      // A rebuild reads only what changed since the catalog recorded it (all of it with --force).
      `${report.read < report.articles ? `, ${report.read} read (the others unchanged)` : ""}` +
      ` -> ${where.feeds} (${feeds.length ? `updated ${feeds.map((k) => k.slice(6)).join(", ")}` : "unchanged"})\n`,
  );
}

/**
 * Where the published articles are, when not all of them are in the feed: " (50 in the feed,
 * 250 in archive pages)", and those in neither yet (beyond the feed's limit in the current month).
 */
function whereShown(report: PublishReport): string {
  const { published, inFeed, archived, waiting } = report;
  // Every public article is an item of the feed: nothing more to say.
  if (inFeed >= published) return "";
  return (
    ` (${inFeed} in the feed, ${archived} in archive pages` +
    `${waiting ? `, ${waiting} waiting for their month's archive page` : ""})`
  );
}

/** The content and output of a deployed bucket. */
async function bucketStores(bucket: string) {
  // Loaded only here: the local commands never need the AWS SDK (nor its start-up time).
  const { S3Client } = await import("@aws-sdk/client-s3");
  const { S3Storage } = await import("../storage/s3-storage.ts");
  const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) });
  return { content: new S3Storage(client, bucket, CONTENT_PREFIX), output: new S3Storage(client, bucket) };
}

async function status(config: SiteConfig, values: Values): Promise<number> {
  const output = values.bucket ? (await bucketStores(values.bucket)).output : new FsStorage(values.out);
  const where = values.bucket ? `s3://${values.bucket}/${CONTENT_PREFIX}` : contentPrefix(values);
  const report = await readStatus(output, config);
  if (!report.published) {
    process.stderr.write(
      `feedpub: nothing published yet in ${values.bucket ? `s3://${values.bucket}` : resolve(values.out)}\n`,
    );
    return 1;
  }
  process.stdout.write(
    `last regeneration: ${report.lastRegeneration ?? "unknown"}\n` +
      `articles: ${report.articles} indexed, ${report.inFeeds} in the feeds, ${report.rejected.length} rejected\n`,
  );
  for (const problem of report.rejected) process.stdout.write(`${formatProblem(problem, where)}\n`);
  if (values.files)
    for (const file of report.files)
      process.stdout.write(
        `${file.status.padEnd(9)} ${formatProblem({ file: file.file, reason: file.reason }, where)}\n`,
      );
  return 0;
}

async function rebuild(config: SiteConfig, values: Values): Promise<number> {
  if (!values.bucket) {
    process.stderr.write("feedpub: rebuild needs --bucket NAME\n");
    return 2;
  }
  const stores = await bucketStores(values.bucket);
  const report = await publishSite({
    config,
    ...mapReduceEnv(import.meta.url),
    ...heapNotices((line) => process.stderr.write(line)),
    ...stores,
    ...(values.force ? { force: true } : {}),
  });
  const content = `s3://${values.bucket}/${CONTENT_PREFIX}`;
  printReport(report, values, { content, feeds: `s3://${values.bucket}/feeds` });
  // The editors' outcome tags, best effort as in the Reconcile function.
  const tagging = await writeTags(stores.content, report.tags);
  for (const { file, reason } of tagging.failed)
    process.stderr.write(
      `${formatWarning({ file, reason: `object tags not written: ${reason}` }, content)}\n`,
    );
  await announce(config, report.written);
  return 0;
}

async function build(config: SiteConfig, values: Values): Promise<number> {
  if (await contentFolderMissing(values)) return 2;
  const cache: ArticleCache = new Map();
  const report = await runBuild(config, values, cache);
  const warnings = await builtWarnings(new FsStorage(values.content), cache, contentPrefix(values));
  printReport(report, values, undefined, warnings);
  if (values.ping) await announce(config, report.written);
  return values.strict && report.problems.length + warnings.length > 0 ? 1 : 0;
}

/** WebSub: tells the configured hub which feeds changed; failures are reported, not fatal. */
async function announce(config: SiteConfig, written: readonly string[]): Promise<void> {
  for (const ping of await notifyHub(config, written)) {
    if (ping.ok) process.stdout.write(`pinged ${config.hub} about ${ping.feed}\n`);
    else
      process.stderr.write(
        `feedpub: hub ping failed for ${ping.feed} after ${ping.attempts} tries: ${ping.reason}\n`,
      );
  }
}

async function check(config: SiteConfig, values: Values): Promise<number> {
  if (await contentFolderMissing(values)) return 2;
  const content = new FsStorage(values.content);
  const articles: Article[] = [];
  const problems: ArticleProblem[] = [];
  const keys = new Set<string>();
  let count = 0;
  for await (const info of content.list()) {
    keys.add(info.key);
    if (!sourceKind(info.key)) {
      // A media file build would refuse to publish is reported here too.
      const problem = mediaType(info.key) ? mediaProblem(info.key, info.size) : undefined;
      if (problem) problems.push(problem);
      continue;
    }
    count++;
    // Same reading as build: an oversized file is reported from its size, never read whole (a
    // multi-GiB file would otherwise crash check with ERR_FS_FILE_TOO_LARGE).
    const result = await readArticle(content, info);
    if ("reason" in result) problems.push(result);
    else articles.push(result);
  }
  // Build in memory only, to catch what needs all articles at once (duplicate ids).
  problems.push(...buildFeed({ config, articles, seen: {}, now: new Date() }).problems);
  const warnings = articleWarnings(articles, keys, contentPrefix(values));
  for (const problem of problems) process.stdout.write(`${formatProblem(problem, contentPrefix(values))}\n`);
  for (const warning of warnings) process.stdout.write(`${formatWarning(warning, contentPrefix(values))}\n`);
  process.stdout.write(
    `${count} articles checked, ${problems.length} with problems` +
      `${warnings.length ? `, ${countOf(warnings.length, "warning")}` : ""}\n`,
  );
  return problems.length || (values.strict && warnings.length) ? 1 : 0;
}

async function serve(config: SiteConfig, values: Values): Promise<number> {
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(
      `feedpub: --port / PORT must be a port number, got ${values.port ?? process.env.PORT}\n`,
    );
    return 2;
  }
  const cache: ArticleCache = new Map();
  let scheduled: NodeJS.Timeout | undefined;
  const settings = settingsReloader(values.config, config);
  const rebuild = async () => {
    const started = performance.now();
    try {
      // An invalid config file was reported; the last good feeds stay served.
      const current = await settings();
      if (!current) return;
      const report = await runBuild(current, values, cache);
      printReport(report, values);
      process.stdout.write(`rebuilt in ${Math.round(performance.now() - started)} ms\n`);
      clearTimeout(scheduled);
      // A scheduled article appears on time without anyone touching the content folder.
      if (report.nextChange) {
        const wait = Math.min(Math.max(report.nextChange.getTime() - Date.now() + 50, 0), 2 ** 31 - 1);
        scheduled = setTimeout(() => watcher.poke(), wait);
      }
    } catch (error) {
      process.stderr.write(`feedpub: rebuild failed: ${(error as Error).message}\n`);
    }
  };
  await mkdir(values.content, { recursive: true });
  // The config file too: an edit of the settings rebuilds with them.
  const watcher = watchAndRebuild(values.content, values.config, rebuild);
  // Scanned before the first build reads the folder, so that no change made meanwhile is missed.
  await watcher.ready;
  await rebuild();
  const server = createFeedServer(new FsStorage(join(values.out, "feeds")));
  try {
    await new Promise<void>((ready, fail) => {
      server.once("error", fail);
      server.listen(port, values.host, () => ready());
    });
  } catch (error) {
    // Say what to do instead of crashing with a stack trace, and stop watching: an open watcher
    // would keep the process alive after main() returns.
    await watcher.close();
    clearTimeout(scheduled);
    const code = (error as NodeJS.ErrnoException).code;
    process.stderr.write(
      `feedpub: cannot listen on port ${port}${values.host === "127.0.0.1" ? "" : ` of ${values.host}`}: ${
        code === "EADDRINUSE"
          ? "it is already in use; pass --port N or set PORT (0 picks a free port)"
          : (error as Error).message
      }\n`,
    );
    return 1;
  }
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  // Signal handlers first, then the "serving" line: whoever waits for that line may stop us at once.
  const stopped = new Promise<void>((done) => {
    const stop = () => {
      void watcher.close();
      clearTimeout(scheduled);
      server.close(() => done());
      server.closeAllConnections();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  const base = `http://${displayHost(values.host)}:${actual}/feeds/`;
  process.stdout.write(
    `serving ${base} (the landing page) and ${base}rss.xml, atom.xml, feed.json; ` +
      `watching ${resolve(values.content)} and ${resolve(values.config)}\n`,
  );
  await stopped;
  return 0;
}
