import { createHash } from "node:crypto";
import type { Article } from "../core/article.ts";
import type { PlanEntry, SeenState } from "../core/build.ts";
import type { SiteConfig } from "../core/config.ts";
import type { ArticleProblem } from "../core/errors.ts";
import type { FeedItem } from "../core/model.ts";

/** The publisher's private index of every article (never served). */
export const INDEX_KEY = "_state/index.json";
const INDEX_VERSION = 2;

/** What the index keeps per article file: enough to plan the feed without reading any body. */
export interface IndexEntry {
  /** Hash of the file's bytes (64 bits of SHA-1: enough to tell versions of one file apart). */
  readonly hash: string;
  // Times are epoch milliseconds: cheaper than ISO text for 10,000 entries on every upload.
  /** When the file was first seen (0 for a draft never published yet). */
  readonly firstSeen: number;
  /** When its bytes last changed. */
  readonly changed: number;
  readonly date?: number;
  readonly updated?: number;
  readonly publishDate?: number;
  readonly expiryDate?: number;
  readonly draft?: true;
  readonly id?: string;
  /** Set when the file could not be published; the other plan fields are then absent. */
  readonly problem?: { readonly reason: string; readonly line?: number };
}

/** A rendered feed item, cached while it is in the feed so that its body need not be read again. */
export interface RenderedEntry {
  readonly hash: string;
  readonly item: Omit<FeedItem, "published" | "updated"> & { published: string; updated: string };
}

export interface FeedIndex {
  readonly version: number;
  /** Fingerprint of the site settings the rendered items were made with. */
  readonly config: string;
  readonly articles: Readonly<Record<string, IndexEntry>>;
  readonly rendered: Readonly<Record<string, RenderedEntry>>;
  /** MD5 (quoted, as S3 ETags) of each feed file as last written. */
  readonly feeds: Readonly<Record<string, string>>;
  /** When the last regeneration that changed anything finished. */
  readonly generatedAt?: string;
}

export function configFingerprint(config: SiteConfig): string {
  return createHash("sha1").update(JSON.stringify(config)).digest("hex");
}

export function emptyIndex(config: SiteConfig): FeedIndex {
  return { version: INDEX_VERSION, config: configFingerprint(config), articles: {}, rendered: {}, feeds: {} };
}

/**
 * Reads the stored index; anything unreadable or of another version starts afresh. Rendered
 * items depend on the settings (links, authors), so they are dropped when those changed.
 */
export function parseIndex(
  bytes: Uint8Array | undefined,
  config: SiteConfig,
): { index: FeedIndex; state: IndexState } {
  const fingerprint = configFingerprint(config);
  if (!bytes) return { index: emptyIndex(config), state: "missing" };
  let index: FeedIndex;
  try {
    const value = JSON.parse(Buffer.from(bytes).toString("utf8")) as StoredIndex;
    if (value?.version === INDEX_VERSION && Array.isArray(value.articles)) {
      index = { ...value, articles: decodeRows(value.articles) };
    } else if (value?.version === 1 && value.articles && typeof value.articles === "object") {
      // The first layout kept entries as objects; read it so no first-seen date is lost.
      index = {
        ...value,
        version: INDEX_VERSION,
        articles: decodeV1(value.articles as Record<string, Record<string, unknown>>),
      };
    } else {
      return { index: emptyIndex(config), state: "unreadable" };
    }
  } catch {
    return { index: emptyIndex(config), state: "unreadable" };
  }
  if (index.config === fingerprint) return { index, state: "ok" };
  return { index: { ...index, config: fingerprint, rendered: {} }, state: "settings-changed" };
}

/** How the stored index was found. */
export type IndexState = "ok" | "settings-changed" | "missing" | "unreadable";

type StoredIndex = Omit<FeedIndex, "articles"> & { articles: unknown };

/**
 * Articles are stored as one row each, [path, hash, firstSeen, changed, date, updated,
 * publishDate, expiryDate, flags, id, problem, problem line], with times as epoch milliseconds
 * (0 for none) and trailing empty cells left out. At 10,000 articles this is a third of the size
 * of one object per article, and reading, planning and writing the index is what one upload costs.
 */
type Row = [string, string, ...(string | number)[]];

export function serializeIndex(index: FeedIndex): string {
  const articles: Row[] = [];
  for (const [path, entry] of Object.entries(sortedRecord(index.articles)))
    articles.push(encodeRow(path, entry));
  return `${JSON.stringify({ ...index, articles, rendered: sortedRecord(index.rendered) })}\n`;
}

function encodeRow(path: string, entry: IndexEntry): Row {
  const row: Row = [
    path,
    entry.hash,
    entry.firstSeen,
    entry.changed === entry.firstSeen ? 0 : entry.changed,
    entry.date ?? 0,
    entry.updated ?? 0,
    entry.publishDate ?? 0,
    entry.expiryDate ?? 0,
    entry.draft ? 1 : 0,
    entry.id ?? "",
    entry.problem?.reason ?? "",
    entry.problem?.line ?? 0,
  ];
  while (row.length > 2 && (row[row.length - 1] === 0 || row[row.length - 1] === "")) row.pop();
  return row;
}

const time = (value: unknown): number | undefined =>
  typeof value === "number" && value > 0 ? value : undefined;

function decodeRows(rows: unknown[]): Record<string, IndexEntry> {
  const articles: Record<string, IndexEntry> = {};
  for (const row of rows as Row[]) {
    const [path, hash, firstSeen, changed, date, updated, publishDate, expiryDate, flags, id, reason, line] =
      row;
    const seen = time(firstSeen) ?? 0;
    const entry: { -readonly [K in keyof IndexEntry]: IndexEntry[K] } = {
      hash,
      firstSeen: seen,
      changed: time(changed) ?? seen,
    };
    if (time(date)) entry.date = date as number;
    if (time(updated)) entry.updated = updated as number;
    if (time(publishDate)) entry.publishDate = publishDate as number;
    if (time(expiryDate)) entry.expiryDate = expiryDate as number;
    if (flags === 1) entry.draft = true;
    if (typeof id === "string" && id) entry.id = id;
    if (typeof reason === "string" && reason) {
      entry.problem = { reason, ...(typeof line === "number" && line > 0 ? { line } : {}) };
    }
    articles[path] = entry;
  }
  return articles;
}

/** Entries of the first layout: objects with ISO times. */
function decodeV1(articles: Record<string, Record<string, unknown>>): Record<string, IndexEntry> {
  const ms = (value: unknown) => (typeof value === "string" && value ? Date.parse(value) : 0);
  const out: Record<string, IndexEntry> = {};
  for (const [path, old] of Object.entries(articles)) {
    const row: Row = [
      path,
      String(old.hash),
      ms(old.firstSeen),
      ms(old.changed),
      ms(old.date),
      ms(old.updated),
      ms(old.publishDate),
      ms(old.expiryDate),
      old.draft ? 1 : 0,
      typeof old.id === "string" ? old.id : "",
      (old.problem as { reason?: string } | undefined)?.reason ?? "",
      (old.problem as { line?: number } | undefined)?.line ?? 0,
    ];
    Object.assign(out, decodeRows([row]));
  }
  return out;
}

/**
 * The record with its keys in order, so the index serialises to the same bytes however it was
 * built. Already-ordered records (the common case: an edit keeps every key in place) are
 * returned as they are; sorting 10,000 keys on every upload showed up in profiles.
 */
function sortedRecord<T>(record: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
  let previous: string | undefined;
  for (const key in record) {
    if (previous !== undefined && previous > key) {
      return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    previous = key;
  }
  return record;
}

/** A copy of an ordered record with `key` set, new keys placed in order (no full sort). */
export function withEntry<T>(record: Readonly<Record<string, T>>, key: string, value: T): Record<string, T> {
  if (key in record) return Object.assign({}, record, { [key]: value });
  const out: Record<string, T> = {};
  let placed = false;
  for (const existing in record) {
    if (!placed && key < existing) {
      out[key] = value;
      placed = true;
    }
    out[existing] = record[existing] as T;
  }
  if (!placed) out[key] = value;
  return out;
}

/** The index entry for a parsed article (or its problem), keeping the dates already known. */
export function entryFor(
  result: Article | ArticleProblem,
  hash: string,
  previous: IndexEntry | undefined,
  now: Date,
): IndexEntry {
  const stamp = now.getTime();
  // A draft that was never published has no first-seen date yet: its clock starts when it is
  // published (planFeed sets it then), so it does not appear backdated.
  const unpublishedDraft = !("reason" in result) && result.draft && !previous?.firstSeen;
  const seen = unpublishedDraft
    ? { hash, firstSeen: 0, changed: 0 }
    : previous?.firstSeen
      ? { hash, firstSeen: previous.firstSeen, changed: previous.hash === hash ? previous.changed : stamp }
      : { hash, firstSeen: stamp, changed: stamp };
  if ("reason" in result) {
    return {
      ...seen,
      problem: { reason: result.reason, ...(result.line !== undefined ? { line: result.line } : {}) },
    };
  }
  return {
    ...seen,
    ...(result.date ? { date: result.date.getTime() } : {}),
    ...(result.updated ? { updated: result.updated.getTime() } : {}),
    ...(result.publishDate ? { publishDate: result.publishDate.getTime() } : {}),
    ...(result.expiryDate ? { expiryDate: result.expiryDate.getTime() } : {}),
    ...(result.draft ? { draft: true as const } : {}),
    ...(result.id ? { id: result.id } : {}),
  };
}

/**
 * Plan entries for core's planFeed, from the index. The entries double as the seen-state: they
 * carry firstSeen / hash / changed, kept current by entryFor.
 */
export function planInputs(index: FeedIndex): { entries: PlanEntry[]; seen: SeenState } {
  const entries: PlanEntry[] = [];
  for (const [path, entry] of Object.entries(index.articles)) {
    if (entry.problem) continue;
    entries.push({
      path,
      hash: entry.hash,
      draft: entry.draft === true,
      ...(entry.date ? { date: new Date(entry.date) } : {}),
      ...(entry.updated ? { updated: new Date(entry.updated) } : {}),
      ...(entry.publishDate ? { publishDate: new Date(entry.publishDate) } : {}),
      ...(entry.expiryDate ? { expiryDate: new Date(entry.expiryDate) } : {}),
      ...(entry.id ? { id: entry.id } : {}),
    });
  }
  return { entries, seen: index.articles };
}

export function toRendered(item: FeedItem, hash: string): RenderedEntry {
  return {
    hash,
    item: { ...item, published: item.published.toISOString(), updated: item.updated.toISOString() },
  };
}

export function fromRendered(entry: RenderedEntry): FeedItem {
  return { ...entry.item, published: new Date(entry.item.published), updated: new Date(entry.item.updated) };
}

/** The problems recorded in the index, in file order. */
export function indexProblems(index: FeedIndex): ArticleProblem[] {
  return Object.entries(index.articles).flatMap(([file, entry]) =>
    entry.problem
      ? [
          {
            file,
            reason: entry.problem.reason,
            ...(entry.problem.line !== undefined ? { line: entry.problem.line } : {}),
          },
        ]
      : [],
  );
}
