import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { loadConfigFile } from "../../functions/cli/config-file.ts";
import { parseConfig } from "../../functions/core/config.ts";
import { ConfigError } from "../../functions/core/errors.ts";
import {
  APPLE_CATEGORIES,
  appleCategory,
  PODCAST_GUID_NAMESPACE,
  podcastChannel,
  podcastGuid,
  uuidV5,
} from "../../functions/core/podcast-config.ts";
import { APPLE_LIST } from "../helpers/podcast-check.ts";
import { errorOf } from "./support.ts";

const SITE = { title: "The Example Hour", url: "https://radio.example.org/" };
const SHOW = { image: "https://radio.example.org/art/show.png", category: "News", explicit: false };

function problemsOf(podcast: unknown, extra: Record<string, unknown> = {}): readonly string[] {
  const error = errorOf(() => parseConfig({ ...SITE, ...extra, podcast }, "feedpub.config.yaml"));
  if (!(error instanceof ConfigError)) throw error;
  return error.problems;
}

describe("the podcast: settings", () => {
  it("are optional: a site without them has no podcast settings", () => {
    expect(parseConfig(SITE).podcast).toBeUndefined();
  });

  it("need image, category and explicit, and fill in the type", () => {
    expect(parseConfig({ ...SITE, podcast: SHOW }).podcast).toEqual({
      image: "https://radio.example.org/art/show.png",
      categories: [{ name: "News" }],
      explicit: false,
      type: "episodic",
    });
    expect(problemsOf({})).toEqual([
      "podcast.image: is required: the show's artwork, an absolute http(s) URL of a .jpg or .png",
      'podcast.category: is required: one of Apple\'s categories, e.g. "News > Daily News"',
      "podcast.explicit: is required: true or false (Apple's parental advisory), got nothing",
    ]);
  });

  it("read every field, in Apple's spelling of the categories", () => {
    const podcast = parseConfig({
      ...SITE,
      podcast: {
        ...SHOW,
        category: ["society & culture > DOCUMENTARY", "Daily News", "Technology"],
        explicit: true,
        author: "  Example   Radio ",
        owner: "Studio Desk <studio@radio.example.org>",
        type: "serial",
        locked: false,
        guid: "917393E3-1B1E-5CEF-ACE4-EDAA54E1F810",
        copyright: "© 2025 Example Radio",
      },
    }).podcast;
    expect(podcast).toEqual({
      image: "https://radio.example.org/art/show.png",
      categories: [
        { name: "Society & Culture", sub: "Documentary" },
        { name: "News", sub: "Daily News" },
        { name: "Technology" },
      ],
      explicit: true,
      author: "Example Radio",
      owner: { name: "Studio Desk", email: "studio@radio.example.org" },
      type: "serial",
      locked: false,
      guid: "917393e3-1b1e-5cef-ace4-edaa54e1f810",
      copyright: "© 2025 Example Radio",
    });
  });

  it("refuse each bad field with a message naming it", () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["not a mapping", { podcast: "yes" }, /^podcast: must be a mapping/],
      [
        "unknown key",
        { podcast: { ...SHOW, itunes: 1 } },
        /^podcast\.itunes: unknown setting \(known: image, /,
      ],
      [
        "relative image",
        { podcast: { ...SHOW, image: "/art.png" } },
        /^podcast\.image: must be an absolute http/,
      ],
      [
        "javascript image",
        { podcast: { ...SHOW, image: "javascript:alert(1)//.png" } },
        /^podcast\.image: must be an absolute/,
      ],
      [
        "webp image",
        { podcast: { ...SHOW, image: "https://x.example/a.webp" } },
        /^podcast\.image: must be a JPEG or PNG/,
      ],
      [
        "unknown category",
        { podcast: { ...SHOW, category: "Tech" } },
        /^podcast\.category: "Tech" is not one of Apple's/,
      ],
      [
        "wrong subcategory",
        { podcast: { ...SHOW, category: "News > Drama" } },
        /"Drama" is not a subcategory of News \(it has Business News, /,
      ],
      [
        "no subcategories",
        { podcast: { ...SHOW, category: "History > Wars" } },
        /History has no subcategories/,
      ],
      [
        "three levels",
        { podcast: { ...SHOW, category: "News > Politics > Local" } },
        /must be "Category" or "Category > Subcategory"/,
      ],
      [
        "four categories",
        { podcast: { ...SHOW, category: ["News", "History", "Arts", "Music"] } },
        /must name 1 to 3 categories, got 4/,
      ],
      [
        "explicit yes",
        { podcast: { ...SHOW, explicit: "yes" } },
        /^podcast\.explicit: is required: true or false .*got "yes"/,
      ],
      [
        "type",
        { podcast: { ...SHOW, type: "daily" } },
        /^podcast\.type: must be episodic or serial, got "daily"/,
      ],
      ["locked", { podcast: { ...SHOW, locked: "yes" } }, /^podcast\.locked: must be true or false/],
      ["guid", { podcast: { ...SHOW, guid: "my-show" } }, /^podcast\.guid: must be a UUID/],
      [
        "owner without email",
        { podcast: { ...SHOW, owner: { name: "Desk" } } },
        /^podcast\.owner\.email: must be an email address/,
      ],
      [
        "owner without name",
        { podcast: { ...SHOW, owner: { email: "a@b.example" } } },
        /^podcast\.owner\.name: is required/,
      ],
      [
        "owner extra",
        { podcast: { ...SHOW, owner: { name: "D", email: "a@b.example", phone: 1 } } },
        /unknown field "phone"/,
      ],
      [
        "long author",
        { podcast: { ...SHOW, author: "a".repeat(256) } },
        /^podcast\.author: is longer than 255 characters/,
      ],
      ["author list", { podcast: { ...SHOW, author: ["a"] } }, /^podcast\.author: must be text, got a list/],
      [
        "long description",
        { podcast: SHOW, description: "설명".repeat(700) },
        /^description: a podcast's description may be at most 4000 bytes/,
      ],
    ];
    for (const [label, extra, expected] of cases) {
      const problems = problemsOf(
        extra.podcast,
        Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "podcast")),
      );
      expect(
        problems.some((problem) => expected.test(problem)),
        `${label}: ${problems.join(" | ")}`,
      ).toBe(true);
    }
  });

  it("quote a hostile value in a message without its control characters or its length", () => {
    const [problem] = problemsOf({ ...SHOW, type: `\u001b[2J${"x".repeat(5000)}` });
    expect(problem).toContain("\\u001b[2J");
    expect(problem?.length).toBeLessThan(250);
  });

  it("are read from the fixture's YAML file like every other setting", async () => {
    const config = await loadConfigFile(
      new URL("../fixtures/podcast/feedpub.config.yaml", import.meta.url).pathname,
    );
    expect(config.podcast).toMatchObject({
      categories: [
        { name: "News", sub: "Daily News" },
        { name: "Society & Culture", sub: "Documentary" },
      ],
      owner: { name: "Studio Desk", email: "studio@radio.example.org" },
      locked: true,
    });
  });
});

describe("Apple's categories", () => {
  it("are the list Apple publishes, as the rules test copies it", () => {
    expect(Object.entries(APPLE_CATEGORIES)).toEqual(APPLE_LIST.map(([name, subs]) => [name, [...subs]]));
  });

  it("have each subcategory under one category only, so a bare subcategory names its parent", () => {
    const subs = Object.values(APPLE_CATEGORIES).flat();
    expect(new Set(subs).size).toBe(subs.length);
    expect(appleCategory("tech news")).toEqual({ name: "News", sub: "Tech News" });
    expect(appleCategory("Kids & Family")).toEqual({ name: "Kids & Family" });
  });
});

/** Python's uuid.uuid5 in the podcast namespace: an implementation independent of ours. */
function pythonUuid5(name: string): string {
  const script = `import sys,uuid; print(uuid.uuid5(uuid.UUID("${PODCAST_GUID_NAMESPACE}"), sys.argv[1]))`;
  return spawnSync("/usr/bin/python3", ["-I", "-c", script, name], { encoding: "utf8" }).stdout.trim();
}

describe("podcast:guid", () => {
  it("is the UUIDv5 the namespace's own examples give", () => {
    expect(podcastGuid("https://mp3s.nashownotes.com/pc20rss.xml")).toBe(
      "917393e3-1b1e-5cef-ace4-edaa54e1f810",
    );
    expect(podcastGuid("https://podnews.net/rss")).toBe("9b024349-ccf0-5f69-a609-6b82873eab3c");
    expect(podcastGuid("http://podnews.net/rss//")).toBe("9b024349-ccf0-5f69-a609-6b82873eab3c");
  });

  it("agrees with Python's uuid5 on any name, non-ASCII included", () => {
    for (const name of ["radio.example.org/feeds/rss.xml", "例え.jp/feeds/tags/%E3%83%8B/rss.xml", ""])
      expect(uuidV5(PODCAST_GUID_NAMESPACE, name), name).toBe(pythonUuid5(name));
  });

  it("is the feed's own, unless the settings pin the main feed's", () => {
    const settings = parseConfig({
      ...SITE,
      podcast: { ...SHOW, guid: "9b024349-ccf0-5f69-a609-6b82873eab3c" },
    }).podcast;
    if (!settings) throw new Error("no podcast settings");
    const main = podcastChannel(settings, "https://radio.example.org/feeds/rss.xml", "Site", true);
    const tag = podcastChannel(settings, "https://radio.example.org/feeds/tags/a/rss.xml", "Site", false);
    expect(main.guid).toBe("9b024349-ccf0-5f69-a609-6b82873eab3c");
    expect(tag.guid).toBe(pythonUuid5("radio.example.org/feeds/tags/a/rss.xml"));
    expect(tag.author).toBe("Site");
  });
});
