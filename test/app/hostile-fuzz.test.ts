import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { nameUuid } from "../../functions/core/urls.ts";
import { publishAll } from "../../functions/engine/publish.ts";
import { assertValidJsonFeed, assertWellFormedXml, readWithRssParser } from "../helpers/feed-check.ts";
import { mulberry32 } from "../support/random.ts";
import { type TempSite, useTempSite, writeContent } from "../support/temp-site.ts";

// A property test over random hostile folders (seeded; FUZZ_SEED=<n> replays one): whatever the
// names and bodies, the build completes, every good article is published, every bad one is
// reported by its name, and every feed document written stays valid.
const SITE_URL = "https://fuzz.example.org/";
const config = parseConfig({ title: "Fuzz", url: SITE_URL, itemLimit: 1000 });
const NOW = new Date("2025-06-15T12:00:00Z");
const SEEDS = process.env.FUZZ_SEED ? [Number(process.env.FUZZ_SEED)] : [11, 2024, 777, 31337];
const FILES_PER_SITE = 48;
/** A good article whose derived id the thieves below try to take. */
const VICTIM = "posts/victim.md";

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const int = (random: Random, low: number, high: number) => low + Math.floor(random() * (high - low + 1));

/** Characters a file name may hold on Linux, the hostile ones weighted up. */
const NAME_CHARS = ["a", "b", "z", "-", "_", " ", "%", "+", "#", "?", "é", "\u{20000}", "'", '"', "&", "<"];
const REFUSED_CHARS = ["\\", "\t", "\u001b", "\r", "\u0007", "\u007f"];

interface Generated {
  readonly path: string;
  readonly body: string | Uint8Array;
  /** The title it must be published under, or undefined when it must be reported. */
  readonly title?: string;
}

function fileName(random: Random, index: number, refused: boolean): string {
  const chars = Array.from({ length: int(random, 1, 12) }, () => pick(random, NAME_CHARS));
  // Inserted between code points: a lone surrogate in a name is written to disk as U+FFFD.
  if (refused) chars.splice(int(random, 0, chars.length), 0, pick(random, REFUSED_CHARS));
  const stem = chars.join("");
  // The index keeps names apart; a folder now and then.
  const folder = random() < 0.3 ? `${pick(random, ["posts", "a b", "é", "\u{1E900}"])}/` : "";
  return `${folder}${String(index).padStart(3, "0")}${stem}.${pick(random, ["md", "md", "json", "txt", "html"])}`;
}

/** Text that stays valid in every field: astral letters, entities, markup, quotes. */
function hostileText(random: Random, max: number): string {
  const parts = [
    "x",
    " ",
    "&amp;",
    "<b>",
    "]]>",
    '"',
    "'",
    "\u{20000}",
    "\u{1E900}",
    "é",
    "*",
    "_",
    "#",
    "`",
  ];
  return Array.from({ length: int(random, 1, max) }, () => pick(random, parts)).join("");
}

function goodBody(random: Random, path: string, title: string): string {
  const tags = Array.from({ length: random() < 0.1 ? 20 : int(random, 0, 3) }, () =>
    hostileText(random, 30).replace(/[,[\]]/g, ""),
  );
  const authors = Array.from(
    { length: random() < 0.1 ? 10 : int(random, 0, 2) },
    (_, i) => `Author ${i} ${hostileText(random, 8)}`,
  );
  const date = `2024-${String(int(random, 1, 12)).padStart(2, "0")}-${String(int(random, 1, 28)).padStart(2, "0")}`;
  if (path.endsWith(".json"))
    return JSON.stringify({
      title,
      date_published: date,
      tags,
      authors: authors.map((name) => ({ name })),
      content_html: `<p>${hostileText(random, 200)}</p>`,
    });
  if (path.endsWith(".txt")) return `${title}\n\n${hostileText(random, 300).replace(/\n/g, " ")}\n`;
  if (path.endsWith(".html"))
    return `<html><head><title>${title.replace(/[<&]/g, "")}</title><meta name="date" content="${date}"></head><body><p>${hostileText(random, 200)}</p></body></html>`;
  const deepButAllowed = `${"> ".repeat(int(random, 0, 20))}quoted\n\n${"- ".repeat(int(random, 0, 20))}listed\n`;
  return (
    `---\ntitle: ${JSON.stringify(title)}\ndate: ${date}\ntags: ${JSON.stringify(tags)}\n` +
    `authors: ${JSON.stringify(authors)}\n---\n${hostileText(random, 300)}\n\n${deepButAllowed}`
  );
}

/** Bodies that must be reported, whatever their file name. */
const BAD_BODIES: ((random: Random) => string | Uint8Array)[] = [
  (r) =>
    `---\ntitle: Fan-out\nauthors: ${JSON.stringify(Array.from({ length: int(r, 11, 3000) }, (_, i) => `A${i}`))}\n---\nx\n`,
  (r) =>
    `---\ntitle: Tags\ntags: ${JSON.stringify(Array.from({ length: int(r, 21, 1000) }, (_, i) => `t${i}`))}\n---\nx\n`,
  (r) => `---\ntitle: Deep\n---\n${">".repeat(int(r, 33, 5000))} x\n`,
  (r) => `---\ntitle: Deep list\n---\n${"- ".repeat(int(r, 33, 2000))}x\n`,
  (r) => `---\ntitle: Stars\n---\n${"a**".repeat(int(r, 2001, 50_000))}\n`,
  (r) => `---\ntitle: Broken\ndate: [${hostileText(r, 20)}\n---\nx\n`,
  (r) => `---\ntitle: Huge\nsummary: ${"s".repeat(int(r, 9000, 900_000))}\n---\nx\n`,
  (r) => `---\ntitle: Escape\ndraft: "\\e[2J${hostileText(r, 10).replace(/["\\]/g, "")}"\n---\nx\n`,
  () => new Uint8Array([0x74, 0x0a, 0x00, 0xff]),
  () => "",
  (r) => `---\nauthor: ${JSON.stringify(`${" ".repeat(int(r, 1000, 8000))}x`)}\n---\n`,
  () => `---\ntitle: Thief\nid: urn:uuid:${nameUuid(`${SITE_URL}\u0000path:${VICTIM}`)}\n---\nx\n`,
];

function generateSite(seed: number): Generated[] {
  const random = mulberry32(seed);
  const files: Generated[] = [];
  for (let index = 0; index < FILES_PER_SITE; index++) {
    const refusedName = random() < 0.2;
    const bad = random() < 0.35;
    const named = fileName(random, index, refusedName);
    // A bad body is bad as Markdown (a text file's first line would just be its title).
    const path = bad ? named.replace(/\.\w+$/, ".md") : named;
    const title = `Good ${index} ${hostileText(random, 6).trim() || "t"}`;
    const body = bad ? pick(random, BAD_BODIES)(random) : goodBody(random, path, title);
    files.push({ path, body, ...(bad || refusedName ? {} : { title }) });
  }
  files.push({ path: VICTIM, body: goodBody(random, VICTIM, "Good victim"), title: "Good victim" });
  return files;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

describe("random hostile folders (seeded, FUZZ_SEED replays one)", () => {
  let site: TempSite;
  useTempSite("feedpub-fuzz-", (made) => {
    site = made;
  });

  it.each(SEEDS)(
    "seed %i: the build completes, good ones are published, bad ones reported, feeds valid",
    async (seed) => {
      const files = generateSite(seed);
      for (const file of files) await writeContent(site.root, file.path, file.body);
      const report = await publishAll({ content: site.content, output: site.output, config, now: NOW });

      const articles = files.filter((file) => /\.(md|json|txt|html)$/.test(file.path));
      const reported = new Set(report.problems.map((problem) => problem.file));
      for (const file of articles) {
        if (file.title === undefined)
          expect(reported.has(file.path), `seed ${seed}: ${JSON.stringify(file.path)} reported`).toBe(true);
        else
          expect(reported.has(file.path), `seed ${seed}: ${JSON.stringify(file.path)} not reported`).toBe(
            false,
          );
      }
      for (const problem of report.problems) expect(problem.reason.length).toBeLessThanOrEqual(400);

      const feedsDir = join(site.root, "out", "feeds");
      const main = assertValidJsonFeed(await readFile(join(feedsDir, "feed.json"), "utf8"));
      const titles = (main.items as { title: string }[]).map((item) => item.title);
      const expected = articles.flatMap((file) => (file.title === undefined ? [] : [file.title]));
      // Titles are collapsed and stripped as the parser does; compare on the index each carries.
      const indexOf = (title: string) => title.split(" ")[1];
      expect(titles.map(indexOf).sort(), `seed ${seed}`).toEqual(expected.map(indexOf).sort());
      const rss = await readWithRssParser(await readFile(join(feedsDir, "rss.xml"), "utf8"));
      expect(rss.items.length).toBe(expected.length);

      for (const path of await listFiles(feedsDir)) {
        const text = await readFile(join(feedsDir, path), "utf8");
        if (path.endsWith(".xml")) assertWellFormedXml(text);
        else if (path.endsWith("feed.json")) assertValidJsonFeed(text);
      }
    },
    120_000,
  );
});
