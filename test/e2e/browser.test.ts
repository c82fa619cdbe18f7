/**
 * The feeds as a person sees them in a browser: Debian's Chromium, headless, against the local
 * server (which negotiates types and sets the CSP the way the CloudFront distribution does).
 * Chromium reaches the server through a recording pass-through on another port, so every request
 * a page makes (its XSLT, its CSS) is seen with its status, on a different origin than the feeds
 * URL of the settings, as with a local preview of a deployed site.
 *
 * Screenshots of every page checked are kept in test-artifacts/screenshots/ (gitignored) for a
 * human to look at: landing.png, and <family>-<format>.png for one feed of each family found in
 * the built site (main-rss.png, tags-atom.png, archive-rss.png, ...).
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { createServer, type Server as HttpServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertValidJsonFeed, assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import {
  makeSite,
  REPO,
  removeSites,
  type Server,
  SITE_CONFIG,
  type Site,
  startServer,
  stopAllServers,
} from "./cli.ts";

const run = promisify(execFile);
const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = join(REPO, "test-artifacts", "screenshots");
const HOSTILE = `Q&A <script>alert("title")</script> "quoted"`;
/** Where the settings say feeds/ is served; the local server is elsewhere. */
const FEEDS_URL = "https://e2e.example.org/feeds/";

// Section feeds as deep as the settings allow, so the deepest folder a build can write is opened.
const CONFIG = `${SITE_CONFIG}sectionFeeds:\n  depth: 4\n`;

const ARTICLES = {
  "posts/first.md":
    "---\ntitle: First post\ndate: 2024-01-01T10:00:00Z\nauthors: [Ann Lee]\n---\nThe first post.\n",
  "posts/second.md":
    "---\ntitle: Second post\ndate: 2024-02-01T10:00:00Z\ntags: [news]\n---\nThe second post.\n",
  // Nested folders and a language other than the site's: section and language feeds.
  "world/asia/east/korea/seoul.md":
    "---\ntitle: Seoul notes\ndate: 2024-02-15T10:00:00Z\nlanguage: ko\ntags: [news]\n---\n서울.\n",
  "posts/hostile.md": `---\ntitle: ${JSON.stringify(HOSTILE)}\ndate: 2024-03-01T10:00:00Z\nsummary: "Summary with <b>tags</b> & <img src=x onerror=alert(1)>"\n---\nBody <script>alert("body")</script>\n`,
};

let site: Site;
let server: Server;
let proxy: Recorder;

/** A pass-through to the server that notes each request's path and the status it was answered. */
interface Recorder {
  readonly base: string;
  readonly requests: { path: string; status: number }[];
  close(): Promise<void>;
}

async function recordingProxy(target: string): Promise<Recorder> {
  const requests: Recorder["requests"] = [];
  const proxyServer: HttpServer = createServer((req, res) => {
    const path = req.url ?? "/";
    const upstream = request(
      new URL(path, target),
      { method: req.method, headers: req.headers },
      (answer) => {
        requests.push({ path, status: answer.statusCode ?? 0 });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => {
      requests.push({ path, status: 502 });
      res.writeHead(502).end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((done) => proxyServer.listen(0, "127.0.0.1", done));
  const { port } = proxyServer.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((done) => proxyServer.close(() => done())),
  };
}

/**
 * Opens a page in a fresh profile (nothing cached, so every resource is requested) and gives its
 * DOM once the page, and any XSLT, has been applied; with `shot`, also saves a screenshot of it.
 */
async function open(url: string, shot?: string): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), "feedpub-chromium-"));
  if (shot) await mkdir(SCREENSHOTS, { recursive: true });
  try {
    const { stdout } = await run(
      CHROMIUM,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        `--user-data-dir=${profile}`,
        "--hide-scrollbars",
        "--window-size=1000,1300",
        "--virtual-time-budget=3000",
        ...(shot ? [`--screenshot=${join(SCREENSHOTS, shot)}`] : []),
        "--dump-dom",
        url,
      ],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

async function expectPng(file: string): Promise<void> {
  const bytes = await readFile(file);
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  // A blank page compresses to a few kilobytes; text and rules make it larger.
  expect((await stat(file)).size).toBeGreaterThan(15_000);
}

/** The links of a page as Chromium built it: each `<a>`'s href, rel and text. */
function anchors(dom: string): { href: string; rel: string; text: string }[] {
  const attribute = (tag: string, name: string) =>
    (new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1] ?? "").replace(/&amp;/g, "&");
  return [...dom.matchAll(/<a(\s[^>]*)?>([\s\S]*?)<\/a>/g)].map((m) => ({
    href: attribute(m[1] ?? "", "href"),
    rel: attribute(m[1] ?? "", "rel"),
    text: (m[2] ?? "").replace(/<[^>]*>/g, "").trim(),
  }));
}

/**
 * Opens a page through the recorder and checks what every page needs: no request it made failed
 * (Chromium's own favicon probe aside: nothing under feeds/ offers one), its stylesheet was
 * fetched from feeds/feed.css, and every link into the local server answers 200.
 */
async function openAndCheck(path: string, shot: string): Promise<{ dom: string; url: string }> {
  proxy.requests.length = 0;
  const url = `${proxy.base}${path}`;
  const dom = await open(url, shot);
  const requested = proxy.requests.filter((r) => r.path !== "/favicon.ico");
  expect(
    requested.filter((r) => r.status >= 400),
    `${path}: failed requests`,
  ).toEqual([]);
  expect(requested, `${path}: its stylesheet`).toContainEqual({ path: "/feeds/feed.css", status: 200 });
  for (const link of anchors(dom)) {
    // Navigation inside feeds/ is relative, so it works wherever feeds/ is served.
    expect(link.href.startsWith(FEEDS_URL), `${path}: link ${link.href}`).toBe(false);
    const target = new URL(link.href, url);
    if (target.origin !== proxy.base) continue;
    const answer = await fetch(target, { method: "HEAD" });
    expect(answer.status, `${path}: link ${link.href} (${target.href})`).toBe(200);
  }
  await expectPng(join(SCREENSHOTS, shot));
  return { dom, url };
}

/** Every folder of feeds/ that holds a feed, by family (its first folder; "main" for feeds/ itself). */
async function feedFolders(): Promise<Map<string, string[]>> {
  const root = join(site.out, "feeds");
  const families = new Map<string, string[]>();
  const walk = async (folder: string) => {
    const entries = await readdir(join(root, folder), { withFileTypes: true });
    if (entries.some((entry) => entry.name === "rss.xml")) {
      const family = folder.split("/")[0] || "main";
      families.set(family, [...(families.get(family) ?? []), folder]);
    }
    for (const entry of entries)
      if (entry.isDirectory() && entry.name !== "media") await walk(`${folder}${entry.name}/`);
  };
  await walk("");
  return families;
}

/**
 * The family's deepest folder, whose links climb furthest; of those the last by name (of the
 * archive pages the newest, which links both back to the feed and to an older page).
 */
function deepest(folders: readonly string[]): string {
  const depth = (folder: string) => folder.split("/").length;
  return [...folders].sort((a, b) => depth(b) - depth(a) || (a < b ? 1 : -1))[0] as string;
}

beforeAll(async () => {
  // Fail loudly, never skip: scripts/ensure-test-tools.sh installs it (apt-get install chromium).
  await run(CHROMIUM, ["--version"]).catch(() => {
    throw new Error(`${CHROMIUM} is missing: run scripts/ensure-test-tools.sh (apt-get install chromium)`);
  });
  site = await makeSite({ config: CONFIG, files: ARTICLES });
  server = await startServer(
    ["--port", "0", "--content", site.content, "--out", site.out, "--config", site.config],
    {
      cwd: site.dir,
    },
  );
  proxy = await recordingProxy(server.base);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await stopAllServers();
  await removeSites();
});

describe("feeds in a browser (headless Chromium)", () => {
  it("RSS opens as a readable page through its XSLT stylesheet, titles as text", async () => {
    const dom = await open(`${server.base}/feeds/rss.xml`);
    // Transformed into HTML: a heading with the site's title and one linked heading per item.
    expect(dom).toMatch(/<h1>E2E Test Site<\/h1>/);
    expect(dom).toContain('<a href="https://e2e.example.org/posts/first/">First post</a>');
    expect(dom).toContain("This is a web feed (RSS)");
    expect(dom).toContain("https://e2e.example.org/feeds/rss.xml");
    // The hostile title and summary are shown as text: no element came out of them.
    expect(dom).toContain('Q&amp;A &lt;script&gt;alert("title")&lt;/script&gt; "quoted"');
    expect(dom).not.toMatch(/<script|<img|<[^>]*\son\w+=/i);
    expect(dom).not.toContain("&lt;?xml");
  }, 90_000);

  it("Atom opens as a readable page too, titles as text", async () => {
    const dom = await open(`${server.base}/feeds/atom.xml`);
    expect(dom).toMatch(/<h1>E2E Test Site<\/h1>/);
    expect(dom).toContain("This is a web feed (Atom)");
    expect(dom).toContain('<a href="https://e2e.example.org/posts/second/">Second post</a>');
    expect(dom).toContain('Q&amp;A &lt;script&gt;alert("title")&lt;/script&gt; "quoted"');
    expect(dom).not.toMatch(/<script|<img|<[^>]*\son\w+=/i);
  }, 90_000);

  it("RSS, Atom and the landing page show each item's date in the same words", async () => {
    // The text of each item's date line, newest first, as a person reads it.
    const dates = async (path: string) =>
      [...(await open(`${server.base}${path}`)).matchAll(/<p class="date">([\s\S]*?)<\/p>/g)].map((m) =>
        (m[1] ?? "").replace(/<[^>]*>/g, "").trim(),
      );
    const expected = ["1 March 2024", "15 February 2024", "1 February 2024", "1 January 2024"];

    expect(await dates("/feeds/rss.xml")).toEqual(expected);
    expect(await dates("/feeds/atom.xml")).toEqual(expected);
    expect(await dates("/feeds/")).toEqual(expected);
  }, 90_000);

  it("the landing page lists every feed for autodiscovery and the latest items", async () => {
    const dom = await open(`${server.base}/feeds/`);
    for (const [type, file] of [
      ["application/rss+xml", "rss.xml"],
      ["application/atom+xml", "atom.xml"],
      ["application/feed+json", "feed.json"],
    ] as const)
      expect(dom).toMatch(
        new RegExp(
          `<link rel="alternate" type="${type.replace("+", "\\+")}" title="[^"]+" href="https://e2e\\.example\\.org/feeds/${file}">`,
        ),
      );
    expect(dom.indexOf("Q&amp;A")).toBeLessThan(dom.indexOf("Second post"));
    expect(dom.indexOf("Second post")).toBeLessThan(dom.indexOf("First post"));
    expect(dom).not.toMatch(/<script|<img|<[^>]*\son\w+=/i);
  }, 90_000);

  it("the landing page loads its stylesheet and every link on it answers", async () => {
    const { dom } = await openAndCheck("/feeds/", "landing.png");
    // It links to each feed it lists, so the check above reached them all.
    expect(anchors(dom).filter((link) => link.text === "RSS").length).toBeGreaterThan(3);
  }, 120_000);

  for (const [format, file, others] of [
    ["RSS", "rss.xml", { Atom: "atom.xml", "JSON Feed": "feed.json" }],
    ["Atom", "atom.xml", { RSS: "rss.xml", "JSON Feed": "feed.json" }],
  ] as const)
    it(`one ${format} feed of each family, at its depth, loads its styles and has working links`, async () => {
      const families = await feedFolders();
      // The families every build with tags, authors and past months has; any other found is checked too.
      expect([...families.keys()]).toEqual(expect.arrayContaining(["main", "tags", "authors", "archive"]));
      for (const [family, folders] of families) {
        const folder = deepest(folders);
        const { dom, url } = await openAndCheck(
          `/feeds/${folder}${file}`,
          `${family}-${format.toLowerCase()}.png`,
        );
        const where = `${family} (${folder || "feeds/"})`;
        // Rendered by the stylesheet, not shown as XML.
        expect(dom, where).toContain(`This is a web feed (${format})`);
        expect(dom, where).toMatch(/<h1>E2E Test Site[^<]*<\/h1>/);
        expect(dom, where).not.toContain("&lt;?xml");
        const links = anchors(dom);
        const resolved = (text: string) => {
          const link = links.find((candidate) => candidate.text === text);
          expect(link, `${where}: a "${text}" link`).toBeDefined();
          return new URL(link?.href ?? "", url).href;
        };
        // "All feeds" is the landing page, whatever the depth.
        expect(resolved("All feeds"), where).toBe(`${proxy.base}/feeds/index.html`);
        const landing = await (await fetch(resolved("All feeds"))).text();
        expect(landing, where).toContain("<h2>Subscribe</h2>");
        // The other formats are this feed's other files, beside it.
        for (const [name, other] of Object.entries(others)) {
          expect(resolved(name), where).toBe(`${proxy.base}/feeds/${folder}${other}`);
          expect((await fetch(resolved(name), { method: "HEAD" })).status, `${where} ${name}`).toBe(200);
        }
        // Each archive link of the feed (RFC 5005) is on the page, leading to the same document here.
        const xml = await (await fetch(`${proxy.base}/feeds/${folder}${file}`)).text();
        const paging = [...xml.matchAll(/<(?:atom:)?link rel="(current|prev-archive)" href="([^"]+)"\/>/g)];
        if (family === "main")
          expect(
            paging.map(([, rel]) => rel),
            where,
          ).toEqual(["prev-archive"]);
        if (family === "archive")
          expect(
            paging.map(([, rel]) => rel),
            where,
          ).toEqual(["current", "prev-archive"]);
        for (const [, rel, href] of paging) {
          const link = links.find((candidate) => candidate.rel === rel);
          expect(link, `${where}: a ${rel} link`).toBeDefined();
          expect(new URL(link?.href ?? "", url).href, `${where} ${rel}`).toBe(
            `${proxy.base}/feeds/${(href ?? "").slice(FEEDS_URL.length)}`,
          );
        }
      }
    }, 300_000);

  it("feed readers still get the registered types, and the same valid bytes", async () => {
    for (const [file, type] of [
      ["rss.xml", "application/rss+xml"],
      ["atom.xml", "application/atom+xml"],
    ] as const) {
      const reader = await fetch(`${server.base}/feeds/${file}`, {
        headers: { accept: "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8" },
      });
      const browser = await fetch(`${server.base}/feeds/${file}`, {
        headers: { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" },
      });
      expect(reader.headers.get("content-type")).toBe(`${type}; charset=utf-8`);
      expect(browser.headers.get("content-type")).toBe("application/xml; charset=utf-8");
      expect(reader.headers.get("vary")).toBe("Accept");
      expect(reader.headers.get("content-security-policy")).toContain("script-src 'self'");
      const body = await reader.text();
      expect(await browser.text()).toBe(body);
      expect(body).toContain(`<?xml-stylesheet type="text/xsl" href="${file.replace(".xml", ".xsl")}"?>`);
      assertWellFormedXml(body);
      const read = await readWithAllReaders(body);
      for (const feed of Object.values(read))
        expect(feed.items.map((item) => item.title)).toContain("First post");
    }
    assertValidJsonFeed(await (await fetch(`${server.base}/feeds/feed.json`)).text());
  });
});
