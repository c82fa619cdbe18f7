import { createHash } from "node:crypto";
import { watch } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { MEDIA_PREFIX, mediaType } from "../core/media.ts";
import { FEED_FILES } from "../core/model.ts";
import { FEEDS_CSP, negotiatedType, variesByAccept } from "../core/negotiate.ts";
import { checkKey } from "../storage/keys.ts";
import type { Storage } from "../storage/port.ts";

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

/**
 * Calls `rebuild` after changes under `dir`, coalescing bursts (an editor saving several files,
 * a git checkout) into one run and never running two at once.
 */
export function watchAndRebuild(
  dir: string,
  rebuild: () => Promise<void>,
  delayMs = 150,
): { close(): void; poke(): void } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  const run = async () => {
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
    timer = setTimeout(() => void run(), delayMs);
  };
  const watcher = watch(dir, { recursive: true }, schedule);
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
    poke: schedule,
  };
}
