/**
 * The feeds as a person sees them in a browser: Debian's Chromium, headless, against the local
 * server (which negotiates types and sets the CSP the way the CloudFront distribution does).
 * Screenshots are kept in test-artifacts/ for a human to look at.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertValidJsonFeed, assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import { makeSite, REPO, removeSites, type Server, type Site, startServer, stopAllServers } from "./cli.ts";

const run = promisify(execFile);
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(REPO, "test-artifacts");
const HOSTILE = `Q&A <script>alert("title")</script> "quoted"`;

const ARTICLES = {
  "posts/first.md": "---\ntitle: First post\ndate: 2024-01-01T10:00:00Z\n---\nThe first post.\n",
  "posts/second.md":
    "---\ntitle: Second post\ndate: 2024-02-01T10:00:00Z\ntags: [news]\n---\nThe second post.\n",
  "posts/hostile.md": `---\ntitle: ${JSON.stringify(HOSTILE)}\ndate: 2024-03-01T10:00:00Z\nsummary: "Summary with <b>tags</b> & <img src=x onerror=alert(1)>"\n---\nBody <script>alert("body")</script>\n`,
};

let site: Site;
let server: Server;

/** What Chromium's DOM looks like once the page (and any XSLT) has been applied. */
async function dumpDom(url: string): Promise<string> {
  const { stdout } = await run(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--virtual-time-budget=3000",
      "--dump-dom",
      url,
    ],
    { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

async function screenshot(url: string, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, name);
  await run(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--hide-scrollbars",
      "--window-size=1000,1300",
      `--screenshot=${file}`,
      url,
    ],
    { timeout: 60_000 },
  );
  return file;
}

async function expectPng(file: string): Promise<void> {
  const bytes = await readFile(file);
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  // A blank page compresses to a few kilobytes; text and rules make it larger.
  expect((await stat(file)).size).toBeGreaterThan(15_000);
}

beforeAll(async () => {
  // Fail loudly, never skip: scripts/ensure-test-tools.sh installs it (apt-get install chromium).
  await run(CHROMIUM, ["--version"]).catch(() => {
    throw new Error(`${CHROMIUM} is missing: run scripts/ensure-test-tools.sh (apt-get install chromium)`);
  });
  site = await makeSite({ files: ARTICLES });
  server = await startServer(
    ["--port", "0", "--content", site.content, "--out", site.out, "--config", site.config],
    {
      cwd: site.dir,
    },
  );
}, 60_000);

afterAll(async () => {
  await stopAllServers();
  await removeSites();
});

describe("feeds in a browser (headless Chromium)", () => {
  it("RSS opens as a readable page through its XSLT stylesheet, titles as text", async () => {
    const dom = await dumpDom(`${server.base}/feeds/rss.xml`);
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
    const dom = await dumpDom(`${server.base}/feeds/atom.xml`);
    expect(dom).toMatch(/<h1>E2E Test Site<\/h1>/);
    expect(dom).toContain("This is a web feed (Atom)");
    expect(dom).toContain('<a href="https://e2e.example.org/posts/second/">Second post</a>');
    expect(dom).toContain('Q&amp;A &lt;script&gt;alert("title")&lt;/script&gt; "quoted"');
    expect(dom).not.toMatch(/<script|<img|<[^>]*\son\w+=/i);
  }, 90_000);

  it("RSS, Atom and the landing page show each item's date in the same words", async () => {
    // The text of each item's date line, newest first, as a person reads it.
    const dates = async (path: string) =>
      [...(await dumpDom(`${server.base}${path}`)).matchAll(/<p class="date">([\s\S]*?)<\/p>/g)].map((m) =>
        (m[1] ?? "").replace(/<[^>]*>/g, "").trim(),
      );
    const expected = ["1 March 2024", "1 February 2024", "1 January 2024"];

    expect(await dates("/feeds/rss.xml")).toEqual(expected);
    expect(await dates("/feeds/atom.xml")).toEqual(expected);
    expect(await dates("/feeds/")).toEqual(expected);
  }, 90_000);

  it("the landing page lists every feed for autodiscovery and the latest items", async () => {
    const dom = await dumpDom(`${server.base}/feeds/`);
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

  it("keeps screenshots of the landing page and the RSS page as test artifacts", async () => {
    await expectPng(await screenshot(`${server.base}/feeds/`, "landing.png"));
    await expectPng(await screenshot(`${server.base}/feeds/rss.xml`, "rss.png"));
  }, 120_000);

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
