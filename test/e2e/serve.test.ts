import { readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { assertValidJsonFeed, assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import {
  freePort,
  makeSite,
  REPO,
  removeSites,
  runCli,
  type Server,
  SITE_CONFIG,
  type Site,
  startServer,
  stopAllServers,
  waitFor,
  writeArticle,
} from "./cli.ts";

const SECRET_CONFIG_MARKER = "config-secret-7f3a9c";
const SECRET_FILE_MARKER = "outside-secret-b41d2e";
/**
 * How far ahead the scheduled article is dated. The server reads the real clock, so the article
 * must not fall due before the rebuild that holds it back and the check of all three feeds are
 * over: under 2 s on a saturated 2-core machine, so this leaves a wide margin.
 */
const SCHEDULED_LEAD_MS = 12_000;

const ARTICLES: Record<string, string> = {
  "posts/first.md": "---\ntitle: First post\ndate: 2024-01-01T10:00:00Z\n---\nThe first post.\n",
  "posts/second.md": "---\ntitle: Second post\ndate: 2024-02-01T10:00:00Z\n---\nThe second post.\n",
};

const FEEDS = [
  { path: "/feeds/rss.xml", type: "application/rss+xml; charset=utf-8" },
  { path: "/feeds/atom.xml", type: "application/atom+xml; charset=utf-8" },
  { path: "/feeds/feed.json", type: "application/feed+json; charset=utf-8" },
] as const;

/** A raw GET whose path is sent exactly as written (fetch would normalise "..", "%2e%2e"). */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

async function titlesIn(server: Server): Promise<{ rss: string[]; atom: string[]; json: string[] }> {
  const [rss, atom, json] = await Promise.all(
    FEEDS.map(async ({ path }) => {
      const res = await fetch(server.base + path);
      expect(res.status).toBe(200);
      return res.text();
    }),
  );
  const readTitles = async (xml: string) =>
    (await readWithAllReaders(xml)).rssParser.items.map((i) => i.title ?? "");
  return {
    rss: await readTitles(rss ?? ""),
    atom: await readTitles(atom ?? ""),
    json: (JSON.parse(json ?? "") as { items: { title: string }[] }).items.map((i) => i.title),
  };
}

const inAll = (t: { rss: string[]; atom: string[]; json: string[] }, title: string) =>
  t.rss.includes(title) && t.atom.includes(title) && t.json.includes(title);
const inNone = (t: { rss: string[]; atom: string[]; json: string[] }, title: string) =>
  !t.rss.includes(title) && !t.atom.includes(title) && !t.json.includes(title);

async function etags(server: Server): Promise<string[]> {
  return Promise.all(
    FEEDS.map(async ({ path }) => {
      const res = await fetch(server.base + path, { method: "HEAD" });
      return res.headers.get("etag") ?? "";
    }),
  );
}

describe("feedpub serve", () => {
  let site: Site;
  let server: Server;

  beforeAll(async () => {
    site = await makeSite({ config: `${SITE_CONFIG}# ${SECRET_CONFIG_MARKER}\n`, files: ARTICLES });
    await writeFile(join(site.dir, "secret.txt"), `${SECRET_FILE_MARKER}\n`);
    server = await startServer(
      ["--port", "0", "--content", site.content, "--out", site.out, "--config", site.config],
      { cwd: site.dir },
    );
  });

  afterAll(async () => {
    await stopAllServers();
    await removeSites();
  });

  it("prints the port it listens on and builds before serving", () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.stdout()).toMatch(/^published 2 of 2 articles/m);
    expect(server.stderr()).toBe("");
    // The banner names the landing page (served at /feeds/) as well as the feeds.
    expect(server.stdout()).toContain(
      `serving http://localhost:${server.port}/feeds/ (the landing page) and http://localhost:${server.port}/feeds/rss.xml, atom.xml, feed.json;`,
    );
  });

  it.each(FEEDS)("GET $path: 200, $type, ETag, Last-Modified, the bytes on disk", async ({ path, type }) => {
    const res = await fetch(server.base + path);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(type);
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]{32}"$/);
    const lastModified = res.headers.get("last-modified") ?? "";
    expect(Number.isNaN(Date.parse(lastModified))).toBe(false);
    expect(new Date(lastModified).toUTCString()).toBe(lastModified);
    const body = await res.text();
    expect(body).toBe(await readFile(join(site.out, path.slice(1)), "utf8"));
    if (path.endsWith(".json")) assertValidJsonFeed(body);
    else assertWellFormedXml(body);
    // Last-Modified is the file's mtime, to the second.
    const mtime = (await stat(join(site.out, path.slice(1)))).mtimeMs;
    expect(Date.parse(lastModified)).toBe(Math.floor(mtime / 1000) * 1000);
  });

  it.each(FEEDS)("HEAD $path: same headers, no body", async ({ path, type }) => {
    const get = await fetch(server.base + path);
    const head = await fetch(server.base + path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe(type);
    expect(head.headers.get("etag")).toBe(get.headers.get("etag"));
    expect(head.headers.get("content-length")).toBe(String(Buffer.byteLength(await get.text())));
    expect(await head.text()).toBe("");
  });

  it.each(FEEDS)("$path: conditional GETs get 304 when nothing changed, 200 otherwise", async ({ path }) => {
    const first = await fetch(server.base + path);
    const etag = first.headers.get("etag") ?? "";
    const lastModified = first.headers.get("last-modified") ?? "";

    const byEtag = await fetch(server.base + path, { headers: { "if-none-match": etag } });
    expect(byEtag.status).toBe(304);
    expect(byEtag.headers.get("etag")).toBe(etag);
    expect(await byEtag.text()).toBe("");
    const weakInList = await fetch(server.base + path, {
      headers: { "if-none-match": `"other", W/${etag}` },
    });
    expect(weakInList.status).toBe(304);

    const byDate = await fetch(server.base + path, { headers: { "if-modified-since": lastModified } });
    expect(byDate.status).toBe(304);
    expect(await byDate.text()).toBe("");

    const staleTag = await fetch(server.base + path, { headers: { "if-none-match": '"0123"' } });
    expect(staleTag.status).toBe(200);
    // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    const staleTagFreshDate = await fetch(server.base + path, {
      headers: { "if-none-match": '"0123"', "if-modified-since": lastModified },
    });
    expect(staleTagFreshDate.status).toBe(200);
    const olderDate = new Date(Date.parse(lastModified) - 1000).toUTCString();
    const byOlderDate = await fetch(server.base + path, { headers: { "if-modified-since": olderDate } });
    expect(byOlderDate.status).toBe(200);
    expect(await byOlderDate.text()).toBe(await first.text());
  });

  it("never serves the private state, the config or anything outside feeds/", async () => {
    const seen = await readFile(join(site.out, "_state/index.json"), "utf8");
    expect(seen).toContain('"candidates":[["');
    // A link planted in the served folder must not lead outside it either.
    await symlink(join(site.dir, "secret.txt"), join(site.out, "feeds", "leak.xml"));
    await symlink(join(site.out, "_state"), join(site.out, "feeds", "state"));
    const paths = [
      "/_state/index.json",
      "/../feedpub.config.yaml",
      "/../secret.txt",
      "/feeds/../_state/index.json",
      "/feeds/../../feedpub.config.yaml",
      "/feeds/%2e%2e/_state/index.json",
      "/feeds/%2E%2E/_state/index.json",
      "/feeds/.%2e/_state/index.json",
      "/feeds/..%2f_state%2findex.json",
      "/feeds%2f..%2f_state%2findex.json",
      "/feeds/%2e%2e%2f%2e%2e%2ffeedpub.config.yaml",
      "/%2e%2e/feedpub.config.yaml",
      "/feeds/..%5c_state%5cindex.json",
      "/feeds/%252e%252e/_state/index.json",
      "/feeds/%2e%2e/%2e%2e/secret.txt",
      "/feeds//_state/index.json",
      "//_state/index.json",
      "/feeds/%00/../_state/index.json",
      "/feeds/%",
      "/feeds/leak.xml",
      "/feeds/state/seen.json",
      "/feeds/",
      "/feeds/.",
      "/feeds/_state/index.json",
      "/public/_state/index.json",
      "/content/posts/first.md",
      "/feedpub.config.yaml",
    ];
    // "/feeds/" and "/feeds/." (the same URL once normalised) are the feeds' index page.
    const indexPages = new Set(["/feeds/", "/feeds/."]);
    for (const path of paths) {
      const res = await rawGet(server.port, path);
      if (indexPages.has(path)) {
        // The landing page: it shows the latest items' summaries, and nothing private.
        expect(res.status, path).toBe(200);
        expect(res.body, path).toContain('<link rel="alternate" type="application/rss+xml"');
      } else {
        expect(res.status, path).toBe(404);
        expect(res.body, path).toBe("not found\n");
      }
      expect(res.body, path).not.toContain("firstSeen");
      expect(res.body, path).not.toContain(SECRET_CONFIG_MARKER);
      expect(res.body, path).not.toContain(SECRET_FILE_MARKER);
      if (!indexPages.has(path)) expect(res.body, path).not.toContain("The first post.");
    }
    await rm(join(site.out, "feeds", "leak.xml"));
    await rm(join(site.out, "feeds", "state"));
  });

  it("refuses methods other than GET and HEAD", async () => {
    const res = await fetch(`${server.base}/feeds/rss.xml`, { method: "POST", body: "x" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });

  it("publishes a new article without a restart, then its edit, then its removal", async () => {
    // A new sub-folder too: the recursive watch must see files in folders created after it started.
    const name = "live/breaking-news.md";
    await writeArticle(site, name, "---\ntitle: Breaking news\n---\nSomething happened.\n");
    await waitFor("the new article in every feed", async () =>
      inAll(await titlesIn(server), "Breaking news"),
    );

    // Same size as before: the serve cache must notice the change by more than the size.
    await writeArticle(site, name, "---\ntitle: Breaking NEWS\n---\nSomething happened.\n");
    await waitFor("the same-size edit in every feed", async () => {
      const titles = await titlesIn(server);
      return inAll(titles, "Breaking NEWS") && inNone(titles, "Breaking news");
    });

    await writeArticle(site, name, "---\ntitle: Breaking news, corrected\n---\nSomething else happened.\n");
    await waitFor("the edited title in every feed", async () => {
      const titles = await titlesIn(server);
      return inAll(titles, "Breaking news, corrected") && inNone(titles, "Breaking NEWS");
    });
    const json = assertValidJsonFeed(await (await fetch(`${server.base}/feeds/feed.json`)).text());
    const item = (json.items as { title: string; content_html: string }[]).find(
      (i) => i.title === "Breaking news, corrected",
    );
    expect(item?.content_html).toContain("Something else happened.");

    await rm(join(site.content, name));
    await waitFor("the deleted article gone from every feed", async () => {
      const titles = await titlesIn(server);
      return inNone(titles, "Breaking news, corrected") && inAll(titles, "First post");
    });
    expect(server.stderr()).toBe("");
  }, 90_000);

  it("keeps the same ETag when a rebuild changes nothing (a non-article file was added)", async () => {
    const before = await etags(server);
    // Not a count of rebuilds: the last line of the previous test's rebuild may still be on its
    // way through the pipe. That rebuild changed the feeds; only one after this change ends so.
    const printed = server.stdout().length;
    await writeArticle(site, "posts/notes.pdf", Uint8Array.from([0x25, 0x50, 0x44, 0x46]));
    await waitFor("a rebuild after the unrelated change that left the feeds unchanged", () =>
      /\(unchanged\)\nrebuilt in \d+ ms\n$/.test(server.stdout().slice(printed)),
    );
    expect(await etags(server)).toEqual(before);
    for (const [index, { path }] of FEEDS.entries()) {
      const res = await fetch(server.base + path, { headers: { "if-none-match": before[index] ?? "" } });
      expect(res.status, path).toBe(304);
    }
    // Not a media type: never published.
    expect((await fetch(`${server.base}/feeds/media/posts/notes.pdf`)).status).toBe(404);
  });

  it("publishes an image dropped beside the articles under /feeds/media/, leaving the feeds alone", async () => {
    const before = await etags(server);
    const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    await writeArticle(site, "posts/cover.jpg", jpeg);
    // Waits for the image itself, not for a count of rebuilds: a slow write can be seen as two
    // changes (created empty, then written), and the first rebuild may publish the empty file.
    const media = async () => {
      const res = await fetch(`${server.base}/feeds/media/posts/cover.jpg`);
      return {
        status: res.status,
        type: res.headers.get("content-type"),
        bytes: new Uint8Array(await res.arrayBuffer()),
      };
    };
    await waitFor("the image under /feeds/media/", async () => {
      const { status, bytes } = await media();
      return status === 200 && Buffer.from(bytes).equals(Buffer.from(jpeg));
    });
    expect(await media()).toEqual({ status: 200, type: "image/jpeg", bytes: jpeg });
    expect(await etags(server)).toEqual(before);
  });

  it("serves the monthly archive pages the feed links to (RFC 5005, JSON Feed next_url)", async () => {
    // Both articles are from months that are over: each month has its page.
    const feed = (await (await fetch(`${server.base}/feeds/feed.json`)).json()) as { next_url?: string };
    const pages: string[] = [];
    for (let next = feed.next_url; next; ) {
      const path = new URL(next).pathname;
      pages.push(path);
      const res = await fetch(server.base + path);
      expect(res.status, path).toBe(200);
      next = ((await res.json()) as { next_url?: string }).next_url;
    }
    expect(pages).toEqual(["/feeds/archive/2024-02/feed.json", "/feeds/archive/2024-01/feed.json"]);
    const rss = await fetch(`${server.base}/feeds/archive/2024-01/rss.xml`, {
      headers: { accept: "application/rss+xml" },
    });
    expect(rss.status).toBe(200);
    expect(rss.headers.get("content-type")).toBe("application/rss+xml; charset=utf-8");
    const xml = await rss.text();
    assertWellFormedXml(xml);
    expect((await readWithAllReaders(xml)).python.items.map((item) => item.title)).toEqual(["First post"]);
  });

  it(
    "publishes a scheduled article when its time comes, without any file changing",
    async () => {
      const due = Date.now() + SCHEDULED_LEAD_MS;
      await writeArticle(
        site,
        "posts/scheduled.md",
        `---\ntitle: Scheduled post\ndate: ${new Date(due).toISOString()}\n---\nOn time.\n`,
      );
      await waitFor("a rebuild that holds the article back", () => /1 held back/.test(server.stdout()));
      const held = await titlesIn(server);
      expect(Date.now(), "the feeds were read before the article was due").toBeLessThan(due);
      expect(inNone(held, "Scheduled post")).toBe(true);
      await waitFor(
        "the scheduled article",
        async () => inAll(await titlesIn(server), "Scheduled post"),
        Math.max(0, due - Date.now()) + 20_000,
      );
    },
    SCHEDULED_LEAD_MS + 60_000,
  );
});

describe("feedpub serve: port selection and shutdown", () => {
  afterEach(stopAllServers);
  afterAll(removeSites);

  it("`npm start` (node bin/feedpub.mjs serve, no flags) listens on $PORT", async () => {
    const pkg = JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe("node bin/feedpub.mjs serve");
    // Defaults: ./feedpub.config.yaml, ./content, ./public, relative to the working directory.
    const site = await makeSite({ files: ARTICLES });
    const port = await freePort();
    const server = await startServer([], { cwd: site.dir, env: { PORT: String(port) } });
    expect(server.port).toBe(port);
    const res = await fetch(`http://127.0.0.1:${port}/feeds/feed.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/feed+json; charset=utf-8");
    expect(await readFile(join(site.dir, "public/feeds/feed.json"), "utf8")).toBe(await res.text());
  });

  it("--port wins over $PORT", async () => {
    const site = await makeSite({ files: ARTICLES });
    const port = await freePort();
    const server = await startServer(["--port", String(port)], { cwd: site.dir, env: { PORT: "1" } });
    expect(server.port).toBe(port);
    expect((await fetch(`${server.base}/feeds/rss.xml`)).status).toBe(200);
  });

  it("a bad port is refused with a message", async () => {
    const site = await makeSite({ files: ARTICLES });
    const result = await runCli(["serve"], { cwd: site.dir, env: { PORT: "eighty" } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--port / PORT must be a port number, got eighty");
  });

  it("a port in use is reported in one line (no stack trace) and the process exits", async () => {
    const site = await makeSite({ files: ARTICLES });
    const blocker = createNetServer();
    await new Promise<void>((ready) => blocker.listen(0, () => ready()));
    try {
      const address = blocker.address();
      const port = typeof address === "object" && address ? address.port : 0;
      const result = await runCli(["serve", "--port", String(port)], { cwd: site.dir, timeoutMs: 15_000 });
      expect(result.signal).toBeNull(); // exited by itself, was not killed by the timeout
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `feedpub: cannot listen on port ${port}: it is already in use; pass --port N or set PORT (0 picks a free port)\n`,
      );
    } finally {
      await new Promise((done) => blocker.close(done));
    }
  });

  it("creates a missing content folder and serves an empty feed", async () => {
    const site = await makeSite();
    await rm(site.content, { recursive: true });
    const server = await startServer(["--port", "0"], { cwd: site.dir });
    const json = assertValidJsonFeed(await (await fetch(`${server.base}/feeds/feed.json`)).text());
    expect(json.items).toEqual([]);
    expect((await stat(site.content)).isDirectory()).toBe(true);
  });

  it("stops cleanly (exit 0) on SIGTERM", async () => {
    const site = await makeSite({ files: ARTICLES });
    const server = await startServer(["--port", "0"], { cwd: site.dir });
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(() => process.kill(server.pid, 0)).toThrow();
    await expect(fetch(`${server.base}/feeds/rss.xml`)).rejects.toThrow();
  });
});
