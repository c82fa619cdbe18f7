import { execFileSync } from "node:child_process";
import { readFile, truncate, unlink } from "node:fs/promises";
import { join } from "node:path";
import Parser from "rss-parser";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { MAX_MEDIA_BYTES, mediaKeyOf, mediaType, resolveEnclosure } from "../../functions/core/media.ts";
import { parseArticle } from "../../functions/core/parse.ts";
import { applyChanges, publishAll } from "../../functions/engine/publish.ts";
import { FsStorage } from "../../functions/storage/fs-storage.ts";
import type { PutOptions } from "../../functions/storage/port.ts";
import { assertValidJsonFeed, assertWellFormedXml } from "../helpers/feed-check.ts";
import { useTempSite, writeContent } from "../support/temp-site.ts";

/** Each entry's enclosures as Debian's python3-feedparser reads them. */
const pythonEnclosures = (xml: string) =>
  JSON.parse(
    execFileSync(
      "/usr/bin/python3",
      [
        "-c",
        "import sys,json,feedparser; f=feedparser.parse(sys.stdin.read()); print(json.dumps([[dict(e) for e in x.get('enclosures',[])] for x in f.entries]))",
      ],
      { input: xml, encoding: "utf8" },
    ),
  ) as Record<string, string>[][];

const config = parseConfig({
  title: "Pod",
  url: "https://pod.example/",
  feedsUrl: "https://cdn.pod.example/feeds/",
});
const T0 = new Date("2026-01-01T00:00:00Z");
let root: string;
let content: FsStorage;
let output: FsStorage;
const COVER = Buffer.alloc(2345, 7);
const EPISODE = Buffer.alloc(54321, 3);

useTempSite("feedpub-media-", (site) => {
  ({ root, content, output } = site);
});

const write = (path: string, body: string | Buffer) => writeContent(root, path, body);
const out = (key: string) => readFile(join(root, "out", key));
const text = async (key: string) => (await out(key)).toString("utf8");
const EPISODE_POST = `---
title: Episode 1
date: 2025-05-01
image: cover.jpg
enclosure: audio/ep1.mp3
---
Listen.
`;

describe("media references", () => {
  it("only images, audio and video are media, each with a fixed type", () => {
    expect(mediaType("a/b.JPG")).toBe("image/jpeg");
    expect(mediaType("ep.mp3")).toBe("audio/mpeg");
    expect(mediaType("clip.webm")).toBe("video/webm");
    for (const refused of ["x.svg", "x.html", "x.js", "x.pdf", ".hidden/x.png", "_drafts/x.png", "x"])
      expect(mediaType(refused), refused).toBeUndefined();
  });

  it("resolve relative to the article, never outside content/", () => {
    expect(mediaKeyOf("posts/a.md", "cover.jpg")).toBe("posts/cover.jpg");
    expect(mediaKeyOf("posts/a.md", "./img/c.png")).toBe("posts/img/c.png");
    expect(mediaKeyOf("posts/2025/a.md", "../c.png")).toBe("posts/c.png");
    expect(mediaKeyOf("posts/a.md", "/shared/c.png")).toBe("shared/c.png");
    expect(mediaKeyOf("posts/a.md", "../../../etc/passwd")).toBeUndefined();
    expect(mediaKeyOf("posts/a.md", "https://x.example/c.png")).toBeUndefined();
    expect(mediaKeyOf("posts/a.md", "//x.example/c.png")).toBeUndefined();
    const sized = (key: string) => (key === "posts/my cover.jpg" ? 10 : undefined);
    expect(resolveEnclosure("posts/a.md", { ref: "my cover.jpg" }, config.feedsUrl, sized)).toEqual({
      url: "https://cdn.pod.example/feeds/media/posts/my%20cover.jpg",
      type: "image/jpeg",
      length: 10,
    });
    expect(
      resolveEnclosure("a.md", { ref: "https://cdn.x/ep.mp3", length: 99 }, config.feedsUrl, sized),
    ).toEqual({ url: "https://cdn.x/ep.mp3", type: "audio/mpeg", length: 99 });
  });

  it("front matter enclosures: paths, URLs and {url, type, length}; anything else is a clear error", () => {
    const article = parseArticle(
      "p.md",
      new TextEncoder().encode(
        "---\ntitle: T\nenclosure:\n  - a.mp3\n  - url: https://x.example/v.mp4\n    type: video/mp4\n    length: 1000\naudio: b.m4a\n---\nx\n",
      ),
    );
    expect(article.enclosures).toEqual([
      { ref: "a.mp3" },
      { ref: "https://x.example/v.mp4", type: "video/mp4", length: 1000 },
      { ref: "b.m4a" },
    ]);
    const bad = (yaml: string) => () =>
      parseArticle("p.md", new TextEncoder().encode(`---\ntitle: T\n${yaml}\n---\nx\n`));
    expect(bad("enclosure: javascript:alert(1)")).toThrow(
      /enclosure: must be a relative path or an http\(s\) URL/,
    );
    expect(bad("enclosure: {url: a.mp3, type: 'not a type'}")).toThrow(/type must be a media type/);
    expect(bad("enclosure: {url: a.mp3, length: -1}")).toThrow(/length must be a whole number/);
    expect(bad("enclosure: {type: audio/mpeg}")).toThrow(/needs a url/);
  });
});

describe("media published beside articles", () => {
  it("are copied under feeds/media/ and come out as enclosures with type and length in every format", async () => {
    await write("posts/ep1.md", EPISODE_POST);
    await write("posts/cover.jpg", COVER);
    await write("posts/audio/ep1.mp3", EPISODE);
    await write("posts/notes.svg", "<svg onload='alert(1)'/>");
    const report = await publishAll({ config, content, output, now: T0 });
    expect(report.written).toEqual(
      expect.arrayContaining(["feeds/media/posts/cover.jpg", "feeds/media/posts/audio/ep1.mp3"]),
    );
    expect((await out("feeds/media/posts/cover.jpg")).equals(COVER)).toBe(true);
    expect((await out("feeds/media/posts/audio/ep1.mp3")).equals(EPISODE)).toBe(true);
    await expect(out("feeds/media/posts/notes.svg")).rejects.toThrow();

    const cover = "https://cdn.pod.example/feeds/media/posts/cover.jpg";
    const episode = "https://cdn.pod.example/feeds/media/posts/audio/ep1.mp3";
    const rss = await text("feeds/rss.xml");
    assertWellFormedXml(rss);
    const [rssItem] = (await new Parser().parseString(rss)).items;
    expect(rssItem?.enclosure).toEqual({ url: episode, length: String(EPISODE.length), type: "audio/mpeg" });
    expect(pythonEnclosures(rss)[0]).toEqual([
      expect.objectContaining({ href: episode, type: "audio/mpeg", length: String(EPISODE.length) }),
    ]);

    const atom = await text("feeds/atom.xml");
    assertWellFormedXml(atom);
    expect(pythonEnclosures(atom)[0]).toEqual([
      expect.objectContaining({ href: cover, type: "image/jpeg", length: String(COVER.length) }),
      expect.objectContaining({ href: episode, type: "audio/mpeg", length: String(EPISODE.length) }),
    ]);

    const json = assertValidJsonFeed(await text("feeds/feed.json")) as { items: Record<string, unknown>[] };
    expect(json.items[0]?.image).toBe(cover);
    expect(json.items[0]?.attachments).toEqual([
      { url: episode, mime_type: "audio/mpeg", size_in_bytes: EPISODE.length },
    ]);
  });

  it("a media file removed from content/ is removed from feeds/media/, on upload events and on rebuilds", async () => {
    await write("posts/ep1.md", EPISODE_POST);
    await write("posts/cover.jpg", COVER);
    await write("posts/audio/ep1.mp3", EPISODE);
    await publishAll({ config, content, output, now: T0 });
    await unlink(join(root, "content/posts/cover.jpg"));
    const event = await applyChanges({ config, content, output, keys: ["posts/cover.jpg"], now: T0 });
    expect(event.written).toContain("feeds/media/posts/cover.jpg");
    await expect(out("feeds/media/posts/cover.jpg")).rejects.toThrow();
    // A new upload arrives by event too.
    await write("posts/cover.jpg", COVER);
    await applyChanges({ config, content, output, keys: ["posts/cover.jpg"], now: T0 });
    expect((await out("feeds/media/posts/cover.jpg")).equals(COVER)).toBe(true);
    // And the rebuild finds orphans the events missed.
    await unlink(join(root, "content/posts/audio/ep1.mp3"));
    const rebuild = await publishAll({ config, content, output, now: T0 });
    expect(rebuild.written).toContain("feeds/media/posts/audio/ep1.mp3");
    await expect(out("feeds/media/posts/audio/ep1.mp3")).rejects.toThrow();
  });

  // Invocation A publishes (or unpublishes) a media file; just before its write lands, the file is
  // replaced and invocation B publishes the new version. A must not leave its older view behind.
  for (const race of ["copy", "delete"] as const)
    it(`an invocation overtaken just before its ${race} leaves the newest version published`, async () => {
      const V1 = Buffer.alloc(100, 1);
      const V2 = Buffer.alloc(200, 2);
      await write("posts/cover.jpg", V1);
      await publishAll({ config, content, output, now: T0 });
      if (race === "copy") await write("posts/cover.jpg", Buffer.alloc(150, 9));
      else await unlink(join(root, "content/posts/cover.jpg"));
      let overtaken = false;
      const overtake = async () => {
        if (overtaken) return;
        overtaken = true;
        await write("posts/cover.jpg", V2);
        await applyChanges({ config, content, output, keys: ["posts/cover.jpg"], now: T0 });
      };
      const racing = new (class extends FsStorage {
        override async put(key: string, body: Uint8Array | string, options?: PutOptions) {
          if (key === "feeds/media/posts/cover.jpg") await overtake();
          return super.put(key, body, options);
        }
        override async delete(key: string) {
          if (key === "feeds/media/posts/cover.jpg") await overtake();
          return super.delete(key);
        }
      })(join(root, "out"));
      await applyChanges({ config, content, output: racing, keys: ["posts/cover.jpg"], now: T0 });
      expect(overtaken).toBe(true);
      expect((await out("feeds/media/posts/cover.jpg")).equals(V2)).toBe(true);
    });

  it("a file over the size limit is reported, not copied, and its article still publishes", async () => {
    await write("posts/ep1.md", EPISODE_POST);
    await write("posts/audio/ep1.mp3", "");
    await truncate(join(root, "content/posts/audio/ep1.mp3"), MAX_MEDIA_BYTES + 1);
    const report = await publishAll({ config, content, output, now: T0 });
    expect(report.problems).toEqual([
      expect.objectContaining({
        file: "posts/audio/ep1.mp3",
        reason: expect.stringMatching(/^media file too large/),
      }),
    ]);
    await expect(out("feeds/media/posts/audio/ep1.mp3")).rejects.toThrow();
    const json = assertValidJsonFeed(await text("feeds/feed.json")) as { items: Record<string, unknown>[] };
    expect(json.items.map((item) => item.title)).toEqual(["Episode 1"]);
  });
});
