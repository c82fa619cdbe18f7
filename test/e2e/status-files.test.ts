import { afterAll, describe, expect, it } from "vitest";
import { PUBLISHED_REASON } from "../../functions/engine/status.ts";
import { build, makeSite, removeSites, runCli } from "./cli.ts";

afterAll(removeSites);

describe("feedpub status --files", () => {
  it("prints every article's outcome in the words of its object tags", async () => {
    const site = await makeSite({
      files: {
        "good.md": "---\ntitle: Good\ndate: 2025-01-01\n---\nGood.",
        "draft.md": "---\ntitle: Draft\ndraft: true\n---\nNot yet.",
        "later.md": "---\ntitle: Later\ndate: 2099-05-01T08:00:00Z\n---\nLater.",
        "gone.md": "---\ntitle: Gone\ndate: 2025-01-01\nexpiryDate: 2025-02-01\n---\nGone.",
        "bad.md": "---\ntitle: [unclosed\n---\nBad.",
      },
    });
    expect((await build(site)).code).toBe(0);
    const run = await runCli(["status", "--files"], { cwd: site.dir });
    expect(run.code, run.stderr).toBe(0);
    const files = run.stdout.split("\n").filter((line) => /^(published|held|rejected) /.test(line));
    expect(files).toEqual([
      expect.stringMatching(/^rejected {2}content\/bad\.md: line 2: front matter is not valid YAML/),
      "held      content/draft.md: draft",
      "held      content/gone.md: expired since 2025-02-01T00:00:00Z",
      `published content/good.md: ${PUBLISHED_REASON}`,
      "held      content/later.md: scheduled until 2099-05-01T08:00:00Z",
    ]);
    // Without --files the report is as it was: only the rejected file is named.
    const plain = await runCli(["status"], { cwd: site.dir });
    expect(plain.stdout).not.toMatch(/^(published|held) /m);
    expect(plain.stdout).toMatch(/^content\/bad\.md:2: front matter is not valid YAML/m);
  });
});
