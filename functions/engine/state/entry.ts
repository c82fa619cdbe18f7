import type { Article } from "../../core/article.ts";
import type { PlanEntry, SeenState } from "../../core/build.ts";
import type { ArticleProblem } from "../../core/errors.ts";
import type { FeedItem } from "../../core/model.ts";

/** What the catalog keeps per article file: enough to plan every feed without reading any body. */
export interface IndexEntry {
  /** Hash of the file's bytes (64 bits of SHA-1: enough to tell versions of one file apart). */
  readonly hash: string;
  /**
   * The storage's ETag of the version read (quoted MD5 on S3): a listing that shows the same ETag
   * shows the same bytes, so a reconcile need not read the file again.
   */
  readonly etag?: string;
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
  /** The language the article declares (its language feed; the site's when absent). */
  readonly language?: string;
}

/** Path → entry, in path order. */
export type Catalog = Readonly<Record<string, IndexEntry>>;

/** A rendered feed item, cached while it is in a feed so that its body need not be read again. */
export interface RenderedEntry {
  readonly hash: string;
  readonly item: Omit<FeedItem, "published" | "updated"> & { published: string; updated: string };
  /**
   * The sizes of the media files the item names, as rendered (-1: not found): a rebuild that
   * lists the bucket renders the item again when one of them changed.
   */
  readonly media?: Readonly<Record<string, number>>;
}

/** Where an article stands in a feed's order: newest first, then by path. */
export interface Rank {
  readonly published: number;
  readonly path: string;
}

/** When an article appears in the feed, the same way planFeed dates it. */
export function publishedOf(entry: IndexEntry, now: number): number {
  return entry.date ?? entry.publishDate ?? (entry.firstSeen || now);
}

/** Whether `a` comes before `b` in the feed (newer, or as new with a smaller path). */
export function ranksAbove(a: Rank, b: Rank): boolean {
  return a.published > b.published || (a.published === b.published && a.path < b.path);
}

/** Whether an entry can be in a feed now or later (not a draft, not refused). */
export function publishable(entry: IndexEntry | undefined): entry is IndexEntry {
  return entry !== undefined && !entry.problem && !entry.draft;
}

/** The catalog entry for a parsed article (or its problem), keeping the dates already known. */
export function entryFor(
  result: Article | ArticleProblem,
  hash: string,
  previous: IndexEntry | undefined,
  now: Date,
  etag?: string,
): IndexEntry {
  const stamp = now.getTime();
  // A draft that was never published has no first-seen date yet: its clock starts when it is
  // published (planFeed sets it then), so it does not appear backdated.
  const unpublishedDraft = !("reason" in result) && result.draft && !previous?.firstSeen;
  const version = { hash, ...(etag ? { etag } : {}) };
  const seen = unpublishedDraft
    ? { ...version, firstSeen: 0, changed: 0 }
    : previous?.firstSeen
      ? {
          ...version,
          firstSeen: previous.firstSeen,
          changed: previous.hash === hash ? previous.changed : stamp,
        }
      : { ...version, firstSeen: stamp, changed: stamp };
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
    ...(result.language ? { language: result.language } : {}),
  };
}

/** The entry marked with the problem found while rendering it. */
export function refusedEntry(entry: IndexEntry, problem: { reason: string; line?: number }): IndexEntry {
  return {
    ...entry,
    problem: { reason: problem.reason, ...(problem.line !== undefined ? { line: problem.line } : {}) },
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

export function toRendered(item: FeedItem, hash: string, media?: ReadonlyMap<string, number>): RenderedEntry {
  return {
    hash,
    item: { ...item, published: item.published.toISOString(), updated: item.updated.toISOString() },
    ...(media?.size ? { media: Object.fromEntries([...media].sort(([a], [b]) => comparePaths(a, b))) } : {}),
  };
}

export function fromRendered(entry: RenderedEntry): FeedItem {
  return { ...entry.item, published: new Date(entry.item.published), updated: new Date(entry.item.updated) };
}

export function countsOf(catalog: Catalog): { articles: number; problems: number } {
  let problems = 0;
  let articles = 0;
  for (const path in catalog) {
    articles++;
    if (catalog[path]?.problem) problems++;
  }
  return { articles, problems };
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

export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The record with its keys in order, so that state serialises to the same bytes however it was
 * built. Already-ordered records (the common case) are returned as they are.
 */
export function sortedRecord<T>(record: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
  let previous: string | undefined;
  for (const key in record) {
    if (previous !== undefined && previous > key) {
      return Object.fromEntries(Object.entries(record).sort(([a], [b]) => comparePaths(a, b)));
    }
    previous = key;
  }
  return record;
}
