/**
 * Building blocks of the adversarial corpus (bench/adversarial-corpus.ts): a seeded generator,
 * the case shape, and small writers of ordinary-looking text and article files. Nothing here
 * touches the disk: a case's bytes are made on the fly, in the process that measures it.
 */

/** Uniform in [0, 1). */
export type Rng = () => number;

// The seeded generator the tests use.
import { mulberry32 } from "../test/support/random.ts";

export { mulberry32 };

/** FNV-1a of a case id: each case gets a generator of its own, so one can be replayed alone. */
export function hashId(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export const MIB = 1024 * 1024;
/** The largest file the product accepts; cases stay at or under it unless marked `over`. */
export const MAX_BYTES = MIB;
/** "About 1 MiB": room left for the front matter or the closing tags of a file cut to size. */
export const NEAR_MIB = MIB - 2_000;

export type Format = "md" | "txt" | "html" | "json";
export type CaseClass = "regex" | "nesting" | "fan-out" | "size" | "hostile";
export const CLASSES: readonly CaseClass[] = ["regex", "nesting", "fan-out", "size", "hostile"];

export interface AdversarialCase {
  /** Stable and unique, e.g. "regex/author-spaces-5000"; with the seed, it replays the file. */
  readonly id: string;
  readonly class: CaseClass;
  readonly ext: Format;
  readonly description: string;
  /** The largest of its family: a quick run takes only these. */
  readonly quick: boolean;
  /** Deliberately over 1 MiB (the size class's "just over" files). */
  readonly over?: boolean;
  readonly make: (rng: Rng) => string | Uint8Array;
}

/**
 * One case per parameter (a size, a depth, a count). The last parameter is the family's worst
 * and the one a quick run keeps.
 */
export function family<P extends string | number>(
  cls: CaseClass,
  name: string,
  ext: Format,
  params: readonly P[],
  describe: (param: P) => string,
  make: (param: P, rng: Rng) => string | Uint8Array,
): AdversarialCase[] {
  return params.map((param, index) => ({
    id: `${cls}/${name}-${String(param)}`,
    class: cls,
    ext,
    description: describe(param),
    quick: index === params.length - 1,
    make: (rng: Rng) => make(param, rng),
  }));
}

/** A case of its own (always in the quick run). */
export function single(
  cls: CaseClass,
  name: string,
  ext: Format,
  description: string,
  make: (rng: Rng) => string | Uint8Array,
): AdversarialCase {
  return { id: `${cls}/${name}`, class: cls, ext, description, quick: true, make };
}

/** Thousands separators, for descriptions. */
export const n = (value: number): string => value.toLocaleString("en-US");

const VOCABULARY = (
  "the of and to in is was for on that with as by at from government source market province " +
  "people said year report plenary session talks price rice trade border city officials young " +
  "workers private business local police control season harvest winter economy food fuel news " +
  "school family money state factory railway river mountain village letter meeting week early"
).split(" ");

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;

export function words(rng: Rng, count: number): string {
  return Array.from({ length: count }, () => pick(rng, VOCABULARY)).join(" ");
}

export function sentence(rng: Rng): string {
  const text = words(rng, 6 + Math.floor(rng() * 14));
  return `${text[0]?.toUpperCase()}${text.slice(1)}.`;
}

export function paragraph(rng: Rng): string {
  return Array.from({ length: 3 + Math.floor(rng() * 5) }, () => sentence(rng)).join(" ");
}

/** Joins blocks made by `block` until the text reaches `bytes` (ASCII, so length = bytes). */
export function fill(
  rng: Rng,
  bytes: number,
  block: (rng: Rng, index: number) => string,
  sep = "\n\n",
): string {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const next = block(rng, i);
    parts.push(next);
    length += next.length + sep.length;
  }
  return parts.join(sep).slice(0, bytes);
}

/** A person's name, unique by index. */
export function personName(rng: Rng, index: number): string {
  const first = ["Ann", "Min", "Jae", "Sun", "Hyo", "Ok", "Chol", "Yong", "Eun", "Kim", "Lee", "Park"];
  return `${pick(rng, first)} ${pick(rng, first)}son ${index}`;
}

/** YAML double-quoted (and JSON) string: every character escaped as JSON escapes it. */
export const q = (text: string): string => JSON.stringify(text);

/** A Markdown article with YAML front matter (lines without the fences). */
export function md(front: readonly string[], body: string): string {
  return `---\n${front.join("\n")}\n---\n${body}\n`;
}

/** An ordinary front matter: a title and a date, plus the given lines. */
export function front(title: string, ...more: string[]): string[] {
  return [`title: ${q(title)}`, "date: 2024-03-01T09:30:00Z", ...more];
}

/** A whole HTML document. */
export function html(title: string, body: string, head = "", lang = "en"): string {
  return `<!doctype html>\n<html lang="${lang}"><head><meta charset="utf-8"><title>${title}</title>${head}</head>\n<body>\n${body}\n</body></html>\n`;
}

/** A JSON article: the title, a date and the given fields. */
export function json(title: string, fields: Record<string, unknown>): string {
  return JSON.stringify({ title, date_published: "2024-03-01T09:30:00Z", ...fields });
}

/** A body text that needs no title of its own. */
export const BODY = "Some ordinary text after the hostile part.";

/** The case's bytes: made from its own generator, checked against the size limit. */
export function materialize(entry: AdversarialCase, seed: number): Uint8Array {
  const made = entry.make(mulberry32((seed ^ hashId(entry.id)) >>> 0));
  const bytes = typeof made === "string" ? Buffer.from(made, "utf8") : made;
  if (!entry.over && bytes.byteLength > MAX_BYTES) {
    throw new Error(`${entry.id}: ${n(bytes.byteLength)} bytes, over the 1 MiB the corpus promises`);
  }
  if (entry.over && bytes.byteLength <= MAX_BYTES) throw new Error(`${entry.id}: meant to be over 1 MiB`);
  return bytes;
}
