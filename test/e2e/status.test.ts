import { afterAll, describe, expect, it } from "vitest";
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
