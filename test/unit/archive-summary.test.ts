import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { archivedItem, archiveScope } from "../../functions/core/archive.ts";
import { assembleFeed, FULL_TEXT_LIMIT, renderFeedFiles, toFeedItem } from "../../functions/core/build.ts";
import { parseConfig } from "../../functions/core/config.ts";
import { publishAll } from "../../functions/engine/publish.ts";
import type { FsStorage } from "../../functions/storage/fs-storage.ts";
import {
  type AllReaders,
  assertValidJsonFeed,
  assertWellFormedXml,
  type ReadItem,
  readWithAllReaders,
} from "../helpers/feed-check.ts";
import { ATOM_ENTRY, countOf, RSS_ITEM, readWithPython, xpath } from "../support/feed-xml.ts";
import { useTempSite, writeContent } from "../support/temp-site.ts";
import { parseText } from "./support.ts";

const config = parseConfig({ title: "Arch", url: "https://arch.example/", itemLimit: 10 });
const NOW = new Date("2025-04-10T12:00:00Z");
let root: string;
let content: FsStorage;
let output: FsStorage;

useTempSite("feedpub-archive-summary-", (site) => {
  ({ root, content, output } = site);
});

const paragraph = "Words of an ordinary paragraph, with *emphasis* and a [link](https://x.example/).\n\n";
/** January is over (it has its page); every article is also in the feed (itemLimit 10). */
const ARTICLES: Record<string, string> = {
  "full.md": "---\ntitle: Full\ndate: 2025-01-05T10:00:00Z\nsummary: The gist.\n---\nThe **whole** text.\n",
  "derived.md": "---\ntitle: Derived\ndate: 2025-01-06T10:00:00Z\n---\nFirst *words* of the text.\n",
  "empty.md": "---\ntitle: Empty\ndate: 2025-01-07T10:00:00Z\n---\n",
  "empty-summary.md":
    "---\ntitle: Empty with summary\ndate: 2025-01-08T10:00:00Z\nsummary: Only this.\n---\n",
  "long.md": `---\ntitle: Long\ndate: 2025-01-09T10:00:00Z\n---\n${paragraph.repeat(2000)}`,
  "april.md": "---\ntitle: April\ndate: 2025-04-01T10:00:00Z\n---\nThis month's.\n",
};
const SAME_EVERYWHERE = ["Empty", "Empty with summary", "Long"];

async function build(): Promise<void> {
  for (const [path, body] of Object.entries(ARTICLES)) await writeContent(root, path, body);
  await publishAll({ config, content, output, now: NOW });
}
const text = (key: string) => readFile(join(root, "out", "feeds", key), "utf8");
type JsonItem = Record<string, unknown> & { title: string };
const jsonItems = async (key: string) =>
  (assertValidJsonFeed(await text(key)) as { items: JsonItem[] }).items;

/** Each reader's items of a document, by title. */
async function readItems(xml: string): Promise<Record<keyof AllReaders, Map<string, ReadItem>>> {
  assertWellFormedXml(xml);
  const all = await readWithAllReaders(xml);
  const byTitle = (items: ReadItem[]) => new Map(items.map((item) => [item.title ?? "", item]));
  return {
    rssParser: byTitle(all.rssParser.items),
    rowan: byTitle(all.rowan.items),
    python: byTitle(all.python.items),
  };
}

describe("archive pages encode their items as summaries", () => {
  it("Atom: a summary and the alternate link, no content; the feed's copy keeps the full text", async () => {
    await build();
    const page = await text("archive/2025-01/atom.xml");
    const feed = await text("atom.xml");
    expect(countOf(page, ATOM_ENTRY)).toBe(5);
    expect(countOf(page, `${ATOM_ENTRY}/*[local-name()='content']`)).toBe(0);
    // Every entry links to its article (rel="alternate" is the default rel).
    expect(countOf(page, `${ATOM_ENTRY}[*[local-name()='link'][not(@rel) or @rel='alternate']]`)).toBe(5);
    const entry = (title: string) => `${ATOM_ENTRY}[*[local-name()='title']='${title}']`;
    expect(xpath(page, `string(${entry("Full")}/*[local-name()='summary'])`)).toBe("The gist.");
    expect(xpath(page, `string(${entry("Derived")}/*[local-name()='summary'])`)).toBe(
      "First words of the text.",
    );

    const onPage = await readItems(page);
    const inFeed = await readItems(feed);
    for (const reader of ["rssParser", "rowan", "python"] as const) {
      const archived = onPage[reader].get("Full");
      const full = inFeed[reader].get("Full");
      expect(archived?.content, reader).toBeUndefined();
      expect(archived?.summary, reader).toBe("The gist.");
      expect(full?.content, reader).toContain("<strong>whole</strong>");
      // The same entry (id and date): RFC 5005 readers keep the feed's copy, the newer document's.
      expect(archived?.id).toBe(full?.id);
      expect(archived?.updated).toBe(full?.updated);
    }
    expect(readWithPython(page).entries.every((item) => item.content === null)).toBe(true);
  });

  it("RSS: description only, no content:encoded; JSON Feed: summary, with it again as content_text", async () => {
    await build();
    const rss = await text("archive/2025-01/rss.xml");
    expect(countOf(rss, RSS_ITEM)).toBe(5);
    expect(countOf(rss, `${RSS_ITEM}/*[local-name()='encoded']`)).toBe(0);
    expect(xpath(rss, `string(${RSS_ITEM}[title='Full']/description)`)).toBe("The gist.");
    // dc:creator stays namespace-bound without content:encoded (readWithAllReaders runs feedparser).
    const onPage = await readItems(rss);
    expect(onPage.python.get("Full")).toMatchObject({ summary: "The gist.", authors: ["Arch"] });
    expect(onPage.python.get("Full")?.content).toBeUndefined();

    const page = await jsonItems("archive/2025-01/feed.json");
    const feed = await jsonItems("feed.json");
    expect(page).toHaveLength(5);
    for (const item of page) {
      expect(item.content_html, item.title).toBeUndefined();
      expect(item.content_text, item.title).toBe(item.summary ?? "");
    }
    expect(page.find((item) => item.title === "Full")).toMatchObject({
      summary: "The gist.",
      content_text: "The gist.",
    });
    expect(feed.find((item) => item.title === "Full")?.content_html).toContain("<strong>whole</strong>");
  });

  it("an empty article (with or without a summary) and one over FULL_TEXT_LIMIT read the same in the feed and on its page", async () => {
    await build();
    expect(ARTICLES["long.md"]?.length).toBeGreaterThan(FULL_TEXT_LIMIT);
    for (const format of ["atom.xml", "rss.xml"]) {
      const onPage = await readItems(await text(`archive/2025-01/${format}`));
      const inFeed = await readItems(await text(format));
      for (const reader of ["rssParser", "rowan", "python"] as const)
        for (const title of SAME_EVERYWHERE)
          expect(onPage[reader].get(title), `${format} ${reader} ${title}`).toEqual(
            inFeed[reader].get(title),
          );
      expect(inFeed.python.get("Long")?.content).toBeUndefined();
      expect(inFeed.python.get("Empty with summary")?.summary).toBe("Only this.");
    }
    // Atom entries are the same XML, byte for byte.
    const page = await text("archive/2025-01/atom.xml");
    const feed = await text("atom.xml");
    for (const title of SAME_EVERYWHERE) {
      const entry = `${ATOM_ENTRY}[*[local-name()='title']='${title}']`;
      expect(countOf(feed, entry)).toBe(1);
      expect(xpath(page, entry)).toBe(xpath(feed, entry));
    }
    const onPage = await jsonItems("archive/2025-01/feed.json");
    const inFeed = await jsonItems("feed.json");
    for (const title of SAME_EVERYWHERE)
      expect(onPage.find((item) => item.title === title)).toEqual(
        inFeed.find((item) => item.title === title),
      );
    expect(inFeed.find((item) => item.title === "Empty")).toMatchObject({ content_text: "" });
  });

  it("a page's item made from the feed's full item is the item rendered without its text, in every format", () => {
    const article = parseText("posts/a.md", ARTICLES["derived.md"] as string);
    const chosen = { path: article.path, id: "urn:uuid:1", published: NOW, updated: NOW };
    const scope = archiveScope(config, "2025-04", undefined);
    const fromFull = archivedItem(toFeedItem(article, chosen, config));
    const rendered = toFeedItem(article, chosen, config, undefined, { fullText: false });
    expect(fromFull).toEqual(rendered);
    expect(renderFeedFiles(assembleFeed(config, [fromFull], scope), scope)).toEqual(
      renderFeedFiles(assembleFeed(config, [rendered], scope), scope),
    );
  });
});
