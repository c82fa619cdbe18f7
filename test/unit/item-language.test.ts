import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import type { FeedItem, FeedModel } from "../../functions/core/model.ts";
import { renderAtom } from "../../functions/core/render/atom.ts";
import { withLanguages } from "../../functions/core/render/item-language.ts";
import { renderJsonFeed } from "../../functions/core/render/json-feed.ts";
import { renderRss } from "../../functions/core/render/rss.ts";
import { publishAll } from "../../functions/engine/publish.ts";
import type { FsStorage } from "../../functions/storage/fs-storage.ts";
import { assertValidJsonFeed, assertWellFormedXml, readWithAllReaders } from "../helpers/feed-check.ts";
import {
  ATOM_ENTRY,
  ATOM_FEED,
  countOf,
  filesNamed,
  RSS_ITEM,
  readWithPython,
  xpath,
} from "../support/feed-xml.ts";
import { useTempSite, writeContent } from "../support/temp-site.ts";
import { BASE_ITEM, BASE_MODEL } from "./support.ts";

const item = (n: number, overrides: Partial<FeedItem>): FeedItem => ({
  ...BASE_ITEM,
  id: `urn:uuid:00000000-0000-5000-8000-00000000000${n}`,
  title: `Item ${n}`,
  ...overrides,
});
/** Text that holds what a naive search for the item tags would take for them. */
const DECOY = '<item> <entry xml:lang="xx"> <feed> ]]> <!-- -->';
const ITEMS: FeedItem[] = [
  item(1, { language: "en" }),
  // Not what the sanitiser lets through, but a renderer must not rely on that.
  item(2, { language: "ko", contentHtml: `<p>a > b ${DECOY}</p><pre>&lt;item&gt;</pre>` }),
  item(3, { language: "EN" }),
  item(4, {}),
  item(5, { language: "zh-Hant-TW", title: DECOY, summary: DECOY, contentHtml: `<p>x</p>${"]]>"}<p>y</p>` }),
  item(6, { title: `Decoy ${DECOY}`, contentHtml: "<p>Has <code>&lt;entry&gt;</code></p>" }),
];
const MODEL: FeedModel = { ...BASE_MODEL, items: ITEMS };
/** The ids that must be marked, with their language: those not in the feed's "en". */
const MARKED = { [ITEMS[1]?.id as string]: "ko", [ITEMS[4]?.id as string]: "zh-Hant-TW" };

describe("articles in another language than the feed's", () => {
  it("carry xml:lang on exactly their RSS item and Atom entry; JSON Feed gives each article's language", async () => {
    const rss = renderRss(MODEL);
    const atom = renderAtom(MODEL);
    for (const xml of [rss, atom]) {
      assertWellFormedXml(xml);
      // Every reader still reads every item.
      for (const [reader, read] of Object.entries(await readWithAllReaders(xml)))
        expect(
          read.items.map((i) => i.id),
          reader,
        ).toEqual(ITEMS.map((i) => i.id));
    }
    expect(countOf(rss, `${RSS_ITEM}[@xml:lang]`)).toBe(2);
    expect(countOf(atom, `${ATOM_ENTRY}[@xml:lang]`)).toBe(2);
    for (const { id } of ITEMS) {
      expect(xpath(rss, `string(${RSS_ITEM}[guid='${id}']/@xml:lang)`), id).toBe(MARKED[id] ?? "");
      expect(xpath(atom, `string(${ATOM_ENTRY}[*[local-name()='id']='${id}']/@xml:lang)`), id).toBe(
        MARKED[id] ?? "",
      );
    }
    // The Atom document states its own language; its entries inherit it unless they say otherwise.
    expect(xpath(atom, `string(${ATOM_FEED}/@xml:lang)`)).toBe("en");
    expect(readWithPython(atom).entries.map((e) => e.language)).toEqual([
      "en",
      "ko",
      "en",
      "en",
      "zh-Hant-TW",
      "en",
    ]);
    expect(readWithPython(rss).entries.map((e) => e.language)).toEqual([
      null,
      "ko",
      null,
      null,
      "zh-Hant-TW",
      null,
    ]);

    const json = assertValidJsonFeed(renderJsonFeed(MODEL)) as {
      language: string;
      items: { language?: string }[];
    };
    expect(json.language).toBe("en");
    expect(json.items.map((i) => i.language)).toEqual(["en", "ko", "EN", undefined, "zh-Hant-TW", undefined]);
  });

  it("a language feed marks none of its own items, and escapes a value that reached it unchecked", () => {
    const korean = { ...MODEL, language: "KO", items: [ITEMS[1] as FeedItem] };
    expect(countOf(renderAtom(korean), `${ATOM_ENTRY}[@xml:lang]`)).toBe(0);
    expect(countOf(renderRss(korean), `${RSS_ITEM}[@xml:lang]`)).toBe(0);

    // fields.ts refuses this at parse time; the renderers escape it all the same.
    const hostile = `ko" onload="x'<&>`;
    const model = { ...MODEL, items: [item(7, { language: hostile })] };
    for (const [xml, path] of [
      [renderRss(model), `${RSS_ITEM}`],
      [renderAtom(model), `${ATOM_ENTRY}`],
    ] as const) {
      assertWellFormedXml(xml);
      expect(countOf(xml, `${path}/@*`)).toBe(1);
      expect(xpath(xml, `string(${path}/@xml:lang)`)).toBe(hostile);
    }
  });

  it("the scan adds the attribute to start tags only, never inside CDATA, comments, instructions or values", () => {
    const xml = [
      '<?xml version="1.0"?><?pi a > <item> ?><r>',
      "<!-- a > <item> --><items/><item-x/>",
      "<item a=\"1 > 2\" b='x > &lt;item&gt;'><![CDATA[ a > <item> ]]>&lt;item&gt;</item>",
      "<item/>",
      "<item\n>text</item>",
      "<item>last</item></r>",
    ].join("");
    const marked = withLanguages(xml, "item", ["a", undefined, "c", "d"]);
    assertWellFormedXml(marked);
    expect(countOf(marked, "/r/item")).toBe(4);
    expect(["1", "2", "3", "4"].map((n) => xpath(marked, `string(/r/item[${n}]/@xml:lang)`))).toEqual([
      "a",
      "",
      "c",
      "d",
    ]);
    expect(xpath(marked, "string(/r/item[1]/@a)")).toBe("1 > 2");
    expect(xpath(marked, "string(/r/item[1]/@b)")).toBe("x > <item>");
    expect(countOf(marked, "//*[@xml:lang]")).toBe(3);
    // Nothing to mark: the very same string.
    expect(withLanguages(xml, "item", [undefined, undefined])).toBe(xml);
  });
});

describe("item languages in a built site", () => {
  let root: string;
  let content: FsStorage;
  let output: FsStorage;
  useTempSite("feedpub-lang-", (site) => {
    ({ root, content, output } = site);
  });

  it("in every Atom and RSS document, the items marked are those whose article's language is not the document's", async () => {
    const post = (title: string, day: number, lang?: string) =>
      `---\ntitle: ${title}\ndate: 2025-03-0${day}T10:00:00Z\n${lang ? `lang: ${lang}\n` : ""}---\nText.\n`;
    await writeContent(root, "en.md", post("English", 1));
    await writeContent(root, "en-gb.md", post("British", 2, "en-GB"));
    await writeContent(root, "ko.md", post("Korean", 3, "ko"));
    await writeContent(root, "ko-upper.md", post("Korean again", 4, "KO"));
    await writeContent(root, "ja.md", post("Japanese", 5, "ja"));
    const config = parseConfig({
      title: "L",
      url: "https://l.example/",
      language: "en",
      languageFeeds: true,
    });
    await publishAll({ config, content, output, now: new Date("2025-03-10T00:00:00Z") });

    const feeds = join(root, "out", "feeds");
    const folders = (await filesNamed(feeds, "atom.xml")).map((file) => file.slice(0, -"atom.xml".length));
    expect(folders).toEqual(expect.arrayContaining(["", "lang/en/", "lang/ko/", "lang/ja/"]));
    const markedIn: Record<string, string[]> = {};
    for (const folder of folders) {
      const read = (file: string) => readFile(join(feeds, folder, file), "utf8");
      const json = assertValidJsonFeed(await read("feed.json")) as {
        language: string;
        items: { id: string; title: string; language?: string }[];
      };
      const atom = await read("atom.xml");
      const rss = await read("rss.xml");
      assertWellFormedXml(atom);
      assertWellFormedXml(rss);
      expect(xpath(atom, `string(${ATOM_FEED}/@xml:lang)`)).toBe(json.language);
      expect(xpath(rss, "string(/rss/channel/language)")).toBe(json.language);
      const expected = json.items.map((i) =>
        i.language && i.language.toLowerCase() !== json.language.toLowerCase() ? i.language : "",
      );
      for (const [index, { id }] of json.items.entries()) {
        expect(xpath(atom, `string(${ATOM_ENTRY}[*[local-name()='id']='${id}']/@xml:lang)`)).toBe(
          expected[index],
        );
        expect(xpath(rss, `string(${RSS_ITEM}[guid='${id}']/@xml:lang)`)).toBe(expected[index]);
      }
      markedIn[folder] = json.items.filter((_, index) => expected[index]).map((i) => i.title);
    }
    // The main feed marks what is not English; each language feed marks nothing of its own.
    expect(markedIn[""]?.sort()).toEqual(["British", "Japanese", "Korean", "Korean again"]);
    expect(markedIn["lang/ko/"]).toEqual([]);
    expect(markedIn["lang/ja/"]).toEqual([]);
  });
});
