import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ALL_CASES, HOSTILE_SITE_URL, reportedCases } from "../support/hostile-cases.ts";
import { build, makeSite, removeSites, runCli, writeArticle } from "./cli.ts";

afterAll(removeSites);

describe("feedpub status", () => {
  it("says nothing was published before the first build, and exits 1", async () => {
    const site = await makeSite({ files: { "a.md": "---\ntitle: A\n---\nA" } });
    const run = await runCli(["status"], { cwd: site.dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/nothing published yet in .*public/);
  });

  it("lists every rejected article with its reason and the time of the last regeneration", async () => {
    const site = await makeSite({
      files: {
        "good.md": "---\ntitle: Good\ndate: 2025-01-01\n---\nGood.",
        "bad.md": "---\ntitle: [unclosed\n---\nBad.",
        "empty.txt": "",
      },
    });
    const before = Date.now();
    expect((await build(site)).code).toBe(0);
    const run = await runCli(["status"], { cwd: site.dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^articles: 3 indexed, 1 in the feeds, 2 rejected$/m);
    expect(run.stdout).toMatch(/^content\/bad\.md:2: front matter is not valid YAML/m);
    expect(run.stdout).toMatch(/^content\/empty\.txt: the file is empty$/m);
    const stamp = /^last regeneration: (\S+)$/m.exec(run.stdout)?.[1] ?? "";
    expect(Date.parse(stamp)).toBeGreaterThanOrEqual(before - 1000);

    // Fixing the article clears it from the report.
    await writeArticle(site, "bad.md", "---\ntitle: Fixed\ndate: 2025-01-02\n---\nFixed.");
    await writeArticle(site, "empty.txt", "Now a title\n\nAnd a body.");
    await build(site);
    const after = await runCli(["status"], { cwd: site.dir });
    expect(after.stdout).toMatch(/^articles: 3 indexed, 3 in the feeds, 0 rejected$/m);
    expect(after.stdout).not.toContain("content/bad.md");
  });
});

/** The files named by `file:line: reason` lines (the summary lines have no such form). */
function reportedFiles(output: string, prefix: string): string[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(0, line.indexOf(":")))
    .sort();
}

describe("feedpub status agrees with build and check", () => {
  it("reports the same rejected files as build and check, a duplicate id included", async () => {
    const site = await makeSite({
      files: {
        "first.md": "---\ntitle: First\ndate: 2025-01-01\nid: tag:e2e.example.org,2025:same\n---\nFirst.",
        "second.md": "---\ntitle: Second\ndate: 2025-01-02\nid: tag:e2e.example.org,2025:same\n---\nSecond.",
        "bad.md": "---\ntitle: [unclosed\n---\nBad.",
        "good.md": "---\ntitle: Good\ndate: 2025-01-03\n---\nGood.",
      },
    });
    // All three with their defaults (content/, public/, feedpub.config.yaml), so they name files alike.
    const built = await runCli(["build"], { cwd: site.dir });
    const checked = await runCli(["check"], { cwd: site.dir });
    const status = await runCli(["status"], { cwd: site.dir });
    expect(status.code, status.stderr).toBe(0);

    // The duplicate is refused on render, never recorded as an entry's problem; status finds it too.
    const rejected = ["content/bad.md", "content/second.md"];
    expect(reportedFiles(checked.stdout, "content/")).toEqual(rejected);
    expect(reportedFiles(built.stderr, "content/")).toEqual(rejected);
    expect(reportedFiles(status.stdout, "content/")).toEqual(rejected);
    expect(status.stdout).toMatch(
      /^content\/second\.md: duplicate id "tag:e2e\.example\.org,2025:same": first\.md/m,
    );
    expect(status.stdout).toMatch(/^articles: 4 indexed, 2 in the feeds, 2 rejected$/m);
  });

  it("names the files under --content DIR, the folder that was built", async () => {
    const site = await makeSite();
    const other = join(site.dir, "other");
    await mkdir(other);
    await writeFile(join(other, "bad.md"), "---\ntitle: [unclosed\n---\nBad.");
    await writeFile(join(other, "good.md"), "---\ntitle: Good\ndate: 2025-01-03\n---\nGood.");
    const built = await runCli(["build", "--content", "other/", "--out", "out"], { cwd: site.dir });
    expect(built.stderr).toMatch(/^other\/bad\.md:2: /m);

    const status = await runCli(["status", "--out", "out", "--content", "other/"], { cwd: site.dir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^other\/bad\.md:2: front matter is not valid YAML/m);
    expect(status.stdout).not.toContain("content/");
  });
});

describe("feedpub status on the hostile corpus", () => {
  it("rejects exactly the files build and check report", async () => {
    const site = await makeSite({
      config: `title: Hostile\nurl: ${HOSTILE_SITE_URL}\nitemLimit: 50\n`,
      files: Object.fromEntries(Object.entries(ALL_CASES).map(([path, c]) => [path, c.body])),
    });
    const built = await runCli(["build"], { cwd: site.dir });
    const checked = await runCli(["check"], { cwd: site.dir });
    const status = await runCli(["status"], { cwd: site.dir });
    expect(status.code, status.stderr).toBe(0);
    // Which case files each one names (names are printed with control characters escaped).
    const named = (output: string) =>
      Object.keys(ALL_CASES)
        .filter((path) => output.split("\n").some((line) => line.startsWith(`${printed(path)}:`)))
        .sort();
    const expected = reportedCases()
      .map(([path]) => path)
      .sort();
    expect(named(built.stderr)).toEqual(expected);
    expect(named(checked.stdout)).toEqual(expected);
    expect(named(status.stdout)).toEqual(expected);
    expect(status.stdout).toContain(`, ${expected.length} rejected\n`);
  });
});

function printed(path: string): string {
  return `content/${path}`.replace(
    /[\u0000-\u001f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
