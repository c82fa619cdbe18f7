import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertValidJsonFeed, assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import { build, makeSite, type RunResult, removeSites, type Site } from "./cli.ts";

// A corpus of nasty articles beside good ones: each bad one gets a clear message, the rest is
// published, every feed stays valid, and nothing in any file makes the publisher run code, read
// local files or inject markup.
const bytes = (...values: number[]) => Uint8Array.from(values);
const md = (front: string, body = "Body.") => `---\n${front}\n---\n${body}\n`;
const LAUGHS = `---\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\ntitle: Laughs\ntags: *g\n---\nx\n`;

const GOOD: Record<string, string | Uint8Array> = {
  "good/plain.md": md("title: Plain good\ndate: 2025-01-01"),
  "good/scripts.md": md(
    'title: "Scripts <script>alert(1)</script> & ]]> tricks"\ndate: 2025-01-02',
    '<script>alert("x")</script><img src=x onerror="alert(1)"><a href="javascript:alert(1)">js</a> <a href="jav&#x09;ascript:alert(1)">tab</a> ]]> <iframe src="https://evil.example/"></iframe><form><input name=q></form>\n\n![local](file:///etc/passwd)',
  ),
  "good/control.md": md(
    'title: "Control \\u0001\\u0008 chars"\ndate: 2025-01-03',
    "Text with \u0001 and \u000b and \uFFFF inside.",
  ),
  "good/entities.html":
    '<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><html><head><title>Entities &amp; DTD</title><meta name="date" content="2025-01-04"></head><body><p>&nbsp;&eacute;&hellip; &xxe; &#0; &#x1;</p></body></html>',
  "good/bom-crlf.md": `\uFEFF---\r\ntitle: BOM and CRLF\r\ndate: 2025-01-05\r\n---\r\nLine one.\r\n\r\nLine two.\r\n`,
  "good/name with spaces+plus Ünï.md": md("title: Odd name\ndate: 2025-01-06"),
  "good/path-slug.md": md('title: Path slug\ndate: 2025-01-07\nurl: "/news/%2e%2e/%2E%2E/etc/passwd"'),
  "good/no-date.txt": "Undated text article\n\nIt is dated when first seen.",
};
const BAD: Record<string, { body: string | Uint8Array; reason: RegExp }> = {
  "bad/broken.md": { body: "---\ntitle: [unclosed\n---\nx", reason: /front matter is not valid YAML/ },
  "bad/laughs.md": { body: LAUGHS, reason: /alias|YAML/ },
  "bad/types.md": { body: md("title: Types\ndate: [1, 2]"), reason: /date: must be a date/ },
  "bad/empty.md": { body: "", reason: /the file is empty/ },
  "bad/binary.md": { body: bytes(0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d), reason: /binary/ },
  "bad/latin1.txt": { body: bytes(0x54, 0x69, 0x74, 0x6c, 0xe9, 0x0a), reason: /not valid UTF-8/ },
  "bad/huge.md": {
    body: `---\ntitle: Huge\n---\n${"x".repeat(1024 * 1024 + 10)}`,
    reason: /limited to 1 MiB/,
  },
  "bad/dup-a.md": { body: md("title: Dup A\ndate: 2025-02-01\nid: tag:example.org,2025:same"), reason: /^$/ },
  "bad/dup-b.md": {
    body: md("title: Dup B\ndate: 2025-02-02\nid: tag:example.org,2025:same"),
    reason: /duplicate id/,
  },
  "bad/slug.md": { body: md("title: Slug\nslug: ../../etc"), reason: /slug: must be a single path segment/ },
  "bad/url.md": {
    body: md('title: Url\nurl: "/../../../etc/passwd"'),
    reason: /url: must not contain "\.\."/,
  },
};

let site: Site;
let run: RunResult;
let feeds: Record<string, string>;

beforeAll(async () => {
  const files: Record<string, string | Uint8Array> = { ...GOOD, ".hidden.md": md("title: Hidden dotfile") };
  for (const [name, { body }] of Object.entries(BAD)) files[name] = body;
  site = await makeSite({ files });
  run = await build(site);
  feeds = Object.fromEntries(
    await Promise.all(
      ["rss.xml", "atom.xml", "feed.json"].map(async (name) => [
        name,
        await readFile(join(site.out, "feeds", name), "utf8"),
      ]),
    ),
  );
}, 60_000);
afterAll(removeSites);

describe("a content folder full of hostile articles", () => {
  it("still builds (exit 0) and names each bad file with its reason", () => {
    expect(run.code).toBe(0);
    for (const [name, { reason }] of Object.entries(BAD)) {
      if (reason.source === "^$") continue; // the first of two duplicates is fine
      const line = run.stderr.split("\n").find((l) => l.includes(`/content/${name}:`));
      expect(line, name).toBeDefined();
      expect(line, name).toMatch(reason);
    }
  });

  it("keeps every feed well-formed and valid", () => {
    assertWellFormedXml(feeds["rss.xml"] ?? "");
    assertWellFormedXml(feeds["atom.xml"] ?? "");
    assertValidJsonFeed(feeds["feed.json"] ?? "");
  });

  it("publishes every good article (and the first of two duplicate ids), never the dotfile", async () => {
    const json = JSON.parse(feeds["feed.json"] ?? "{}") as { items: { title: string; url: string }[] };
    const titles = json.items.map((item) => item.title).sort();
    expect(titles).toEqual(
      [
        "Plain good",
        "Scripts <script>alert(1)</script> & ]]> tricks",
        "Control chars",
        "Entities & DTD",
        "BOM and CRLF",
        "Odd name",
        "Path slug",
        "Undated text article",
        "Dup A",
      ].sort(),
    );
    const hostileTitle = "Scripts <script>alert(1)</script> & ]]> tricks";
    for (const [format, xml] of [
      ["rss", feeds["rss.xml"] ?? ""],
      ["atom", feeds["atom.xml"] ?? ""],
    ] as const) {
      for (const [reader, read] of Object.entries(await readWithAllReaders(xml))) {
        // Python feedparser treats an RSS title with tags in it as HTML and sanitises it itself.
        if (format === "rss" && reader === "python") continue;
        // Atom titles are type="html": some readers hand back the HTML source, whose text is the title.
        const text = (title = "") =>
          format === "atom"
            ? title.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")
            : title;
        expect(
          read.items.map((item) => text(item.title)),
          `${format} ${reader}`,
        ).toContain(hostileTitle);
      }
    }
    const odd = json.items.find((item) => item.title === "Odd name");
    expect(odd?.url).toBe("https://e2e.example.org/good/name%20with%20spaces%2Bplus%20%C3%9Cn%C3%AF/");
    const slug = json.items.find((item) => item.title === "Path slug");
    expect(slug?.url.startsWith("https://e2e.example.org/")).toBe(true);
    expect(slug?.url).not.toContain("..");
  });

  it("injects no markup, runs no script and reads no local file", () => {
    const all = Object.values(feeds).join("\n");
    const contents = (JSON.parse(feeds["feed.json"] ?? "{}") as { items: { content_html: string }[] }).items
      .map((item) => item.content_html)
      .join("\n");
    expect(contents).not.toMatch(/<script|<iframe|<form|<input|onerror|javascript:|file:/i);
    expect(all).not.toMatch(/root:.*:0:0:/); // /etc/passwd never read
    expect(contents).toContain("\u00a0é…"); // undefined-in-XML entities became characters
  });
});
