import { createHash } from "node:crypto";
import type { Article } from "../core/article.ts";
import type { PlanEntry, SeenState } from "../core/build.ts";
import type { SiteConfig } from "../core/config.ts";
import type { ArticleProblem } from "../core/errors.ts";
import type { FeedItem } from "../core/model.ts";

/**
 * The publisher's private state (never served) is a small head plus a catalog split into shards.
 *
 * - The head (`_state/index.json`) is the single commit point, written with If-Match. It holds
 *   the feed's planning candidates (every article that is or could next be in the feed, see
 *   selectCandidates), the rendered feed items, the feeds' MD5s and the names of the catalog
 *   shards it was committed with.
 * - The catalog (`_state/catalog/<hash>.json`) has one entry per article file, spread over
 *   shards by a hash of the path. Shards are named by the hash of their bytes and never
 *   overwritten: a change writes a new shard, and the head that names it makes it current. An
 *   invocation that loses the race for the head leaves only an unreferenced shard behind, which
 *   the full rebuild deletes later.
 *
 * One upload therefore reads and writes the head and one shard (kilobytes) instead of the state of
 * every article; only a full rebuild, or a feed whose candidates ran out, reads every shard.
 */
export const INDEX_KEY = "_state/index.json";
export const CATALOG_PREFIX = "_state/catalog/";
const INDEX_VERSION = 3;
/** Catalog entries per shard a full rebuild aims for. */
const SHARD_TARGET = 256;
const MAX_SHARDS = 1024;

/** What the index keeps per article file: enough to plan the feed without reading any body. */
export interface IndexEntry {
  /** Hash of the file's bytes (64 bits of SHA-1: enough to tell versions of one file apart). */
  readonly hash: string;
  // Times are epoch milliseconds: cheaper than ISO text for 10,000 entries.
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
  /** Its tags and the authors it names: which tag and author feeds it belongs to. */
  readonly tags?: readonly string[];
  readonly authors?: readonly string[];
}

/** Path → entry, in path order. */
export type Catalog = Readonly<Record<string, IndexEntry>>;

/** A rendered feed item, cached while it is in the feed so that its body need not be read again. */
export interface RenderedEntry {
  readonly hash: string;
  readonly item: Omit<FeedItem, "published" | "updated"> & { published: string; updated: string };
}

/** Where an article stands in the feed's order: newest first, then by path. */
export interface Rank {
  readonly published: number;
  readonly path: string;
}

export interface FeedIndex {
  readonly version: number;
  /** Fingerprint of the site settings the rendered items were made with. */
  readonly config: string;
  /** Catalog object name of each shard ("" for an empty shard); the length is the shard count. */
  readonly shards: readonly string[];
  /** The planning candidates, a subset of the catalog (see selectCandidates). */
  readonly candidates: Catalog;
  /**
   * The best-ranked publishable article left out of the candidates, if any: every publishable
   * article ranked above it is a candidate, so a feed made only of items above it is exact.
   */
  readonly floor?: Rank;
  readonly rendered: Readonly<Record<string, RenderedEntry>>;
  /** MD5 (quoted, as S3 ETags) of each feed file as last written. */
  readonly feeds: Readonly<Record<string, string>>;
  readonly counts: { readonly articles: number; readonly problems: number };
  /**
   * The monthly archive pages (RFC 5005): the month the last regeneration saw as current (pages
   * exist for the months before it) and each page's month, state object and next change.
   */
  readonly archive?: ArchiveRefs;
  /** The tag and author feeds, by key ("tags/<slug>"): name and the facet state object. */
  readonly facets: Readonly<Record<string, FacetRef>>;
  /** When a scheduled article is due or one in the feed expires (epoch ms): the feeds change then. */
  readonly nextChange?: number;
  /** When the last regeneration that changed anything finished. */
  readonly generatedAt?: string;
  /** Media files beside the articles that could not be published, by content key: the reason. */
  readonly mediaProblems?: Readonly<Record<string, string>>;
}

export interface ArchiveRefs {
  readonly open: string;
  readonly pages: Readonly<Record<string, FacetRef>>;
}

function decodeArchive(value: unknown): ArchiveRefs | undefined {
  const stored = value as { open?: unknown; pages?: unknown };
  if (typeof stored?.open !== "string" || typeof stored.pages !== "object" || !stored.pages) return undefined;
  return { open: stored.open, pages: stored.pages as ArchiveRefs["pages"] };
}

/** A tag or author feed as the head knows it. */
export interface FacetRef {
  readonly name: string;
  /** Name of its state object under CATALOG_PREFIX (content-addressed, like the shards). */
  readonly state: string;
  /** When one of its scheduled articles is due, or one of its items expires (epoch ms). */
  readonly nextChange?: number;
}

/** What one tag or author feed keeps between regenerations: its own candidates and items. */
export interface FacetState {
  readonly key: string;
  readonly name: string;
  readonly candidates: Catalog;
  readonly floor?: Rank;
  readonly rendered: Readonly<Record<string, RenderedEntry>>;
  /** MD5 of each of its feed files as last written. */
  readonly feeds: Readonly<Record<string, string>>;
}

export function serializeFacet(state: FacetState): { name: string; body: string } {
  const { floor, candidates, ...rest } = state;
  const body = `${JSON.stringify({
    version: INDEX_VERSION,
    ...rest,
    candidates: Object.entries(sortedRecord(candidates)).map(([path, entry]) => encodeRow(path, entry)),
    ...(floor ? { floor: [floor.published, floor.path] } : {}),
    rendered: sortedRecord(state.rendered),
  })}\n`;
  return { name: `f-${createHash("sha1").update(body).digest("hex").slice(0, 20)}`, body };
}

export function parseFacet(bytes: Uint8Array): FacetState {
  const value = JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
  if (value.version !== INDEX_VERSION || !Array.isArray(value.candidates))
    throw new Error("malformed facet state");
  const floor = value.floor as [number, string] | undefined;
  return {
    key: String(value.key),
    name: String(value.name),
    candidates: decodeRows(value.candidates),
    ...(floor ? { floor: { published: floor[0], path: floor[1] } } : {}),
    rendered: (value.rendered ?? {}) as FacetState["rendered"],
    feeds: (value.feeds ?? {}) as FacetState["feeds"],
  };
}

export function configFingerprint(config: SiteConfig): string {
  return createHash("sha1").update(JSON.stringify(config)).digest("hex");
}

export function emptyIndex(config: SiteConfig): FeedIndex {
  return {
    version: INDEX_VERSION,
    config: configFingerprint(config),
    shards: [],
    candidates: {},
    rendered: {},
    feeds: {},
    counts: { articles: 0, problems: 0 },
    facets: {},
  };
}

/** How the stored index was found. */
export type IndexState = "ok" | "settings-changed" | "missing" | "unreadable";

export interface ParsedIndex {
  readonly index: FeedIndex;
  readonly state: IndexState;
  /** Set for an index of an earlier layout, which kept every entry inline. */
  readonly legacy?: Catalog;
}

/**
 * Reads the stored head; anything unreadable starts afresh. Rendered items depend on the
 * settings (links, authors), so they are dropped when those changed. Earlier layouts kept every
 * entry in this one object: they come back as `legacy`, so that no first-seen date is lost.
 */
export function parseIndex(bytes: Uint8Array | undefined, config: SiteConfig): ParsedIndex {
  const fingerprint = configFingerprint(config);
  if (!bytes) return { index: emptyIndex(config), state: "missing" };
  let parsed: { index: FeedIndex; legacy?: Catalog };
  try {
    const value = JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
    parsed = decodeHead(value, config);
  } catch {
    return { index: emptyIndex(config), state: "unreadable" };
  }
  const { index, legacy } = parsed;
  const extra = legacy ? { legacy } : {};
  if (index.config === fingerprint) return { index, state: "ok", ...extra };
  return { index: { ...index, config: fingerprint, rendered: {} }, state: "settings-changed", ...extra };
}

function decodeHead(
  value: Record<string, unknown>,
  config: SiteConfig,
): { index: FeedIndex; legacy?: Catalog } {
  const common = {
    ...emptyIndex(config),
    config: typeof value.config === "string" ? value.config : "",
    rendered: (value.rendered ?? {}) as FeedIndex["rendered"],
    feeds: (value.feeds ?? {}) as FeedIndex["feeds"],
    ...(typeof value.generatedAt === "string" ? { generatedAt: value.generatedAt } : {}),
    ...(typeof value.nextChange === "number" ? { nextChange: value.nextChange } : {}),
  };
  if (value.version === INDEX_VERSION) {
    if (!Array.isArray(value.shards) || !Array.isArray(value.candidates)) throw new Error("malformed head");
    const floor = value.floor as [number, string] | undefined;
    const counts = value.counts as FeedIndex["counts"];
    return {
      index: {
        ...common,
        shards: value.shards.map(String),
        candidates: decodeRows(value.candidates),
        ...(floor ? { floor: { published: floor[0], path: floor[1] } } : {}),
        counts: { articles: Number(counts?.articles) || 0, problems: Number(counts?.problems) || 0 },
        facets: (value.facets ?? {}) as FeedIndex["facets"],
        ...(decodeArchive(value.archive) ? { archive: decodeArchive(value.archive) as ArchiveRefs } : {}),
        ...(value.mediaProblems && typeof value.mediaProblems === "object"
          ? { mediaProblems: value.mediaProblems as FeedIndex["mediaProblems"] }
          : {}),
      },
    };
  }
  let legacy: Record<string, IndexEntry>;
  if (value.version === 2 && Array.isArray(value.articles)) legacy = decodeRows(value.articles);
  else if (value.version === 1 && value.articles && typeof value.articles === "object")
    legacy = decodeV1(value.articles as Record<string, Record<string, unknown>>);
  else throw new Error("unknown index layout");
  return { index: { ...common, counts: countsOf(legacy) }, legacy };
}

export function serializeIndex(index: FeedIndex): string {
  const candidates: Row[] = [];
  for (const [path, entry] of Object.entries(sortedRecord(index.candidates)))
    candidates.push(encodeRow(path, entry));
  const { floor, ...rest } = index;
  return `${JSON.stringify({
    ...rest,
    version: INDEX_VERSION,
    candidates,
    ...(floor ? { floor: [floor.published, floor.path] } : {}),
    rendered: sortedRecord(index.rendered),
  })}\n`;
}

// Catalog shards.

/** How many shards a catalog of `articles` entries is split into: a power of two. */
export function shardCountFor(articles: number): number {
  let count = 1;
  while (count < MAX_SHARDS && count * SHARD_TARGET < articles) count *= 2;
  return count;
}

/** The shard of a path: FNV-1a over its UTF-16 code units, which never changes between versions. */
export function shardOf(path: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) {
    hash ^= path.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

export function catalogKey(name: string): string {
  return `${CATALOG_PREFIX}${name}.json`;
}

/** A shard's bytes and its name (the hash of those bytes); an empty shard has neither. */
export function serializeShard(entries: Catalog): { name: string; body: string } | undefined {
  const rows: Row[] = [];
  for (const [path, entry] of Object.entries(sortedRecord(entries))) rows.push(encodeRow(path, entry));
  if (rows.length === 0) return undefined;
  const body = `${JSON.stringify({ version: INDEX_VERSION, rows })}\n`;
  return { name: createHash("sha1").update(body).digest("hex").slice(0, 20), body };
}

export function parseShard(bytes: Uint8Array): Record<string, IndexEntry> {
  const value = JSON.parse(Buffer.from(bytes).toString("utf8")) as { version?: number; rows?: unknown };
  if (value.version !== INDEX_VERSION || !Array.isArray(value.rows))
    throw new Error("malformed catalog shard");
  return decodeRows(value.rows);
}

/** The catalog split into `count` shards, each in path order. */
export function splitCatalog(catalog: Catalog, count: number): Record<string, IndexEntry>[] {
  const shards: Record<string, IndexEntry>[] = Array.from({ length: count }, () => ({}));
  for (const path of Object.keys(catalog).sort(comparePaths)) {
    (shards[shardOf(path, count)] as Record<string, IndexEntry>)[path] = catalog[path] as IndexEntry;
  }
  return shards;
}

export function countsOf(catalog: Catalog): FeedIndex["counts"] {
  let problems = 0;
  let articles = 0;
  for (const path in catalog) {
    articles++;
    if (catalog[path]?.problem) problems++;
  }
  return { articles, problems };
}

// Candidates.

/** When an article appears in the feed, the same way planFeed dates it. */
export function publishedOf(entry: IndexEntry, now: number): number {
  return entry.date ?? entry.publishDate ?? (entry.firstSeen || now);
}

/** Whether `a` comes before `b` in the feed (newer, or as new with a smaller path). */
export function ranksAbove(a: Rank, b: Rank): boolean {
  return a.published > b.published || (a.published === b.published && a.path < b.path);
}

/**
 * The planning candidates out of a set of entries, and the new floor. Kept: every article that
 * is publishable now and ranks above the floor, up to `keep` of them (newest first); every
 * scheduled article (it appears later without another upload); and every article with an id its
 * author wrote (only those can clash, and planFeed settles a clash by path, whatever the dates).
 * Drafts, expired articles and files with a problem are left to the catalog: they can only come
 * back through an upload, which puts them through here again.
 */
export function selectCandidates(
  entries: Catalog,
  now: Date,
  keep: number,
  floor?: Rank,
): { candidates: Record<string, IndexEntry>; floor?: Rank } {
  const stamp = now.getTime();
  const kept = new Set<string>();
  const publishable: Rank[] = [];
  for (const path in entries) {
    const entry = entries[path] as IndexEntry;
    if (entry.problem || entry.draft) continue;
    const published = publishedOf(entry, stamp);
    const authorDated = entry.date !== undefined || entry.publishDate !== undefined;
    const notBefore = Math.max(published, entry.publishDate ?? 0);
    if (entry.id) kept.add(path);
    if (authorDated && notBefore > stamp) {
      kept.add(path);
      continue;
    }
    if (entry.expiryDate !== undefined && entry.expiryDate <= stamp) continue;
    publishable.push({ published, path });
  }
  publishable.sort((a, b) => (ranksAbove(a, b) ? -1 : ranksAbove(b, a) ? 1 : 0));
  let next = floor;
  let taken = 0;
  for (const rank of publishable) {
    if (taken < keep && (!floor || ranksAbove(rank, floor))) {
      kept.add(rank.path);
      taken++;
    } else {
      if (!next || ranksAbove(rank, next)) next = rank;
      // Sorted: the first one left out is the best-ranked of them.
      break;
    }
  }
  const candidates: Record<string, IndexEntry> = {};
  for (const path of [...kept].sort(comparePaths)) candidates[path] = entries[path] as IndexEntry;
  return { candidates, ...(next ? { floor: next } : {}) };
}

// Rows.

/**
 * Entries are stored as one row each, [path, hash, firstSeen, changed, date, updated,
 * publishDate, expiryDate, flags, id, problem, problem line], with times as epoch milliseconds
 * (0 for none) and trailing empty cells left out: a third of the size of one object per entry.
 */
type Row = [string, string, ...(string | number)[]];

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
    (entry.tags ?? []) as unknown as string,
    (entry.authors ?? []) as unknown as string,
  ];
  const empty = (cell: unknown) => cell === 0 || cell === "" || (Array.isArray(cell) && cell.length === 0);
  while (row.length > 2 && empty(row[row.length - 1])) row.pop();
  return row;
}

const time = (value: unknown): number | undefined =>
  typeof value === "number" && value > 0 ? value : undefined;

function decodeRows(rows: unknown[]): Record<string, IndexEntry> {
  const articles: Record<string, IndexEntry> = {};
  for (const row of rows as Row[]) {
    const [
      path,
      hash,
      firstSeen,
      changed,
      date,
      updated,
      publishDate,
      expiryDate,
      flags,
      id,
      reason,
      line,
      tags,
      authors,
    ] = row as unknown[] as [string, string, ...unknown[]];
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
    if (Array.isArray(tags) && tags.length) entry.tags = tags.map(String);
    if (Array.isArray(authors) && authors.length) entry.authors = authors.map(String);
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

function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The record with its keys in order, so that state serialises to the same bytes however it was
 * built. Already-ordered records (the common case) are returned as they are.
 */
function sortedRecord<T>(record: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
  let previous: string | undefined;
  for (const key in record) {
    if (previous !== undefined && previous > key) {
      return Object.fromEntries(Object.entries(record).sort(([a], [b]) => comparePaths(a, b)));
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
    ...(result.tags.length ? { tags: result.tags } : {}),
    ...(result.authors.length ? { authors: result.authors.map((person) => person.name) } : {}),
  };
}

/**
 * Plan entries for core's planFeed. The entries double as the seen-state: they carry
 * firstSeen / hash / changed, kept current by entryFor.
 */
export function planInputs(entries: Catalog): { entries: PlanEntry[]; seen: SeenState } {
  const out: PlanEntry[] = [];
  for (const path in entries) {
    const entry = entries[path] as IndexEntry;
    if (entry.problem) continue;
    out.push({
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
  return { entries: out, seen: entries };
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

/**
 * The head's media problems after a run that looked at `looked` (every media key in a full
 * rebuild, the batch's in an incremental one) and found `found`.
 */
export function withMediaProblems(
  index: FeedIndex,
  looked: Iterable<string> | "all",
  found: readonly ArticleProblem[],
): FeedIndex {
  const next: Record<string, string> = looked === "all" ? {} : { ...index.mediaProblems };
  if (looked !== "all") for (const key of looked) delete next[key];
  for (const problem of found) next[problem.file] = problem.reason;
  const { mediaProblems: _old, ...rest } = index;
  return Object.keys(next).length ? { ...rest, mediaProblems: sortedRecord(next) } : rest;
}

/** The media problems a head records, as problems. */
export function mediaProblemsOf(index: FeedIndex): ArticleProblem[] {
  return Object.entries(index.mediaProblems ?? {}).map(([file, reason]) => ({ file, reason }));
}

/** The problems recorded in a catalog, in file order. */
export function indexProblems(catalog: Catalog): ArticleProblem[] {
  return Object.keys(catalog)
    .sort(comparePaths)
    .flatMap((file) => {
      const problem = catalog[file]?.problem;
      return problem
        ? [{ file, reason: problem.reason, ...(problem.line !== undefined ? { line: problem.line } : {}) }]
        : [];
    });
}
