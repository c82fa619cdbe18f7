import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { basename, dirname, resolve } from "node:path";
import { type FSWatcher, watch } from "chokidar";
import type { SiteConfig } from "../core/config.ts";
import { ConfigError } from "../core/errors.ts";
import { MEDIA_PREFIX, mediaType } from "../core/media.ts";
import { FEED_FILES } from "../core/model.ts";
import { FEEDS_CSP, negotiatedType, variesByAccept } from "../core/negotiate.ts";
import { checkKey } from "../storage/keys.ts";
import type { Storage } from "../storage/port.ts";
import { loadConfigFile } from "./config-file.ts";

const TYPES: Record<string, string> = {
  xml: "application/xml; charset=utf-8",
  json: "application/json; charset=utf-8",
  html: "text/html; charset=utf-8",
  xsl: "text/xsl; charset=utf-8",
  css: "text/css; charset=utf-8",
  txt: "text/plain; charset=utf-8",
};

function contentType(key: string): string {
  if (key.startsWith(MEDIA_PREFIX)) return mediaType(key) ?? "application/octet-stream";
  // The feed documents by name, wherever they are: the main feed, tag and author feeds, archive pages.
  const name = key.slice(key.lastIndexOf("/") + 1);
  for (const file of Object.values(FEED_FILES)) if (file.key.endsWith(`/${name}`)) return file.contentType;
  return TYPES[key.slice(key.lastIndexOf(".") + 1)] ?? "application/octet-stream";
}

const INDEX = `<!doctype html><html lang="en"><meta charset="utf-8"><title>feedpub preview</title>
<link rel="alternate" type="application/rss+xml" href="/feeds/rss.xml" title="RSS">
<link rel="alternate" type="application/atom+xml" href="/feeds/atom.xml" title="Atom">
<link rel="alternate" type="application/feed+json" href="/feeds/feed.json" title="JSON Feed">
<h1>feedpub preview</h1><ul><li><a href="/feeds/rss.xml">RSS 2.0</a></li>
<li><a href="/feeds/atom.xml">Atom 1.0</a></li><li><a href="/feeds/feed.json">JSON Feed 1.1</a></li></ul></html>\n`;

/**
 * Serves the public part of the output (`feeds/`) the way CloudFront would: the right content
 * types, ETag and Last-Modified validators, and 304 Not Modified for conditional requests.
 * `feeds` is a storage rooted at OUT/feeds (keys like "rss.xml"), not at OUT: a storage rooted at
 * OUT would follow a symbolic link inside feeds/ to OUT/_state, since that stays inside its root.
 * Rooted at feeds/, nothing outside it is reachable, so the private `_state/` never leaks.
 */
export function createFeedServer(feeds: Storage): Server {
  return createServer((req, res) => {
    handle(feeds, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      res.end(`internal error: ${(error as Error).message}\n`);
    });
  });
}

async function handle(feeds: Storage, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (path === "/" || path === "/feeds") {
    res.writeHead(302, { location: "/feeds/" }).end();
    return;
  }
  const landing = path === "/feeds/";
  if (landing && !(await feeds.head("index.html"))) {
    // Before the first build has written the landing page: a bare list of the feeds.
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" });
    res.end(req.method === "HEAD" ? undefined : INDEX);
    return;
  }
  let key: string;
  try {
    key = landing ? "feeds/index.html" : checkKey(decodeURIComponent(path.slice(1)));
  } catch {
    notFound(res);
    return;
  }
  const object = key.startsWith("feeds/") ? await feeds.get(key.slice("feeds/".length)) : undefined;
  if (!object) {
    notFound(res);
    return;
  }
  const etag = `"${createHash("md5").update(object.body).digest("hex")}"`;
  const lastModified = new Date(Math.floor(object.lastModified.getTime() / 1000) * 1000);
  const type = contentType(key);
  const headers = {
    "content-type": negotiatedType(type, req.headers.accept),
    ...(variesByAccept(type) ? { vary: "Accept" } : {}),
    "content-security-policy": FEEDS_CSP,
    etag,
    "last-modified": lastModified.toUTCString(),
    // Readers may keep a copy but must ask again each time; the answer is usually a cheap 304.
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  };
  if (notModified(req, etag, lastModified)) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, "content-length": object.body.byteLength });
  res.end(req.method === "HEAD" ? undefined : object.body);
}

function notModified(req: IncomingMessage, etag: string, lastModified: Date): boolean {
  const ifNoneMatch = req.headers["if-none-match"];
  if (ifNoneMatch !== undefined) {
    return (
      ifNoneMatch === "*" || ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag)
    );
  }
  const since = req.headers["if-modified-since"];
  if (since === undefined) return false;
  const time = Date.parse(since);
  return !Number.isNaN(time) && lastModified.getTime() <= time;
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
}

/*
 * Watching. Plain `fs.watch(dir, { recursive: true })` (what serve used before) loses a file for
 * good on Node 20 / Linux once it is replaced by a rename (vim, `sed -i`, `git checkout`, most
 * editors' safe save): its inotify watch follows the old inode, so every later write, delete or
 * re-creation went unseen. Two well-kept watchers were compared on Node 20.20 / Linux, with a
 * tree of 3,000 files (the script and figures are in the report of issue 14):
 *
 * - chokidar 5.0.0 (5.x needs Node >= 20.19, like this package; 6.x needs 22.22): pure JS, 2
 *   packages, 122 KB installed, nothing native, so esbuild bundles it. It saw every save style:
 *   in place, rename-over, `mv`, `sed -i`, delete + create, new folders, edits inside a moved
 *   folder. Cost: 0.2-0.4 s of CPU to stat the tree at start, 0.1-0.2 s for a 1,000-file burst,
 *   about 0 when idle.
 * - @parcel/watcher 2.6.0: native (a 523 KB binary per platform, an install script), 7 packages,
 *   1.29 MB. Cheaper (0.02 s at start, 0.03 s per burst), but on Linux it never reported an edit
 *   inside a folder after the folder was moved (4 runs of 4).
 *
 * chokidar, then: correct on every case, light, and no native build to break an install. It
 * drops a second change of one path within 50 ms of the first; that is harmless here because
 * the change it keeps schedules a rebuild at least DEBOUNCE_MS (> 50 ms) later, which reads the
 * file as it is then.
 */

/** Quiet time after the last change before rebuilding: a burst (a checkout) becomes one run. */
export const DEBOUNCE_MS = 150;

/**
 * Names that are never content: dotfiles and dot-folders (vim's `.x.swp`, emacs' `.#x`, `.git`),
 * backups (`x~`), emacs' autosaves (`#x#`) and vim's write test (`4913`). The build ignores them
 * too (and decides what an article is); not watching them spares a rebuild for each swap-file
 * write and the scan of a `.git` folder.
 */
function isEditorScratch(name: string): boolean {
  return name.startsWith(".") || name.endsWith("~") || /^#.*#$/.test(name) || name === "4913";
}

/** A running watch: `ready` once the initial scan is done; `poke` asks for a rebuild. */
export interface Rebuilder {
  readonly ready: Promise<void>;
  poke(): void;
  close(): Promise<void>;
}

/**
 * Calls `rebuild` after changes under the folder `content` (recursively) or of the file
 * `config`, coalescing bursts (an editor saving several files, a git checkout) into one run,
 * never running two at once, and running once more if changes arrived during a run.
 */
export function watchAndRebuild(
  content: string,
  config: string,
  rebuild: () => Promise<void>,
  delayMs = DEBOUNCE_MS,
): Rebuilder {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  const run = () => {
    if (running) {
      again = true;
      return;
    }
    running = rebuild().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        schedule();
      }
    });
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(run, delayMs);
  };
  const watchers = watchFolderAndFile(resolve(content), resolve(config), schedule);
  return {
    ready: Promise.all(watchers.map((w) => new Promise<void>((done) => w.once("ready", () => done())))).then(
      () => undefined,
    ),
    poke: schedule,
    async close() {
      clearTimeout(timer);
      await Promise.all(watchers.map((w) => w.close()));
    },
  };
}

/**
 * The folder, recursively, and the file's folder for that file alone: a watch on the file itself
 * ends when the file is deleted, and would miss it being created again.
 */
function watchFolderAndFile(content: string, config: string, onChange: () => void): FSWatcher[] {
  const common = {
    ignoreInitial: true,
    // Symbolic links in the content folder are not followed by the build; nor are they here.
    followSymlinks: false,
    // An unreadable file is the build's to report (file: reason), not the watcher's.
    ignorePermissionErrors: true,
  };
  const folder = dirname(config);
  const watchers = [
    watch(content, { ...common, ignored: (path) => path !== content && isEditorScratch(basename(path)) }),
    watch(folder, { ...common, depth: 0, ignored: (path) => path !== folder && path !== config }),
  ];
  for (const watcher of watchers) {
    watcher.on("all", onChange);
    // Without a listener an "error" event would throw and stop the server; this says what broke.
    watcher.on("error", (error) =>
      process.stderr.write(`feedpub: watching for changes failed: ${(error as Error).message}\n`),
    );
  }
  return watchers;
}

/**
 * Reads the settings again before each rebuild, so that an edit of the config file made while
 * serving takes effect. When the file is invalid it prints why, as `feedpub build` would, and
 * gives undefined: the feeds built with the last good settings stay served until the file is
 * fixed (saving it rebuilds).
 */
export function settingsReloader(path: string, initial: SiteConfig): () => Promise<SiteConfig | undefined> {
  let last = initial;
  let broken = false;
  return async () => {
    let config: SiteConfig;
    try {
      config = await loadConfigFile(path);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      broken = true;
      process.stderr.write(
        `${error.message}\nfeedpub: not rebuilt; still serving the feeds built with the last good settings (saving ${path} once it is fixed rebuilds)\n`,
      );
      return undefined;
    }
    if (broken || JSON.stringify(config) !== JSON.stringify(last)) {
      process.stdout.write(`settings reloaded from ${path}\n`);
    }
    last = config;
    broken = false;
    return config;
  };
}
