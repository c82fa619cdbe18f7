import type { SiteConfig } from "../../core/config.ts";
import type { Storage } from "../../storage/port.ts";
import { forEachLimited, READ_CONCURRENCY } from "../concurrency.ts";
import { FAMILIES } from "../families/registry.ts";
import { candidatesFor, selectCandidates } from "../state/candidates.ts";
import type { IndexEntry, RenderedEntry } from "../state/entry.ts";
import { decodeRows } from "../state/rows.ts";
import type { EntriesPart } from "./group.ts";
import { candidatesKey, monthsFolder } from "./layout.ts";
import { requireJson } from "./parts.ts";

/**
 * The union of every feed's candidates over the groups: each group set down its best for every
 * feed (one more than a feed keeps), so the best of those per feed are the feed's best over the
 * whole site, and one more, its floor. Merged group by group, keeping per feed only its best, so
 * memory is bounded by the feeds times what each keeps, not by the site.
 */
export async function mergeCandidates(
  output: Storage,
  run: string,
  groups: number,
  config: SiteConfig,
  now: Date,
): Promise<{ union: Record<string, IndexEntry>; rendered: Map<string, RenderedEntry> }> {
  const keep = candidatesFor(config) + 1;
  const pools = new Map<string, Record<string, IndexEntry>>();
  const rendered = new Map<string, RenderedEntry>();
  for (let group = 0; group < groups; group++) {
    const part = await requireJson<EntriesPart>(output, candidatesKey(run, group));
    const touched = new Set<string>();
    for (const [path, entry] of Object.entries(decodeRows(part.rows))) {
      for (const feed of addToFeeds(pools, config, path, entry)) touched.add(feed);
      const item = part.rendered[path];
      if (item) rendered.set(path, item);
    }
    for (const feed of touched)
      pools.set(feed, selectCandidates(pools.get(feed) as Record<string, IndexEntry>, now, keep).candidates);
    const alive = new Set<string>();
    for (const pool of pools.values()) for (const path in pool) alive.add(path);
    for (const path of rendered.keys()) if (!alive.has(path)) rendered.delete(path);
  }
  const union: Record<string, IndexEntry> = {};
  for (const pool of pools.values()) Object.assign(union, pool);
  return {
    union: Object.fromEntries(Object.entries(union).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    rendered,
  };
}

/**
 * Adds a publishable entry to the pool of every feed it belongs to ("" for the main feed, then
 * each keyed family's feeds); returns those feeds' keys.
 */
export function addToFeeds(
  pools: Map<string, Record<string, IndexEntry>>,
  config: SiteConfig,
  path: string,
  entry: IndexEntry,
): string[] {
  const feeds = [""];
  for (const family of FAMILIES) feeds.push(...(family.memberships?.(entry, path, config) ?? []));
  for (const feed of feeds) {
    let pool = pools.get(feed);
    if (!pool) {
      pool = {};
      pools.set(feed, pool);
    }
    pool[path] = entry;
  }
  return feeds;
}

/** The archive months the groups found, each with the keys of its parts and their bytes. */
export async function monthParts(
  output: Storage,
  run: string,
): Promise<Map<string, { keys: string[]; bytes: number }>> {
  const folder = monthsFolder(run);
  const months = new Map<string, { keys: string[]; bytes: number }>();
  for await (const info of output.list(folder)) {
    const month = info.key.slice(folder.length, folder.length + 7);
    let parts = months.get(month);
    if (!parts) {
      parts = { keys: [], bytes: 0 };
      months.set(month, parts);
    }
    parts.keys.push(info.key);
    parts.bytes += info.size;
  }
  return new Map([...months].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** One month's members over every group, with their rendered items. */
export async function monthMembers(
  output: Storage,
  keys: readonly string[],
): Promise<{ members: Record<string, IndexEntry>; rendered: Record<string, RenderedEntry> }> {
  const members: Record<string, IndexEntry> = {};
  const rendered: Record<string, RenderedEntry> = {};
  const parts: EntriesPart[] = [];
  await forEachLimited(keys, READ_CONCURRENCY, async (key) => {
    parts.push(await requireJson<EntriesPart>(output, key));
  });
  for (const part of parts) {
    Object.assign(members, decodeRows(part.rows));
    Object.assign(rendered, part.rendered);
  }
  const sorted = Object.fromEntries(Object.entries(members).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { members: sorted, rendered };
}
