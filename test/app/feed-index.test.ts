import { describe, expect, it } from "vitest";
import {
  type FeedIndex,
  type IndexEntry,
  parseIndex,
  serializeIndex,
} from "../../functions/app/feed-index.ts";
import { parseConfig } from "../../functions/core/config.ts";

const config = parseConfig({ title: "Site", url: "https://example.org/" });
const base = parseIndex(undefined, config).index;
const t = (iso: string) => Date.parse(iso);
const entries: Record<string, IndexEntry> = {
  "a.md": {
    hash: "0123456789abcdef",
    firstSeen: t("2025-01-01T00:00:00.000Z"),
    changed: t("2025-01-01T00:00:00.000Z"),
  },
  "b/c.md": {
    hash: "fedcba9876543210",
    firstSeen: t("2025-01-01T00:00:00.000Z"),
    changed: t("2025-02-03T04:05:06.789Z"),
    date: t("2024-12-31T23:59:59.000Z"),
    updated: t("2025-02-01T00:00:00.000Z"),
    publishDate: t("2025-03-01T00:00:00.000Z"),
    expiryDate: t("2026-03-01T00:00:00.000Z"),
    id: "tag:example.org,2025:c",
  },
  "d.md": { hash: "1111111111111111", firstSeen: 0, changed: 0, draft: true },
  "e.md": {
    hash: "2222222222222222",
    firstSeen: t("2025-01-05T00:00:00.000Z"),
    changed: t("2025-01-05T00:00:00.000Z"),
    problem: { reason: 'front matter is not valid YAML: "quoted", [brackets]', line: 3 },
  },
};
const encode = (index: FeedIndex) => new TextEncoder().encode(serializeIndex(index));

describe("the stored index", () => {
  it("round-trips every field of every entry through its row layout", () => {
    const index: FeedIndex = { ...base, articles: entries, feeds: { "feeds/rss.xml": '"abc"' } };
    const read = parseIndex(encode(index), config);
    expect(read.state).toBe("ok");
    expect(read.index.articles).toEqual(entries);
    expect(read.index.feeds).toEqual(index.feeds);
  });

  it("serialises the same articles to the same bytes whatever order they were added in", () => {
    const reversed = Object.fromEntries(Object.entries(entries).reverse());
    expect(serializeIndex({ ...base, articles: reversed })).toBe(
      serializeIndex({ ...base, articles: entries }),
    );
  });

  it("is far smaller than one JSON object per article", () => {
    const many: Record<string, IndexEntry> = {};
    for (let i = 0; i < 1000; i++)
      many[`news/article-${i}.md`] = { ...(entries["b/c.md"] as IndexEntry), id: undefined as never };
    const rows = serializeIndex({ ...base, articles: many }).length;
    // What the first layout stored: one object per article with ISO times.
    const objects = JSON.stringify(
      Object.fromEntries(
        Object.entries(many).map(([path, e]) => [
          path,
          {
            ...e,
            firstSeen: new Date(e.firstSeen).toISOString(),
            changed: new Date(e.changed).toISOString(),
          },
        ]),
      ),
    ).length;
    expect(rows).toBeLessThan(objects * 0.6);
  });

  it("still reads the first layout (objects), so no first-seen date is lost on upgrade", () => {
    // The first layout: one object per article, times as ISO text ("" for none).
    const asText = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);
    const v1Articles = Object.fromEntries(
      Object.entries(entries).map(([path, e]) => [
        path,
        {
          ...e,
          firstSeen: asText(e.firstSeen) ?? "",
          changed: asText(e.changed) ?? "",
          date: asText(e.date),
          updated: asText(e.updated),
          publishDate: asText(e.publishDate),
          expiryDate: asText(e.expiryDate),
        },
      ]),
    );
    const v1 = JSON.stringify({
      version: 1,
      config: base.config,
      articles: v1Articles,
      rendered: {},
      feeds: {},
    });
    const read = parseIndex(new TextEncoder().encode(v1), config);
    expect(read.state).toBe("ok");
    expect(read.index.articles).toEqual(entries);
  });

  it("reports unreadable state and settings changes", () => {
    expect(parseIndex(new TextEncoder().encode("{oops"), config).state).toBe("unreadable");
    const other = parseConfig({ title: "Other", url: "https://example.org/" });
    const read = parseIndex(encode({ ...base, articles: entries }), other);
    expect(read.state).toBe("settings-changed");
    expect(read.index.articles).toEqual(entries);
    expect(read.index.rendered).toEqual({});
  });
});
