import type { SiteConfig } from "../../core/config.ts";
import { type Catalog, comparePaths, type IndexEntry, publishedOf, type Rank, ranksAbove } from "./entry.ts";

/** How many publishable articles a feed keeps as candidates: the feed and as many spare. */
export function candidatesFor(config: SiteConfig): number {
  return Math.max(2 * config.itemLimit, 10);
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
  const ranked: Rank[] = [];
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
    ranked.push({ published, path });
  }
  ranked.sort((a, b) => (ranksAbove(a, b) ? -1 : ranksAbove(b, a) ? 1 : 0));
  let next = floor;
  let taken = 0;
  for (const rank of ranked) {
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
