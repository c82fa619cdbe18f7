import { describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { selectCandidates } from "../../functions/engine/state/candidates.ts";
import { type IndexEntry, publishedOf, type Rank, ranksAbove } from "../../functions/engine/state/entry.ts";
import { type FeedIndex, parseIndex, serializeIndex } from "../../functions/engine/state/head.ts";
import {
  parseShard,
  serializeShard,
  shardCountFor,
  shardOf,
  splitCatalog,
} from "../../functions/engine/state/shards.ts";
import { lcg } from "../support/random.ts";

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
const shardBytes = (catalog: Record<string, IndexEntry>) =>
  new TextEncoder().encode(serializeShard(catalog)?.body ?? "");

describe("the stored index (head)", () => {
  it("round-trips candidates, floor, shard names, counts and feed hashes", () => {
    const index: FeedIndex = {
      ...base,
      shards: ["abc", "", "def"],
      candidates: entries,
      floor: { published: t("2024-01-01T00:00:00Z"), path: "z.md" },
      counts: { articles: 4, problems: 1 },
      feeds: { "feeds/rss.xml": '"abc"' },
    };
    const read = parseIndex(encode(index), config);
    expect(read.state).toBe("ok");
    expect(read.legacy).toBeUndefined();
    expect(read.index.candidates).toEqual(entries);
    expect(read.index.floor).toEqual(index.floor);
    expect(read.index.shards).toEqual(index.shards);
    expect(read.index.counts).toEqual(index.counts);
    expect(read.index.feeds).toEqual(index.feeds);
  });

  it("reads the earlier layouts, which kept every entry inline, so no first-seen date is lost", () => {
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
    const read1 = parseIndex(new TextEncoder().encode(v1), config);
    expect(read1.state).toBe("ok");
    expect(read1.legacy).toEqual(entries);
    // The second layout: rows, as the catalog shards keep them now.
    const rows = JSON.parse(serializeShard(entries)?.body ?? "{}").rows;
    const v2 = JSON.stringify({ version: 2, config: base.config, articles: rows, rendered: {}, feeds: {} });
    const read2 = parseIndex(new TextEncoder().encode(v2), config);
    expect(read2.legacy).toEqual(entries);
    expect(read2.index.counts).toEqual({ articles: 4, problems: 1 });
  });

  it("reports unreadable state and settings changes", () => {
    expect(parseIndex(new TextEncoder().encode("{oops"), config).state).toBe("unreadable");
    expect(parseIndex(new TextEncoder().encode('{"version":3}'), config).state).toBe("unreadable");
    const other = parseConfig({ title: "Other", url: "https://example.org/" });
    const rendered = { "a.md": { hash: "x", item: {} } } as unknown as FeedIndex["rendered"];
    const read = parseIndex(encode({ ...base, candidates: entries, rendered }), other);
    expect(read.state).toBe("settings-changed");
    expect(read.index.candidates).toEqual(entries);
    expect(read.index.rendered).toEqual({});
  });
});

describe("catalog shards", () => {
  it("round-trip every field of every entry through the row layout", () => {
    expect(parseShard(shardBytes(entries))).toEqual(entries);
  });

  it("are named by their bytes: the same entries in any order give the same name", () => {
    const reversed = Object.fromEntries(Object.entries(entries).reverse());
    expect(serializeShard(reversed)).toEqual(serializeShard(entries));
    const edited = { ...entries, "a.md": { ...(entries["a.md"] as IndexEntry), hash: "9999999999999999" } };
    expect(serializeShard(edited)?.name).not.toBe(serializeShard(entries)?.name);
    expect(serializeShard({})).toBeUndefined();
  });

  it("rows are far smaller than one JSON object per article", () => {
    const many: Record<string, IndexEntry> = {};
    for (let i = 0; i < 1000; i++) {
      const { id: _id, ...rest } = entries["b/c.md"] as IndexEntry;
      many[`news/article-${i}.md`] = rest;
    }
    const rows = serializeShard(many)?.body.length ?? 0;
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

  it("spread paths evenly, the same way every time, with about 256 entries a shard", () => {
    expect(shardCountFor(0)).toBe(1);
    expect(shardCountFor(256)).toBe(1);
    expect(shardCountFor(257)).toBe(2);
    expect(shardCountFor(10_000)).toBe(64);
    const catalog: Record<string, IndexEntry> = {};
    for (let i = 0; i < 10_000; i++)
      catalog[`news/article-${String(i).padStart(5, "0")}.md`] = entries["a.md"] as IndexEntry;
    const shards = splitCatalog(catalog, 64);
    const sizes = shards.map((shard) => Object.keys(shard).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(Math.min(...sizes)).toBeGreaterThan(10_000 / 64 / 2);
    expect(Math.max(...sizes)).toBeLessThan((10_000 / 64) * 1.5);
    for (const [slot, shard] of shards.entries())
      for (const path of Object.keys(shard)) expect(shardOf(path, 64)).toBe(slot);
    // FNV-1a's published 32-bit test vectors: changing the hash would misplace every stored entry.
    expect(shardOf("a", 2 ** 32)).toBe(0xe40c292c);
    expect(shardOf("foobar", 2 ** 32)).toBe(0xbf9cf968);
  });
});

describe("planning candidates", () => {
  const NOW = t("2026-06-01T00:00:00Z");
  const day = 86_400_000;
  // A seeded generator, so a failure can be replayed.
  const random = lcg;
  function randomCatalog(next: () => number, size: number): Record<string, IndexEntry> {
    const catalog: Record<string, IndexEntry> = {};
    for (let i = 0; i < size; i++) {
      const roll = next();
      const when = NOW + Math.floor((next() - 0.8) * 200) * day;
      const entry: { -readonly [K in keyof IndexEntry]: IndexEntry[K] } = {
        hash: String(i).padStart(16, "0"),
        firstSeen: NOW - Math.floor(next() * 100) * day,
        changed: NOW,
      };
      if (roll < 0.6) entry.date = when;
      else if (roll < 0.7) entry.publishDate = when;
      if (next() < 0.1) entry.expiryDate = NOW + Math.floor((next() - 0.5) * 20) * day;
      if (next() < 0.05) entry.draft = true;
      if (next() < 0.05) entry.problem = { reason: "bad" };
      if (next() < 0.05) entry.id = `tag:x,2026:${i % 7}`;
      catalog[`p/${String(i).padStart(3, "0")}.md`] = entry;
    }
    return catalog;
  }
  const publishable = (entry: IndexEntry) => {
    if (entry.problem || entry.draft) return false;
    const published = publishedOf(entry, NOW);
    const authorDated = entry.date !== undefined || entry.publishDate !== undefined;
    if (authorDated && Math.max(published, entry.publishDate ?? 0) > NOW) return false;
    return entry.expiryDate === undefined || entry.expiryDate > NOW;
  };

  it("keep every publishable article above the floor, the scheduled ones and those with an author id", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const next = random(seed);
      const catalog = randomCatalog(next, 20 + Math.floor(next() * 200));
      const keep = 5 + Math.floor(next() * 30);
      const { candidates, floor } = selectCandidates(catalog, new Date(NOW), keep);
      const ranks: Rank[] = Object.entries(catalog)
        .filter(([, entry]) => publishable(entry))
        .map(([path, entry]) => ({ path, published: publishedOf(entry, NOW) }))
        .sort((a, b) => (ranksAbove(a, b) ? -1 : 1));
      // The newest `keep` publishable articles are in; the floor is the first one left out.
      for (const rank of ranks.slice(0, keep)) expect(candidates[rank.path], `seed ${seed}`).toBeDefined();
      expect(floor, `seed ${seed}`).toEqual(ranks[keep]);
      for (const [path, entry] of Object.entries(catalog)) {
        const scheduled =
          !entry.problem &&
          !entry.draft &&
          !publishable(entry) &&
          !(entry.expiryDate !== undefined && entry.expiryDate <= NOW);
        if (scheduled || (entry.id && !entry.problem && !entry.draft))
          expect(candidates[path], `${path} seed ${seed}`).toBeDefined();
        if (entry.problem || entry.draft) expect(candidates[path]).toBeUndefined();
        if (candidates[path]) expect(candidates[path]).toBe(entry);
      }
      // With a floor given, nothing ranked at or below it is kept unless scheduled or id'd.
      if (floor) {
        const again = selectCandidates(catalog, new Date(NOW), 1000, floor);
        for (const rank of ranks) {
          const entry = catalog[rank.path] as IndexEntry;
          if (!ranksAbove(rank, floor) && !entry.id) expect(again.candidates[rank.path]).toBeUndefined();
          if (ranksAbove(rank, floor)) expect(again.candidates[rank.path]).toBeDefined();
        }
        expect(again.floor).toEqual(floor);
      }
    }
  });
});
