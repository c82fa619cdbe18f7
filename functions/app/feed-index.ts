import { createHash } from "node:crypto";
import type { Article } from "../core/article.ts";
import type { PlanEntry, SeenState } from "../core/build.ts";
import type { SiteConfig } from "../core/config.ts";
import type { ArticleProblem } from "../core/errors.ts";
import type { FeedItem } from "../core/model.ts";
import { articleId } from "../core/urls.ts";

/** The publisher's private index of every article (never served). */
export const INDEX_KEY = "_state/index.json";
const INDEX_VERSION = 1;

/** What the index keeps per article file: enough to plan the feed without reading any body. */
export interface IndexEntry {
  /** SHA-1 of the file's bytes. */
  readonly hash: string;
  readonly firstSeen: string;
  readonly changed: string;
  readonly date?: string;
  readonly updated?: string;
  readonly publishDate?: string;
  readonly expiryDate?: string;
  readonly draft?: true;
  readonly id?: string;
  /** The article id derived with the index's settings, so planning need not hash every path. */
  readonly uid?: string;
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
  try {
    const value = JSON.parse(Buffer.from(bytes).toString("utf8")) as FeedIndex;
    if (value?.version !== INDEX_VERSION || typeof value.articles !== "object" || !value.articles) {
      return { index: emptyIndex(config), state: "unreadable" };
    }
    if (value.config === fingerprint) return { index: value, state: "ok" };
    // Ids depend on the site URL: forget the derived ones along with the rendered items.
    const articles = Object.fromEntries(
      Object.entries(value.articles).map(([path, { uid: _uid, ...entry }]) => [path, entry]),
    );
    return { index: { ...value, config: fingerprint, articles, rendered: {} }, state: "settings-changed" };
  } catch {
    return { index: emptyIndex(config), state: "unreadable" };
  }
}

/** How the stored index was found. */
export type IndexState = "ok" | "settings-changed" | "missing" | "unreadable";

export function serializeIndex(index: FeedIndex): string {
  return `${JSON.stringify({ ...index, articles: sortedRecord(index.articles), rendered: sortedRecord(index.rendered) })}\n`;
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
  config: SiteConfig,
): IndexEntry {
  const stamp = now.toISOString();
  // A draft that was never published has no first-seen date yet: its clock starts when it is
  // published (planFeed sets it then), so it does not appear backdated.
  const unpublishedDraft = !("reason" in result) && result.draft && !previous?.firstSeen;
  const seen = unpublishedDraft
    ? { hash, firstSeen: "", changed: "" }
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
    ...(result.date ? { date: result.date.toISOString() } : {}),
    ...(result.updated ? { updated: result.updated.toISOString() } : {}),
    ...(result.publishDate ? { publishDate: result.publishDate.toISOString() } : {}),
    ...(result.expiryDate ? { expiryDate: result.expiryDate.toISOString() } : {}),
    ...(result.draft ? { draft: true as const } : {}),
    ...(result.id ? { id: result.id } : {}),
    uid: articleId(result, config),
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
      ...(entry.uid ? { uid: entry.uid } : {}),
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
