/**
 * The pure half of the outcome tags: what each article's tags say (judgeCatalog, tagText), how
 * they join the editor's own (mergeTags), and which articles a rebuild looks at (rebuildTags).
 * The S3 half is in test/integration/object-tags.test.ts.
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import type { EnginePlan } from "../../functions/engine/planner.ts";
import type { Catalog, IndexEntry } from "../../functions/engine/state/entry.ts";
import { serializeShard } from "../../functions/engine/state/shards.ts";
import { judgeCatalog, PUBLISHED_REASON, tagText } from "../../functions/engine/status.ts";
import { mergeTags, REASON_TAG, rebuildTags, STATUS_TAG } from "../../functions/engine/tagging.ts";

const config = parseConfig({ title: "Tagging", url: "https://tagging.example/" });
const HOUR = 3600_000;
const at = (iso: string) => Date.parse(iso);
const entry = (over: Partial<IndexEntry> = {}): IndexEntry => ({
  hash: "0123456789abcdef",
  etag: '"0123456789abcdef0123456789abcdef"',
  firstSeen: at("2026-06-01T00:00:00Z"),
  changed: at("2026-06-01T00:00:00Z"),
  date: at("2026-06-01T00:00:00Z"),
  ...over,
});

/** A full plan that commits `catalog` in one shard, as a rebuild of a small site does. */
function planOf(catalog: Catalog): EnginePlan {
  const shard = serializeShard(catalog);
  return {
    head: { shards: [shard?.name ?? ""] },
    objects: shard ? [shard] : [],
  } as unknown as EnginePlan;
}

describe("tagText", () => {
  it("keeps letters of every script, digits and + - = . _ : / @; drops quotes; one space for the rest", () => {
    expect(tagText('line 3: draft: got string "<b>제목</b> & [y], café"')).toBe(
      "line 3: draft: got string b 제목 /b y café",
    );
    expect(tagText("a\u0000b\u001bc\u2028d\te")).toBe("a b c d e");
    // Decomposed accents are composed first: a combining mark alone is not allowed.
    expect(tagText("cafe\u0301")).toBe("café");
  });

  it("is at most 256 characters, counted as S3 counts them (not UTF-16 units)", () => {
    expect(Array.from(tagText("가".repeat(300)))).toHaveLength(256);
    expect(Array.from(tagText("𝒳".repeat(300)))).toHaveLength(256);
    expect(tagText(`${"a".repeat(255)} b`)).toBe("a".repeat(255));
  });
});

describe("judgeCatalog", () => {
  it("rejects a file's own problem and a duplicate id, holds drafts and dated ones, publishes the rest", () => {
    const now = new Date("2026-06-15T12:00:00Z");
    const outcomes = judgeCatalog(
      {
        "bad.md": { ...entry(), problem: { reason: 'title: must be text, got "x"', line: 2 } },
        "draft.md": entry({ draft: true, firstSeen: 0, changed: 0 }),
        "first.md": entry({ id: "tag:tagging.example,2026:same" }),
        "gone.md": entry({ expiryDate: at("2026-06-10T00:00:00Z") }),
        "good.md": entry(),
        "later.md": entry({ date: at("2026-07-01T09:30:00Z") }),
        "second.md": entry({ id: "tag:tagging.example,2026:same" }),
      },
      config,
      now,
    ).outcomes;
    expect(Object.fromEntries(outcomes)).toEqual({
      "bad.md": { status: "rejected", reason: "line 2: title: must be text got x" },
      "draft.md": { status: "held", reason: "draft" },
      "first.md": { status: "published", reason: PUBLISHED_REASON },
      "gone.md": { status: "held", reason: "expired since 2026-06-10T00:00:00Z" },
      "good.md": { status: "published", reason: PUBLISHED_REASON },
      "later.md": { status: "held", reason: "scheduled until 2026-07-01T09:30:00Z" },
      "second.md": {
        status: "rejected",
        reason: "duplicate id tag:tagging.example 2026:same: first.md already uses it",
      },
    });
  });
});

describe("mergeTags", () => {
  const published = { status: "published" as const, reason: PUBLISHED_REASON };
  const ours = [
    { key: STATUS_TAG, value: "published" },
    { key: REASON_TAG, value: PUBLISHED_REASON },
  ];

  it("keeps every tag of the editor's and replaces only feedpub's", () => {
    const current = [
      { key: "project", value: "spring" },
      { key: STATUS_TAG, value: "rejected" },
      { key: "feedpub-old", value: "x" },
    ];
    expect(mergeTags(current, published)).toEqual([{ key: "project", value: "spring" }, ...ours]);
  });

  it('is "same" when feedpub\'s tags say this already, whatever the editor has', () => {
    expect(mergeTags([{ key: "a", value: "1" }, ...ours], published)).toBe("same");
    expect(mergeTags([...ours, { key: "feedpub-extra", value: "1" }], published)).not.toBe("same");
  });

  it("fits only the status beside nine tags, nothing beside ten", () => {
    const own = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: "v" }));
    expect(mergeTags(own(9), published)).toEqual([...own(9), ours[0]]);
    expect(mergeTags([...own(9), ours[0] as { key: string; value: string }], published)).toBe("same");
    expect(mergeTags(own(10), published)).toBe("full");
  });
});

describe("rebuildTags", () => {
  const now = new Date("2026-06-15T12:00:00Z");
  const files = (catalog: Catalog, baseline: Catalog, since: number, force = false) =>
    rebuildTags({ catalog: baseline, at: since, trusted: true }, planOf(catalog), { config, now, force })
      .outcomes.map((outcome) => outcome.file)
      .sort();

  it("names the articles read (new or another version) and those whose outcome changed since", () => {
    const before = {
      "same.md": entry(),
      "edited.md": entry(),
      "due.md": entry({ date: now.getTime() - HOUR }),
    };
    const after = {
      ...before,
      "edited.md": entry({ hash: "fedcba9876543210", etag: '"fedcba9876543210fedcba9876543210"' }),
      "new.md": entry(),
    };
    // due.md was scheduled at the baseline's time and is public now.
    expect(files(after, before, now.getTime() - 2 * HOUR)).toEqual(["due.md", "edited.md", "new.md"]);
    expect(files(before, before, now.getTime() - 2 * HOUR, true)).toEqual(["due.md", "edited.md", "same.md"]);
  });

  it("names nothing when nothing changed", () => {
    const catalog = { "a.md": entry(), "b.md": entry({ draft: true }) };
    expect(files(catalog, catalog, now.getTime() - HOUR)).toEqual([]);
  });

  it("looks again at an article that expired lately after it was read, even before the baseline's time", () => {
    // An upload committed after the expiry without seeing it (the article was not among its
    // candidates): by the baseline's time it was expired already, so only the lookback finds it.
    const expired = entry({ changed: at("2026-06-13T00:00:00Z"), expiryDate: at("2026-06-14T00:00:00Z") });
    const longAgo = entry({ changed: at("2026-05-01T00:00:00Z"), expiryDate: at("2026-05-02T00:00:00Z") });
    const readExpired = entry({
      changed: at("2026-06-14T06:00:00Z"),
      expiryDate: at("2026-06-14T00:00:00Z"),
    });
    const catalog = { "expired.md": expired, "long-ago.md": longAgo, "read-expired.md": readExpired };
    expect(files(catalog, catalog, at("2026-06-14T12:00:00Z"))).toEqual(["expired.md"]);
  });
});
