import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertValidJsonFeed, assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import { ALL_CASES, HOSTILE_SITE_URL, publishedTitles, reportedCases } from "../support/hostile-cases.ts";
import { makeSite, removeSites, runCli, type Site } from "./cli.ts";

const CONFIG = `title: Hostile\nurl: ${HOSTILE_SITE_URL}\nitemLimit: 50\n`;
const RELATIVE = ["--content", "content", "--out", "public", "--config", "feedpub.config.yaml"];
/** A media file whose published key, feeds/media/<path>, would pass S3's 1,024 bytes. */
const LONG_MEDIA = `${Array.from({ length: 5 }, (_, i) => `${i}${"d".repeat(199)}`).join("/")}/cover.jpg`;
const ESC = "\u001b";

/** The printed form of a content path: control characters escaped, as formatProblem writes it. */
function printed(path: string): string {
  return `content/${path}`.replace(
    /[\u0000-\u001f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function expectReported(output: string): void {
  for (const [path, pattern] of reportedCases()) {
    const line = output.split("\n").find((l) => l.startsWith(`${printed(path)}:`));
    expect(line, `${path} is reported`).toBeDefined();
    expect(line).toMatch(pattern);
    // One line each, with at most a short quote of the value.
    expect((line as string).length).toBeLessThan(400);
  }
  // No uploader's byte reaches the terminal as a control character.
  expect(output).not.toContain(ESC);
  expect(output).not.toContain("\u0007");
}

describe("one bad file is that file's problem: build, check and status of a hostile folder", () => {
  let site: Site;
  beforeAll(async () => {
    site = await makeSite({
      config: CONFIG,
      files: {
        ...Object.fromEntries(Object.entries(ALL_CASES).map(([path, c]) => [path, c.body])),
        [LONG_MEDIA]: new Uint8Array([0xff, 0xd8, 0xff]),
        "good/photo.jpg": new Uint8Array([0xff, 0xd8, 0xff, 0xe0]),
      },
    });
  });
  afterAll(removeSites);

  it("build publishes every good article, reports every bad one by its (escaped) name, exits 0", async () => {
    const result = await runCli(["build", ...RELATIVE], { cwd: site.dir, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expectReported(result.stderr);
    expect(result.stderr).toMatch(/its name under feeds\/media\/ would pass S3's limit of 1,024 bytes/);
    expect(result.stdout).not.toContain(ESC);

    const json = assertValidJsonFeed(await readFile(join(site.out, "feeds/feed.json"), "utf8"));
    const titles = (json.items as { title: string }[]).map((item) => item.title).sort();
    expect(titles).toEqual(publishedTitles());
    for (const name of ["rss.xml", "atom.xml"]) {
      const xml = await readFile(join(site.out, "feeds", name), "utf8");
      assertWellFormedXml(xml);
      for (const feed of Object.values(await readWithAllReaders(xml)))
        expect(feed.items.map((item) => item.title).sort()).toEqual(publishedTitles());
    }
    // The victims keep their ids; no item carries a thief's.
    const ids = (json.items as { id: string; title: string }[]).map((item) => item.id.toLowerCase());
    expect(new Set(ids).size).toBe(ids.length);
    // The media beside it were still published.
    expect(await readFile(join(site.out, "feeds/media/good/photo.jpg"))).toHaveLength(4);
  });

  it("tag and author feeds of astral names get whole code points in their folder names", async () => {
    for (const kind of ["tags", "authors"]) {
      const folders = await readdir(join(site.out, "feeds", kind));
      const astral = folders.filter((name) => /[\u{10000}-\u{10FFFF}]/u.test(name));
      expect(astral.length, kind).toBe(1);
      const folder = astral[0] as string;
      expect(folder).not.toMatch(/\uFFFD/);
      expect(folder.length).toBeLessThanOrEqual(60);
      const feed = assertValidJsonFeed(
        await readFile(join(site.out, "feeds", kind, folder, "feed.json"), "utf8"),
      );
      expect((feed.items as { title: string }[]).map((item) => item.title)).toEqual(["Astral tag"]);
      assertWellFormedXml(await readFile(join(site.out, "feeds", kind, folder, "atom.xml"), "utf8"));
    }
  });

  it("check reports the same problems and exits 1", async () => {
    const result = await runCli(["check", "--content", "content", "--config", "feedpub.config.yaml"], {
      cwd: site.dir,
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(1);
    expectReported(result.stdout);
    // The media file whose published name would be too long is checked too.
    expect(result.stdout).toMatch(/its name under feeds\/media\/ would pass S3's limit of 1,024 bytes/);
    expect(result.stdout).toMatch(
      new RegExp(
        `^${Object.keys(ALL_CASES).length} articles checked, ${reportedCases().length + 1} with problems$`,
        "m",
      ),
    );
  });

  it("status lists the refused names from the private index, escaped", async () => {
    const result = await runCli(["status", "--out", "public", "--config", "feedpub.config.yaml"], {
      cwd: site.dir,
    });
    expect(result.code, result.stderr).toBe(0);
    for (const [path, pattern] of reportedCases().filter(([p]) => p.startsWith("names/"))) {
      const line = result.stdout.split("\n").find((l) => l.startsWith(`${printed(path)}:`));
      expect(line, path).toMatch(pattern);
    }
    // Media problems are kept in the private index too.
    expect(result.stdout).toContain(`content/${LONG_MEDIA}: the file cannot be published`);
    expect(result.stdout).not.toContain(ESC);
  });
});
