/**
 * An image or enclosure that names a local file the content folder does not have: `check` and
 * `build` warn about it (the feeds would carry a link to a missing file, length 0), and only
 * `--strict` makes that fail. Run with the real CLI on temporary folders.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { build, makeSite, REPO, removeSites, runCli } from "./cli.ts";

afterAll(removeSites);

const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 0xff, 0xd9]);
const FILES = {
  // Lead image missing, beside the article (a Hugo page bundle).
  "posts/trip/index.md": "---\ntitle: Trip\ndate: 2025-01-01\nimage: cover.jpg\n---\nTrip.",
  // Enclosures: one missing, one present, one there but not a media type, one remote.
  "podcast/ep1.md":
    "---\ntitle: Episode 1\ndate: 2025-01-02\nimage: /art/show.jpg\n" +
    "enclosure:\n  - audio/ep1.mp3\n  - art/here.jpg\n  - notes.pdf\n  - https://cdn.example.net/ep1.mp3\n---\nEp 1.",
  "podcast/notes.pdf": "%PDF-1.4",
  "podcast/art/here.jpg": JPEG,
  "art/show.jpg": JPEG,
  // Remote images are not checked.
  "remote.md":
    "---\ntitle: Remote\ndate: 2025-01-03\nimage: https://images.example.net/missing.jpg\n---\nRemote.",
};
const WARNINGS = [
  "content/podcast/ep1.md: warning: enclosure audio/ep1.mp3 is not in content/ (feeds would link to a missing file)",
  "content/podcast/ep1.md: warning: enclosure notes.pdf is not an image, audio or video file that feedpub publishes (feeds would link to a missing file)",
  "content/posts/trip/index.md: warning: image cover.jpg is not in content/ (feeds would link to a missing file)",
];

const warningLines = (output: string) => output.split("\n").filter((line) => line.includes(": warning: "));

describe("missing media files are warnings", () => {
  it("check names the article, the field and the file, and exits 0", async () => {
    const site = await makeSite({ files: FILES });
    const result = await runCli(["check"], { cwd: site.dir });
    expect(warningLines(result.stdout)).toEqual(WARNINGS);
    expect(result.stdout).toMatch(/^3 articles checked, 0 with problems, 3 warnings$/m);
    expect(result.code).toBe(0);
  });

  it("check --strict fails on warnings alone", async () => {
    const site = await makeSite({ files: FILES });
    const result = await runCli(["check", "--strict"], { cwd: site.dir });
    expect(warningLines(result.stdout)).toEqual(WARNINGS);
    expect(result.code).toBe(1);
  });

  it("check of another folder names that folder; one warning is counted in the singular", async () => {
    const site = await makeSite({ files: { "other/a.md": "---\ntitle: A\nimage: a.png\n---\nA." } });
    const result = await runCli(["check", "--content", "content/other"], { cwd: site.dir });
    expect(result.stdout).toContain(
      "content/other/a.md: warning: image a.png is not in content/other/ (feeds would link to a missing file)\n",
    );
    expect(result.stdout).toMatch(/^1 articles checked, 0 with problems, 1 warning$/m);
  });

  it("build prints the same warnings on stderr, publishes the articles, and fails only with --strict", async () => {
    const site = await makeSite({ files: FILES });
    const relative = ["--content", "content", "--out", "public"];
    const first = await runCli(["build", ...relative], { cwd: site.dir });
    expect(first.code).toBe(0);
    expect(warningLines(first.stderr)).toEqual(WARNINGS);
    expect(first.stdout).toMatch(/^published 3 of 3 articles, 3 warnings -> /m);

    const strict = await runCli(["build", ...relative, "--strict", "--force"], { cwd: site.dir });
    expect(warningLines(strict.stderr)).toEqual(WARNINGS);
    expect(strict.code).toBe(1);
  });

  it("the repository's samples name no missing file: check --strict and build are clean", async () => {
    const site = await makeSite({ copyContentFrom: join(REPO, "content") });
    const checked = await runCli(["check", "--strict"], { cwd: site.dir });
    expect(checked.stdout).not.toContain("warning");
    expect(checked.code).toBe(0);
    const built = await build(site);
    expect(built.stderr).toBe("");
    // The sample's lead image is published with its real size, not as a length="0" link.
    const rss = await readFile(join(site.out, "feeds/rss.xml"), "utf8");
    expect(rss).toMatch(
      /<enclosure length="[1-9]\d*" type="image\/jpeg" url="https:\/\/e2e\.example\.org\/feeds\/media\/posts\/road-trip\/cover\.jpg"\/>/,
    );
  });
});
