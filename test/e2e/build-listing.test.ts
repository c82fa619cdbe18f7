import { afterAll, describe, expect, it } from "vitest";
import { build, makeSite, removeSites, writeArticle } from "./cli.ts";

afterAll(removeSites);

const article = (title: string, date: string) =>
  `---\ntitle: ${title}\ndate: ${date}\n---\nBody of ${title}.\n`;

describe("feedpub build reads only what changed since the last build", () => {
  it("a second build reads nothing, an edit is the one read, --force reads every article", async () => {
    const site = await makeSite({
      files: {
        "a.md": article("Alpha", "2026-01-01"),
        "b.md": article("Beta", "2026-01-02"),
        "c.md": article("Gamma", "2026-01-03"),
      },
    });
    const first = await build(site);
    expect(first.code).toBe(0);
    // The first build reads all of them, and says nothing of it.
    expect(first.stdout).toMatch(/^published 3 of 3 articles -> /);

    const again = await build(site);
    expect(again.stdout).toMatch(
      /^published 3 of 3 articles, 0 read \(the others unchanged\) -> .*\(unchanged\)\n$/,
    );

    await writeArticle(site, "b.md", article("Beta, edited", "2026-01-02"));
    const edited = await build(site);
    expect(edited.stdout).toMatch(
      /^published 3 of 3 articles, 1 read \(the others unchanged\) -> .*updated rss\.xml/,
    );

    const forced = await build(site, "--force");
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^published 3 of 3 articles -> .*\(unchanged\)\n$/);
  }, 60_000);
});
