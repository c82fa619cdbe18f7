import { mulberry32 } from "./random.ts";

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A seeded site of every kind of article a whole-site run must treat as a rebuild does: dated and
 * undated Markdown, plain text, HTML and JSON; drafts, scheduled and expiring articles; ids that
 * clash; files that do not parse; tags, authors and languages; folders three deep; dates over
 * two years (so there are archive pages). `now` is the clock the site is built with.
 */
export function mixedSite(count: number, seed: number, now: number): Map<string, string> {
  const next = mulberry32(seed);
  const files = new Map<string, string>();
  const sections = ["news", "news/world", "news/world/asia", "culture", "sport", "notes"];
  for (let i = 0; i < count; i++) {
    const folder = sections[Math.floor(next() * sections.length)] as string;
    const name = `item-${String(i).padStart(5, "0")}`;
    const roll = next();
    const date = now - Math.floor(next() * 730) * 24 * HOUR - Math.floor(next() * 24) * HOUR;
    if (roll < 0.04) files.set(`${folder}/${name}.md`, "---\ntitle: [unclosed\n---\n");
    else if (roll < 0.1)
      files.set(`${folder}/${name}.txt`, `Plain note ${i}\n\nNo date: first seen is its date.\n`);
    else if (roll < 0.13)
      files.set(
        `${folder}/${name}.html`,
        `<html><head><title>Page ${i}</title><meta name="date" content="${iso(date)}"></head><body><p>Page ${i} &amp; more.</p></body></html>`,
      );
    else if (roll < 0.16)
      files.set(
        `${folder}/${name}.json`,
        JSON.stringify({
          title: `JSON ${i}`,
          date: iso(date),
          tags: ["data"],
          content: `<p>JSON body ${i}</p>`,
        }),
      );
    else files.set(`${folder}/${name}.md`, markdown(next, i, date, now));
  }
  return files;
}

function markdown(next: () => number, i: number, date: number, now: number): string {
  const lines = [`title: "Article ${i}"`];
  if (next() < 0.9) lines.push(`date: ${iso(date)}`);
  const tags = ["news", "Tech", "tech", "culture", "sport", "rust", "go"].filter(() => next() < 0.25);
  if (tags.length) lines.push(`tags: [${tags.join(", ")}]`);
  if (next() < 0.4) lines.push(`author: ${["Ann", "Bob", "Cleo"][Math.floor(next() * 3)]}`);
  const language = ["", "", "", "en", "ko", "ja", "JA"][Math.floor(next() * 7)];
  if (language) lines.push(`lang: ${language}`);
  const roll = next();
  if (roll < 0.05) lines.push("draft: true");
  else if (roll < 0.09) lines.push(`publishDate: ${iso(now + (1 + Math.floor(next() * 400)) * 24 * HOUR)}`);
  else if (roll < 0.12)
    lines.push(
      `expiryDate: ${iso(now + (next() < 0.5 ? -1 : 1) * (1 + Math.floor(next() * 300)) * 24 * HOUR)}`,
    );
  if (next() < 0.03) lines.push(`id: "urn:shared:${Math.floor(next() * 4)}"`);
  return `---\n${lines.join("\n")}\n---\nBody of article ${i}: *emphasis* and a [link](https://example.org/${i}).\n`;
}
