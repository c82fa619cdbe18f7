import { describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { plan } from "../../functions/engine/planner.ts";
import { emptyIndex } from "../../functions/engine/state/head.ts";
import { PlannedSite } from "../support/plan-driver.ts";
import { lcg } from "../support/random.ts";

// The planner alone, with no storage: "what the feeds should be" after any sequence of changes.
// Every family on: sections two folders deep and a feed for every language, the site's too.
const config = parseConfig({
  title: "Planned",
  url: "https://planned.example/",
  itemLimit: 4,
  sectionFeeds: { depth: 2 },
  languageFeeds: true,
});
const START = Date.UTC(2026, 2, 20, 9);
const HOUR = 3_600_000;
const SEEDS = process.env.PLANNER_SEED
  ? [Number(process.env.PLANNER_SEED)]
  : Array.from({ length: 40 }, (_, i) => 1000 + i);

const iso = (ms: number) => new Date(ms).toISOString().replace(".000", "");

/** A random article: dated (and with a lastmod, so that its dates do not depend on when it was seen). */
function randomArticle(next: () => number, key: string, version: number, now: number): string {
  const roll = next();
  if (roll < 0.05) return "---\ntitle: [unclosed\n---\n";
  const date = START - Math.floor(next() * 120) * 24 * HOUR - Math.floor(next() * 24) * HOUR;
  const lines = [`title: "${key} v${version}"`, `date: ${iso(date)}`, `lastmod: ${iso(date + HOUR)}`];
  const tags = ["news", "Tech", "tech", "culture", "sport"].filter(() => next() < 0.3);
  if (tags.length) lines.push(`tags: [${tags.join(", ")}]`);
  if (next() < 0.3) lines.push(`author: ${next() < 0.5 ? "Ann" : "Bob"}`);
  // Languages as the site's (declared or not) and others, one of them in two spellings.
  const language = ["", "", "en", "ko", "ja", "JA"][Math.floor(next() * 6)];
  if (language) lines.push(`lang: ${language}`);
  if (roll < 0.1) lines.push("draft: true");
  else if (roll < 0.17) lines.push(`publishDate: ${iso(now + Math.floor(next() * 20) * HOUR)}`);
  else if (roll < 0.22) lines.push(`expiryDate: ${iso(now + Math.floor(next() * 20) * HOUR)}`);
  if (next() < 0.06) lines.push(`id: "urn:shared:${Math.floor(next() * 3)}"`);
  return `---\n${lines.join("\n")}\n---\nBody of ${key}, version ${version}.\n`;
}

/** The feed folders the sequences ended with ("sections/world", "lang/ja", ...), over every seed. */
const reached = new Set<string>();

describe("the planner, run incrementally, equals the planner from scratch", () => {
  for (const seed of SEEDS)
    it(`seed ${seed} (PLANNER_SEED replays one)`, () => {
      const next = lcg(seed);
      const site = new PlannedSite(config);
      // Files at the top, in folders and two folders deep: every section level.
      const folders = ["posts/", "notes/", "world/asia/", "world/", "", "World/Europe/"];
      const keys = Array.from({ length: 24 }, (_, i) => `${folders[i % folders.length]}p${i}.md`);
      let now = START;
      for (let step = 1; step <= 40; step++) {
        // Mostly hours apart; now and then days, across the end of a month.
        now += next() < 0.15 ? Math.floor(next() * 10) * 24 * HOUR : Math.floor(next() * 5) * HOUR;
        const batch = keys.filter(() => next() < 0.12);
        for (const key of batch)
          if (next() < 0.3) site.content.delete(key);
          else site.content.set(key, randomArticle(next, key, step, now));
        site.apply(batch, new Date(now));
      }
      // A last look at the final time, as the scheduled check would: due items appear or go.
      site.apply([], new Date(now));
      const incremental = { feeds: new Map(site.feeds), catalog: site.catalog() };
      site.rebuildFromScratch(new Date(now));
      expect([...incremental.feeds.keys()].sort()).toEqual([...site.feeds.keys()].sort());
      for (const [key, body] of site.feeds) expect(incremental.feeds.get(key), key).toBe(body);
      // The catalog too, but for when each file was first seen and last changed (from scratch: now).
      const undated = (catalog: ReturnType<typeof site.catalog>) =>
        Object.fromEntries(
          Object.entries(catalog).map(([path, { firstSeen, changed, ...entry }]) => [path, entry]),
        );
      expect(undated(incremental.catalog)).toEqual(undated(site.catalog()));
      expect(Object.keys(incremental.catalog).length).toBeGreaterThan(5);
      for (const key of site.feeds.keys()) reached.add(key.slice("feeds/".length, key.lastIndexOf("/")));
    });
});

describe("the sequences", () => {
  it("reach every family: nested sections and languages in both spellings among them", () => {
    // Replaying one seed (PLANNER_SEED) need not reach them all.
    if (SEEDS.length === 1) return;
    for (const folder of [
      "tags/tech",
      "authors/ann",
      "sections/posts",
      "sections/world",
      "sections/world/asia",
      "sections/world/europe",
      "lang/en",
      "lang/ja",
      "lang/ko",
    ])
      expect(reached, folder).toContain(folder);
    expect([...reached].some((folder) => folder.startsWith("archive/"))).toBe(true);
    // "World/Europe/" and "world/asia/" share the section "world"; "JA" and "ja" the language.
    const shared = [...reached].filter((folder) => /^(sections\/world|lang\/ja)/i.test(folder));
    expect(shared.sort()).toEqual([
      "lang/ja",
      "sections/world",
      "sections/world/asia",
      "sections/world/europe",
    ]);
  });
});

describe("the planner's contract", () => {
  it("is deterministic: the same input gives the same plan", () => {
    const site = new PlannedSite(config);
    site.content.set("a.md", "---\ntitle: A\ndate: 2026-01-02\ntags: [x]\n---\nA.\n");
    site.content.set("b.md", "---\ntitle: B\ndate: 2026-02-03\n---\nB.\n");
    const first = site.rebuildFromScratch(new Date(START));
    const second = site.rebuildFromScratch(new Date(START));
    expect(second).toEqual(first);
    expect(first.writes.map((file) => file.key)).toContain("feeds/tags/x/feed.json");
  });

  it("asks for what it lacks instead of reading it, and names it", () => {
    const site = new PlannedSite(config);
    for (let i = 0; i < 30; i++)
      site.content.set(`n/${i}.md`, `---\ntitle: N${i}\ndate: 2026-03-0${1 + (i % 9)}\ntags: [t]\n---\n.\n`);
    site.rebuildFromScratch(new Date(START));
    // An upload with no shard at hand: the planner names the shard of its key and nothing else.
    const result = plan({
      config,
      now: new Date(START),
      head: site.head,
      full: false,
      observed: [{ key: "n/3.md", kind: "gone" }],
      shards: new Map(),
      states: new Map(),
      articles: new Map(),
      media: new Map(),
      mediaListed: false,
      dirty: new Set(),
    });
    expect("needs" in result && [...result.needs.shards]).toHaveLength(1);
    // Given it, the delete of an item in the feed asks for the tag feed's state.
    site.content.delete("n/3.md");
    site.apply(["n/3.md"], new Date(START));
    expect(site.rounds).toBeGreaterThan(1);
  });

  it("a change that touches nothing plans nothing", () => {
    const site = new PlannedSite(config);
    site.content.set("a.md", "---\ntitle: A\ndate: 2026-01-02\n---\nA.\n");
    site.rebuildFromScratch(new Date(START));
    const again = site.apply(["a.md"], new Date(START + HOUR));
    expect(again.changed).toBe(false);
    expect(again.writes).toEqual([]);
    const quiet = site.apply([], new Date(START + 2 * HOUR));
    expect(quiet.changed).toBe(false);
  });

  it("an article refused while rendering leaves every family's feeds, in the same plan", () => {
    // The body vanished between its listing and the read the main feed asked for.
    const site = new PlannedSite(config);
    site.content.set("old.md", "---\ntitle: Old\ndate: 2026-01-05\ntags: [x]\n---\nOld.\n");
    site.rebuildFromScratch(new Date(START));
    expect(site.feeds.get("feeds/archive/2026-01/feed.json")).toContain("Old");
    // A settings-less rebuild with the rendered cache gone must read it, and finds it vanished.
    site.head = { ...site.head, rendered: {} };
    const key = "old.md";
    site.content.delete(key);
    const made = plan({
      config,
      now: new Date(START),
      head: emptyIndex(config),
      full: true,
      previous: site.catalog(),
      observed: [{ key, kind: "listed" }],
      shards: new Map(),
      states: new Map(),
      articles: new Map([[key, { file: key, reason: "the file vanished while publishing" }]]),
      media: new Map(),
      mediaListed: true,
      dirty: new Set(),
    });
    expect("plan" in made).toBe(true);
    if (!("plan" in made)) return;
    const files = new Map(made.plan.writes.map((file) => [file.key, file.body]));
    expect(files.get("feeds/feed.json")).not.toContain("Old");
    expect(files.has("feeds/archive/2026-01/feed.json")).toBe(false);
    expect(files.has("feeds/tags/x/feed.json")).toBe(false);
    expect(made.plan.problems.map((problem) => problem.reason)).toEqual([
      "the file vanished while publishing",
    ]);
  });
});
