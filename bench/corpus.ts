import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

const SEED = new URL("../content/000_4dbd7126f40f73dd.txt", import.meta.url);

/** The seed article's paragraphs (without its title line): the body of every generated article. */
export async function seedBody(): Promise<string> {
  const [, ...rest] = (await readFile(SEED, "utf8")).split("\n");
  return rest.join("\n").trim();
}

/**
 * Writes `count` seed-shaped Markdown articles (YAML front matter, ~4.5 KB of paragraphs) into
 * `dir`, spread over sections, with dates one hour apart: from 2020-01-01 on, or ending an hour
 * before `until` (so that none is scheduled). Deterministic for a given count.
 */
export async function generateCorpus(
  dir: string,
  count: number,
  seedPath = "content/000_4dbd7126f40f73dd.txt",
  until?: Date,
): Promise<void> {
  const seed = await readFile(seedPath, "utf8");
  const [, ...rest] = seed.split("\n");
  const body = rest.join("\n").trim();
  await rm(dir, { recursive: true, force: true });
  const sections = ["news", "analysis", "features", "opinion"];
  for (const section of sections) await mkdir(join(dir, section), { recursive: true });
  const start = until ? until.getTime() - count * 3_600_000 : Date.UTC(2020, 0, 1);
  const writes: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const date = new Date(start + i * 3_600_000).toISOString();
    const section = sections[i % sections.length];
    const text = `---\ntitle: "Article ${i}: calls for self-reliance"\ndate: ${date}\ntags: [korea, economy, t${i % 37}]\nsummary: Summary of article ${i}.\n---\n${body}\n`;
    writes.push(writeFile(join(dir, section as string, `article-${String(i).padStart(5, "0")}.md`), text));
    if (writes.length >= 256) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir = "bench/.corpus", count = "1000"] = process.argv.slice(2);
  await generateCorpus(dir, Number(count));
}
