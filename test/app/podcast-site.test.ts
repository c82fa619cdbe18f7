/**
 * The podcast fixture (test/fixtures/podcast/) published through the real engine: every
 * subscription feed a valid show, archive pages plain, uploads and settings changes kept exact.
 */
import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfigFile } from "../../functions/cli/config-file.ts";
import type { SiteConfig } from "../../functions/core/config.ts";
import { applyChanges, publishAll } from "../../functions/engine/publish.ts";
import { FsStorage } from "../../functions/storage/fs-storage.ts";
import { assertValidJsonFeed, assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import {
  assertNamespacesDeclared,
  guidOf,
  podcastMarkup,
  podcastViolations,
} from "../helpers/podcast-check.ts";
import { useTempSite, writeContent } from "../support/temp-site.ts";

const FIXTURE = new URL("../fixtures/podcast/", import.meta.url).pathname;
/** After May and June: both months have their archive pages. */
const NOW = new Date("2025-07-10T00:00:00Z");
const MEDIA: Record<string, number> = {
  "shows/audio/pilot.mp3": 23_456,
  "shows/audio/trailer.mp3": 4_321,
  "shows/pilot.png": 789,
  "news/studio.jpg": 654,
};

let root: string;
let content: FsStorage;
let output: FsStorage;
useTempSite("feedpub-podcast-", (site) => {
  ({ root, content, output } = site);
});

async function seed(): Promise<SiteConfig> {
  await cp(join(FIXTURE, "content"), join(root, "content"), { recursive: true });
  for (const [path, size] of Object.entries(MEDIA)) await writeContent(root, path, Buffer.alloc(size, 7));
  return loadConfigFile(join(FIXTURE, "feedpub.config.yaml"));
}

/** Every RSS file under out/feeds, by key. */
async function rssFiles(out = join(root, "out")): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const entries = await readdir(join(out, "feeds"), { recursive: true });
  for (const entry of entries.sort())
    if (entry.endsWith("rss.xml"))
      files.set(`feeds/${entry}`, await readFile(join(out, "feeds", entry), "utf8"));
  return files;
}

describe("a podcast site, published", () => {
  it("makes every subscription feed a show that meets the rules, and leaves archive pages plain", async () => {
    const config = await seed();
    const report = await publishAll({ config, content, output, now: NOW });
    expect(report.problems).toEqual([]);
    const files = await rssFiles();
    const archives = [...files.keys()].filter((key) => key.startsWith("feeds/archive/"));
    const shows = [...files.keys()].filter((key) => !key.startsWith("feeds/archive/"));
    expect(archives).toEqual(["feeds/archive/2025-05/rss.xml", "feeds/archive/2025-06/rss.xml"]);
    expect(shows).toEqual(
      expect.arrayContaining([
        "feeds/rss.xml",
        "feeds/tags/interviews/rss.xml",
        "feeds/authors/ann-host/rss.xml",
      ]),
    );
    for (const [key, xml] of files) {
      assertWellFormedXml(xml);
      assertNamespacesDeclared(xml);
      if (archives.includes(key)) expect(podcastMarkup(xml), key).toEqual([]);
      else expect(podcastViolations(xml), key).toEqual([]);
    }
    // One show per feed: directories merge feeds that share a guid.
    const guids = shows.map((key) => guidOf(files.get(key) ?? ""));
    expect(new Set(guids).size).toBe(shows.length);
    for (const key of [...files.keys()].map((k) => k.replace("rss.xml", "feed.json")))
      assertValidJsonFeed(await readFile(join(root, "out", key), "utf8"));
  });

  it("carries each episode's real file size, its links resolved, and what readers expect", async () => {
    const config = await seed();
    await publishAll({ config, content, output, now: NOW });
    const xml = (await rssFiles()).get("feeds/rss.xml") ?? "";
    const media = "https://cdn.radio.example.org/feeds/media/";
    expect(xml).toContain(
      `<enclosure length="${MEDIA["shows/audio/pilot.mp3"]}" type="audio/mpeg" url="${media}shows/audio/pilot.mp3"/>`,
    );
    expect(xml).toContain(`<itunes:image href="${media}shows/pilot.png"/>`);
    expect(xml).toContain(
      '<podcast:transcript url="https://radio.example.org/shows/pilot/pilot.vtt" type="text/vtt"/>',
    );
    expect(xml).toContain("<itunes:duration>754</itunes:duration>");
    expect(xml).toContain('<enclosure length="48213677" type="audio/x-m4a"');
    expect(xml).toContain("<copyright>© 2025 Example Radio</copyright>");
    // JSON Feed gives the recording its length too (duration_in_seconds), and only the recording.
    const stored = await output.get("feeds/feed.json");
    const json = JSON.parse(Buffer.from(stored?.body ?? []).toString("utf8")) as {
      items: { title: string; attachments?: { mime_type: string; duration_in_seconds?: number }[] }[];
    };
    const pilot = json.items.find((item) => item.title.startsWith("Pilot"));
    expect(pilot?.attachments?.map((file) => file.duration_in_seconds)).toEqual([754]);
    const timed = json.items.flatMap((item) => item.attachments ?? []).filter((f) => f.duration_in_seconds);
    expect(timed.every((file) => /^(audio|video)\//.test(file.mime_type))).toBe(true);
    const readers = await readWithAllReaders(xml);
    for (const feed of Object.values(readers))
      expect(feed.items.map((item) => item.title)).toEqual([
        "Season two is coming",
        "Studio notes",
        "Second episode & a question <for you>",
        "Pilot: how the newsroom works",
      ]);
  });

  it("an upload that edits an episode gives the feeds a rebuild from scratch would", async () => {
    const config = await seed();
    await publishAll({ config, content, output, now: NOW });
    const path = "shows/2025-06-03-second.md";
    const text = await readFile(join(root, "content", path), "utf8");
    await writeFile(join(root, "content", path), text.replace("duration: 3723", "duration: '1:05:00'"));
    await applyChanges({ config, content, output, keys: [path], now: NOW });
    const incremental = await rssFiles();
    expect(incremental.get("feeds/rss.xml")).toContain("<itunes:duration>3900</itunes:duration>");
    expect(incremental.get("feeds/tags/interviews/rss.xml")).toContain(
      "<itunes:duration>3900</itunes:duration>",
    );
    const fresh = new FsStorage(join(root, "fresh"));
    await publishAll({ config, content, output: fresh, now: NOW });
    expect(incremental).toEqual(await rssFiles(join(root, "fresh")));
  });

  it("turns into a podcast when the settings gain the podcast block, and back", async () => {
    const config = await seed();
    const { podcast: _podcast, ...plain } = config;
    await publishAll({ config: plain, content, output, now: NOW });
    expect(podcastMarkup((await rssFiles()).get("feeds/rss.xml") ?? "")).toEqual([]);
    await publishAll({ config, content, output, now: NOW });
    const xml = (await rssFiles()).get("feeds/rss.xml") ?? "";
    expect(podcastViolations(xml)).toEqual([]);
    expect(xml).toContain("<itunes:episode>2</itunes:episode>");
    await publishAll({ config: plain, content, output, now: NOW });
    expect(podcastMarkup((await rssFiles()).get("feeds/rss.xml") ?? "")).toEqual([]);
  });

  it("refuses, in a serial show, a full episode without a number, and publishes the rest", async () => {
    const config = await seed();
    const serial: SiteConfig = {
      ...config,
      podcast: { ...(config.podcast as NonNullable<SiteConfig["podcast"]>), type: "serial" },
    };
    await writeContent(
      root,
      "shows/2025-06-25-extra.md",
      "---\ntitle: Unnumbered\nenclosure: https://media.radio.example.org/extra.mp3\n---\nx\n",
    );
    const report = await publishAll({ config: serial, content, output, now: NOW });
    expect(report.problems).toEqual([
      {
        file: "shows/2025-06-25-extra.md",
        reason:
          "episode: is required on every full episode of a serial podcast (podcast.type: serial in the settings)",
      },
    ]);
    const xml = (await rssFiles()).get("feeds/rss.xml") ?? "";
    expect(podcastViolations(xml)).toEqual([]);
    expect(xml).not.toContain("Unnumbered");
    expect(xml).toContain("<itunes:type>serial</itunes:type>");
  });
});
