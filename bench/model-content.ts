/**
 * The content store of the S3 scale model: `count` articles that exist only as a seed. A key
 * names its article's number, and GET renders the article from it; a listing hashes each one
 * once (its MD5 in hex and its size are cached, 36 bytes per article, nothing else). Uploads are
 * modelled by put and delete, kept in a small map of edits that win over the generated articles.
 */
import { hash } from "node:crypto";
import { readFileSync } from "node:fs";
import { checkKey } from "../functions/storage/keys.ts";
import type { ObjectInfo, PutOptions, StoredObject } from "../functions/storage/port.ts";
import {
  compareKeys,
  MeteredStorage,
  type ModelOptions,
  md5Etag,
  pagesOf,
  type RequestModel,
} from "./model-storage.ts";

/** Eight sections, in key order: the listing walks them one after the other. */
export const SECTIONS = [
  "analysis",
  "business",
  "culture",
  "features",
  "news",
  "opinion",
  "science",
  "sport",
];
const TAGS = (
  "economy politics trade energy health climate courts housing transport defence education labour " +
  "markets farming fishing mining media tourism banking taxes pensions elections parliament " +
  "diplomacy migration technology science space weather floods drought food water cities villages " +
  "crime police prisons religion culture music film books art history archaeology languages youth " +
  "women families ageing disability welfare unions industry shipping aviation railways roads internet"
).split(" ");
const AUTHORS = ["Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Do-yun"].flatMap((first) =>
  ["Kim", "Lee", "Park", "Choi"].map((last) => `${first} ${last}`),
);
/** Dates spread over ten years: 120 archive months. */
const START = Date.UTC(2015, 0, 1);
const SPAN = Date.UTC(2025, 0, 1) - START;
const BODY_VARIANTS = 16;
const BODY_CHARS = 1500;
const KEY = /^([a-z]+)\/\d{4}\/\d{2}\/article-(\d{7})\.md$/;
const SEED = new URL("../content/000_4dbd7126f40f73dd.txt", import.meta.url);

export interface GeneratedOptions extends ModelOptions {
  /** Articles, at most 10,000,000 (seven digits in the key). */
  readonly count: number;
  /** Picks titles, tags and authors: the same seed gives the same bytes. @default 1 */
  readonly seed?: number;
  /** The seed article (a title line, then paragraphs). @default content/000_4dbd7126f40f73dd.txt */
  readonly text?: string;
  readonly model?: RequestModel;
}

interface Edit {
  readonly body: Uint8Array;
  readonly etag: string;
  readonly lastModified: Date;
  readonly contentType?: string;
}

export class GeneratedContent extends MeteredStorage {
  readonly count: number;
  readonly seed: number;
  private readonly bodies: Buffer[];
  /** Hex MD5s of the articles hashed so far, 32 bytes each, and their sizes. */
  private readonly digests: Buffer;
  private readonly sizes: Uint32Array;
  private readonly hashed: Uint8Array;
  /** Where an article is assembled to be hashed: one buffer reused, no allocation per article. */
  private scratch = Buffer.allocUnsafeSlow(64 * 1024);
  /** Uploaded or deleted keys (null: deleted), generated ones or not: they win over generated articles. */
  private readonly edits = new Map<string, Edit | null>();

  constructor(options: GeneratedOptions) {
    super(options);
    if (!Number.isInteger(options.count) || options.count < 0 || options.count >= 10_000_000)
      throw new RangeError(`count must be an integer from 0 to 9,999,999, got ${options.count}`);
    this.count = options.count;
    this.seed = options.seed ?? 1;
    this.bodies = bodyVariants(options.text ?? readFileSync(SEED, "utf8"));
    this.digests = Buffer.allocUnsafeSlow(this.count * 32);
    this.sizes = new Uint32Array(this.count);
    this.hashed = new Uint8Array(this.count);
  }

  /** Article `i`'s date, in epoch ms: evenly over ten years, in the order of the numbers. */
  dateOf(i: number): number {
    return START + Math.floor((i * SPAN) / Math.max(1, this.count));
  }

  /** `section/yyyy/mm/article-0000123.md`: article i is in section i mod 8, filed by its month. */
  keyOf(i: number): string {
    const date = new Date(this.dateOf(i));
    const month = String(date.getUTCMonth() + 1).padStart(2, "0");
    return `${SECTIONS[i % SECTIONS.length]}/${date.getUTCFullYear()}/${month}/article-${String(i).padStart(7, "0")}.md`;
  }

  /** The number of the generated article at `key`, if there is one. */
  indexOf(key: string): number | undefined {
    const match = KEY.exec(key);
    if (!match) return undefined;
    const i = Number(match[2]);
    return i < this.count && this.keyOf(i) === key ? i : undefined;
  }

  /** Article i's front matter (its own) and body (one of 16 cuts of the seed's paragraphs). */
  private parts(i: number): { front: string; body: Buffer } {
    const pick = (salt: number) => random(this.seed, i, salt);
    const tags: string[] = [];
    const wanted = pick(0) < 0.5 ? 2 : 3;
    for (let salt = 100; tags.length < wanted; salt++) {
      // Skewed towards the first tags, as a site's tags are: a few big feeds, many small ones.
      const tag = TAGS[Math.floor(TAGS.length * pick(salt) ** 2)] as string;
      if (!tags.includes(tag)) tags.push(tag);
    }
    const title = `${capital(TAGS[Math.floor(pick(10) * TAGS.length)] as string)} and ${tags[0]}`;
    const front =
      `---\ntitle: "Article ${i}: ${title}"\ndate: ${new Date(this.dateOf(i)).toISOString()}\n` +
      `author: ${AUTHORS[Math.floor(pick(11) * AUTHORS.length)]}\ntags: [${tags.join(", ")}]\n` +
      `summary: Summary of article ${i}.\n---\n`;
    return { front, body: this.bodies[Math.floor(pick(12) * BODY_VARIANTS)] as Buffer };
  }

  /** Article i's bytes, in a buffer of their own (a worker port can transfer it). */
  render(i: number): Uint8Array {
    const { front, body } = this.parts(i);
    const frontBytes = Buffer.byteLength(front);
    const bytes = Buffer.allocUnsafeSlow(frontBytes + body.byteLength);
    bytes.write(front, 0, "utf8");
    body.copy(bytes, frontBytes);
    return bytes;
  }

  private generatedInfo(i: number, key = this.keyOf(i)): ObjectInfo {
    if (!this.hashed[i]) {
      const { front, body } = this.parts(i);
      const size = Buffer.byteLength(front) + body.byteLength;
      if (size > this.scratch.byteLength) this.scratch = Buffer.allocUnsafeSlow(size * 2);
      body.copy(this.scratch, this.scratch.write(front, 0, "utf8"));
      // One-shot and hex: the cheapest MD5 Node offers for small inputs (most of a listing's time).
      this.digests.write(hash("md5", this.scratch.subarray(0, size), "hex"), i * 32, "latin1");
      this.sizes[i] = size;
      this.hashed[i] = 1;
    }
    const etag = `"${this.digests.toString("latin1", i * 32, i * 32 + 32)}"`;
    return { key, etag, lastModified: new Date(this.dateOf(i)), size: this.sizes[i] as number };
  }

  /** The object at `key` now: an edit, else a generated article. */
  private current(key: string): { info: ObjectInfo; edit?: Edit; index?: number } | undefined {
    const edit = this.edits.get(key);
    if (edit === null) return undefined;
    if (edit) return { info: editInfo(key, edit), edit };
    const index = this.indexOf(key);
    return index === undefined ? undefined : { info: this.generatedInfo(index, key), index };
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const found = this.current(checkKey(key));
    await this.request("GET", key, 0, found?.info.size ?? 0);
    if (!found) return undefined;
    if (found.edit) {
      const { contentType } = found.edit;
      return { ...found.info, body: found.edit.body.slice(), ...(contentType ? { contentType } : {}) };
    }
    return { ...found.info, body: this.render(found.index as number) };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const found = this.current(checkKey(key));
    await this.request("HEAD", key, 0, 0);
    return found?.info;
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<{ etag: string }> {
    checkKey(key);
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body.slice();
    const etag = md5Etag(bytes);
    await this.request("PUT", key, bytes.byteLength, 0);
    this.precondition(key, this.current(key)?.info, options);
    const edit = { body: bytes, etag, lastModified: this.date() };
    this.edits.set(key, options.contentType ? { ...edit, contentType: options.contentType } : edit);
    return { etag };
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.request("DELETE", key, 0, 0);
    if (this.indexOf(key) === undefined) this.edits.delete(key);
    else this.edits.set(key, null);
  }

  async *list(prefix = ""): AsyncIterable<ObjectInfo> {
    yield* this.paged(prefix, pagesOf(this.entries(prefix)));
  }

  /** Generated keys (edits in their place) merged with uploaded keys, in key order. */
  private *entries(prefix: string): Generator<ObjectInfo> {
    const uploaded: string[] = [];
    for (const [key, edit] of this.edits)
      if (edit && key.startsWith(prefix) && this.indexOf(key) === undefined) uploaded.push(key);
    uploaded.sort(compareKeys);
    let next = 0;
    for (const [i, key] of this.numbered(prefix)) {
      // Generated keys are ASCII, where UTF-16 order is S3's order.
      while (next < uploaded.length && (uploaded[next] as string) < key)
        yield this.uploadedInfo(uploaded[next++]);
      const edit = this.edits.get(key);
      if (edit === null) continue;
      yield edit ? editInfo(key, edit) : this.generatedInfo(i, key);
    }
    while (next < uploaded.length) yield this.uploadedInfo(uploaded[next++]);
  }

  private uploadedInfo(key: string | undefined): ObjectInfo {
    return editInfo(key as string, this.edits.get(key as string) as Edit);
  }

  /** The generated articles under `prefix` and their keys, in key order: section by section. */
  private *numbered(prefix: string): Generator<[number, string]> {
    for (const [section, name] of SECTIONS.entries()) {
      const folder = `${name}/`;
      if (!folder.startsWith(prefix) && !prefix.startsWith(folder)) continue;
      const inSection = Math.max(0, Math.ceil((this.count - section) / SECTIONS.length));
      const number = (j: number) => section + j * SECTIONS.length;
      // Within a section keys grow with the number: find the first one under a deeper prefix.
      let low = 0;
      let high = prefix.length > folder.length ? inSection : 0;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (this.keyOf(number(mid)) < prefix) low = mid + 1;
        else high = mid;
      }
      for (let j = low; j < inSection; j++) {
        const key = this.keyOf(number(j));
        if (!key.startsWith(prefix)) break;
        yield [number(j), key];
      }
    }
  }
}

const editInfo = (key: string, edit: Edit): ObjectInfo => ({
  key,
  etag: edit.etag,
  lastModified: edit.lastModified,
  size: edit.body.byteLength,
});

const capital = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** 16 bodies of about BODY_CHARS each, cut from the seed's paragraphs at different starts. */
function bodyVariants(text: string): Buffer[] {
  const [, ...rest] = text.split("\n");
  const paragraphs = rest
    .join("\n")
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.trim())
    .filter(Boolean);
  if (paragraphs.length === 0) throw new Error("the seed article has no paragraphs");
  return Array.from({ length: BODY_VARIANTS }, (_, variant) => {
    const chosen: string[] = [];
    for (let p = variant; chosen.join("\n\n").length < BODY_CHARS; p++)
      chosen.push(paragraphs[p % paragraphs.length] as string);
    return Buffer.from(`${chosen.join("\n\n")}\n`, "utf8");
  });
}

/** A number in [0, 1) from (seed, article, salt): each folded in through a full mix, no state. */
function random(seed: number, i: number, salt: number): number {
  return (mix(mix(mix(seed) ^ i) ^ salt) >>> 0) / 2 ** 32;
}

/** A 32-bit finaliser (murmur3's constants): every input bit reaches every output bit. */
function mix(value: number): number {
  let h = Math.imul(value ^ (value >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
