import { existsSync } from "node:fs";
import { readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertValidJsonFeed, assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import { build, makeSite, REPO, removeSites, runCli, type Site } from "./cli.ts";

const GOOD: Record<string, string> = {
  "posts/good-markdown.md":
    "---\ntitle: Good Markdown\ndate: 2024-03-01T09:00:00Z\ntags: [ok]\n---\nFine *body*.\n",
  "posts/good-text.txt": "Good plain text\n\nA paragraph of plain text.\n",
  "posts/good.html":
    "<!doctype html><html lang=en><head><title>Good HTML</title>" +
    '<meta name="date" content="2024-02-01"></head><body><p>HTML body.</p></body></html>',
  "posts/good.json":
    '{"title": "Good JSON", "date_published": "2024-01-15", "content_html": "<p>JSON body</p>"}',
};

const BAD: Record<string, string | Uint8Array> = {
  // Unclosed flow sequence on line 4 (the parser notices only on the next line; the line reported is 4).
  "bad/broken-yaml.md": "---\ntitle: Broken\ndate: 2024-01-01\ntags: [a, b\nsummary: x\n---\nbody\n",
  "bad/wrong-type.md": "---\ntitle: Wrong type\ndate: 2024-01-01\ndraft: maybe\n---\nbody\n",
  "bad/empty.md": "",
  "bad/binary.txt": Uint8Array.from([0x54, 0x69, 0x74, 0x6c, 0x65, 0x0a, 0x00, 0x01, 0x02, 0xff, 0x00]),
  "bad/invalid-utf8.txt": Uint8Array.from([...Buffer.from("Title\n\nLatin-1 caf"), 0xe9, 0x0a]),
  "bad/oversized.txt": `Too big\n\n${"word ".repeat(220_000)}\n`,
  "bad/no-title.html":
    "<!doctype html>\n<html><body><p>A body but no title and no heading.</p></body></html>\n",
};

/** Every problem the build must report, as `content/FILE[:LINE]: reason` (a regular expression). */
const EXPECTED_PROBLEMS: RegExp[] = [
  /^content\/bad\/binary\.txt: the file is binary/m,
  /^content\/bad\/broken-yaml\.md:4: front matter is not valid YAML: /m,
  /^content\/bad\/empty\.md: the file is empty$/m,
  /^content\/bad\/invalid-utf8\.txt: the file is not valid UTF-8/m,
  /^content\/bad\/no-title\.html:1: no title: add a <title> or an <h1>$/m,
  /^content\/bad\/oversized\.txt: the file is [\d,]+ bytes; articles are limited to 1 MiB \(1,048,576 bytes\)$/m,
  /^content\/bad\/wrong-type\.md:4: draft: must be true or false, got string "maybe"$/m,
];

const RELATIVE = ["--content", "content", "--out", "public", "--config", "feedpub.config.yaml"];

describe("bad articles", () => {
  let site: Site;
  beforeAll(async () => {
    site = await makeSite({ files: { ...GOOD, ...BAD } });
    expect((await stat(join(site.content, "bad/oversized.txt"))).size).toBeGreaterThan(1024 * 1024);
  });
  afterAll(removeSites);

  it("build reports each bad file as file:line: reason, publishes the good ones and exits 0", async () => {
    const result = await runCli(["build", ...RELATIVE], { cwd: site.dir });
    expect(result.code, result.stderr).toBe(0);
    for (const pattern of EXPECTED_PROBLEMS) expect(result.stderr).toMatch(pattern);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(Object.keys(BAD).length);
    // Each line is `file[:line]: reason`, naming a bad file and never a good one.
    for (const line of lines) expect(line).toMatch(/^content\/bad\/[\w.-]+(:\d+)?: \S.*$/);
    expect(result.stdout).toMatch(/^published 4 of 11 articles, 7 skipped with problems/m);

    const json = assertValidJsonFeed(await readFile(join(site.out, "feeds/feed.json"), "utf8"));
    const titles = (json.items as { title: string }[]).map((i) => i.title);
    expect([...titles].sort()).toEqual(["Good HTML", "Good JSON", "Good Markdown", "Good plain text"]);
    for (const name of ["rss.xml", "atom.xml"]) {
      const xml = await readFile(join(site.out, "feeds", name), "utf8");
      assertWellFormedXml(xml);
      const readers = await readWithAllReaders(xml);
      for (const feed of Object.values(readers))
        expect(feed.items.map((i) => i.title).sort()).toEqual([
          "Good HTML",
          "Good JSON",
          "Good Markdown",
          "Good plain text",
        ]);
    }
  });

  it("build --strict still reports every problem but exits 1", async () => {
    const result = await runCli(["build", ...RELATIVE, "--strict"], { cwd: site.dir });
    expect(result.code).toBe(1);
    for (const pattern of EXPECTED_PROBLEMS) expect(result.stderr).toMatch(pattern);
  });

  it("check prints every problem and exits 1, writing nothing", async () => {
    const fresh = await makeSite({ files: { ...GOOD, ...BAD } });
    const result = await runCli(["check", "--content", "content"], { cwd: fresh.dir });
    expect(result.code).toBe(1);
    for (const pattern of EXPECTED_PROBLEMS) expect(result.stdout).toMatch(pattern);
    expect(result.stdout).toMatch(/^11 articles checked, 7 with problems$/m);
    expect(existsSync(fresh.out)).toBe(false);
  });

  it("check exits 0 with '0 with problems' on a clean folder", async () => {
    const clean = await makeSite({ files: GOOD });
    const result = await runCli(["check", "--content", "content"], { cwd: clean.dir });
    expect(result.stdout).toMatch(/^4 articles checked, 0 with problems$/m);
    expect(result.code).toBe(0);
  });

  it("check also catches what needs every article at once: a duplicate id", async () => {
    const dup = await makeSite({
      files: {
        "a.md": "---\ntitle: A\nid: tag:e2e.example.org,2024:same\n---\nA\n",
        "b.md": "---\ntitle: B\nid: tag:e2e.example.org,2024:same\n---\nB\n",
      },
    });
    const result = await runCli(["check", "--content", "content"], { cwd: dup.dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^content\/b\.md: duplicate id "tag:e2e\.example\.org,2024:same": a\.md/m);
  });
});

describe("a huge (multi-GiB, sparse) file named like an article", () => {
  afterAll(removeSites);

  it("is reported by size by build and check, never read whole", async () => {
    const site = await makeSite({ files: GOOD });
    const path = join(site.content, "huge.txt");
    await writeFile(path, "");
    await truncate(path, 3 * 1024 ** 3); // sparse: no disk space used
    const problem =
      /^content\/huge\.txt: the file is 3,221,225,472 bytes; articles are limited to 1 MiB \(1,048,576 bytes\)$/m;

    const checked = await runCli(["check", "--content", "content"], { cwd: site.dir });
    expect(checked.stderr).not.toMatch(/ERR_FS_FILE_TOO_LARGE|at async/);
    expect(checked.stdout).toMatch(problem);
    expect(checked.stdout).toMatch(/^5 articles checked, 1 with problems$/m);
    expect(checked.code).toBe(1);

    const built = await runCli(["build", ...RELATIVE], { cwd: site.dir });
    expect(built.code).toBe(0);
    expect(built.stderr).toMatch(problem);
    expect(built.stdout).toMatch(/^published 4 of 5 articles, 1 skipped with problems/m);
  });
});

describe("a missing content folder", () => {
  afterAll(removeSites);

  it("build refuses (non-zero, names the folder) and keeps the feeds already published", async () => {
    const site = await makeSite({ files: GOOD });
    expect((await build(site)).code).toBe(0);
    const before = await readFile(join(site.out, "feeds/feed.json"), "utf8");
    // A typo in --content must not replace the published feeds with empty ones.
    const result = await runCli(
      ["build", "--content", join(site.dir, "contnet"), "--out", site.out, "--config", site.config],
      { cwd: site.dir },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("contnet");
    expect(await readFile(join(site.out, "feeds/feed.json"), "utf8")).toBe(before);
  });

  it("check refuses too instead of reporting '0 with problems'", async () => {
    const site = await makeSite();
    await rm(site.content, { recursive: true });
    const result = await runCli(["check", "--content", "content"], { cwd: site.dir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("content");
    expect(result.stdout).not.toContain("0 with problems");
  });
});

describe("bad config files", () => {
  afterAll(removeSites);

  const cases: [string, string, RegExp][] = [
    [
      "url is not a URL",
      "title: T\nurl: not-a-url\n",
      /url: must be an absolute http\(s\) URL, got "not-a-url"/,
    ],
    [
      "itemLimit is 0",
      "title: T\nurl: https://x.example/\nitemLimit: 0\n",
      /itemLimit: must be a whole number/,
    ],
    ["an unknown key", "title: T\nurl: https://x.example/\nbogus: 1\n", /bogus: unknown setting/],
    ["title is missing", "url: https://x.example/\n", /title: is required/],
    ["the YAML is broken", "title: [T\nurl: https://x.example/\n", /not valid YAML/],
    [
      "a key is repeated",
      "title: T\nurl: https://x.example/\ntitle: U\n",
      /not valid YAML: Map keys must be unique/,
    ],
  ];

  it.each(cases)(
    "%s: build exits non-zero naming the field and writes nothing",
    async (_, config, message) => {
      const site = await makeSite({ config, files: GOOD });
      const result = await build(site);
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      expect(result.stderr).toContain(`${site.config}: invalid configuration`);
      expect(result.stderr).toMatch(message);
      expect(existsSync(site.out)).toBe(false);
    },
  );

  it("a missing config file is named, with a hint", async () => {
    const site = await makeSite({ files: GOOD });
    const result = await runCli(["build", "--config", "nowhere.yaml"], { cwd: site.dir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/nowhere\.yaml: invalid configuration\n {2}- not found; .*--config FILE/);
  });

  it("serve with a bad config exits non-zero instead of serving", async () => {
    const site = await makeSite({ config: "title: T\nurl: https://x.example/\nitemLimit: 0\n" });
    const result = await runCli(["serve", "--port", "0", "--config", site.config], {
      cwd: site.dir,
      timeoutMs: 15_000,
    });
    expect(result.signal).toBeNull();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/itemLimit: must be a whole number/);
  });

  it("the repository's own feedpub.config.yaml is valid (check against a copy)", async () => {
    const site = await makeSite({
      config: await readFile(join(REPO, "feedpub.config.yaml"), "utf8"),
      files: GOOD,
    });
    const result = await runCli(["check", "--content", "content"], { cwd: site.dir });
    expect(result.code, result.stderr).toBe(0);
  });
});
