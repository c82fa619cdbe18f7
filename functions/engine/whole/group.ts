import { monthOf } from "../../core/archive.ts";
import type { Article } from "../../core/article.ts";
import { type HeldBack, planFeed } from "../../core/build.ts";
import type { SiteConfig } from "../../core/config.ts";
import type { ArticleProblem } from "../../core/errors.ts";
import { mediaKeyOf, mediaType } from "../../core/media.ts";
import type { Storage } from "../../storage/port.ts";
import { forEachLimited, READ_CONCURRENCY } from "../concurrency.ts";
import { pageMonthOf, renderArchivePage } from "../families/archive.ts";
import { mediaSizesOf } from "../media-sync.ts";
import { Needs } from "../needs.ts";
import { readListed, UNREADABLE } from "../observe.ts";
import { renderItems, type Sources } from "../render.ts";
import { candidatesFor, selectCandidates } from "../state/candidates.ts";
import {
  type Catalog,
  entryFor,
  type IndexEntry,
  indexProblems,
  planInputs,
  publishable,
  type RenderedEntry,
} from "../state/entry.ts";
import { encodeRow, type Row } from "../state/rows.ts";
import { serializeShard, shardOf } from "../state/shards.ts";
import {
  CorruptStateError,
  type LoadedIndex,
  loadIndex,
  loadShards,
  putState,
  StaleIndexError,
} from "../store.ts";
import type { Stores } from "../stores.ts";
import { candidatesKey, groupResultKey, listFolder, monthPartKey, type RunManifest } from "./layout.ts";
import { addToFeeds } from "./merge.ts";
import { listKeys, readManifest, requireJson, writeJson } from "./parts.ts";
import { type GroupPlan, groupPlanKey } from "./plan.ts";
import type { ListRow } from "./shuffle.ts";

/** What a group worker reports to the reduce (groups/<k>.json). */
export interface GroupResult {
  readonly group: number;
  readonly articles: number;
  /** The new catalog shards of its slots: [slot, name] ("" for an empty one). */
  readonly shards: readonly (readonly [number, string])[];
  readonly problems: readonly ArticleProblem[];
  /**
   * Its articles without an id of their own that are public now (as the main feed's plan chooses
   * them), and of those on pages. Articles with one can clash with another group's: the reduce
   * counts them over the union, which holds every one.
   */
  readonly public: number;
  readonly archived: number;
  /** Its articles the main feed holds back (scheduled, expired), as a rebuild reports them. */
  readonly held: readonly HeldBack[];
  /**
   * The earliest time one of its articles falls due or expires: a rebuild plans the main feed
   * over every article (the other feeds over their candidates), so its next change counts them all.
   */
  readonly due?: number;
}

/** A group's candidates for every feed (cand/<k>.json), or its members of one page (months/<m>/<k>.json). */
export interface EntriesPart {
  readonly rows: Row[];
  readonly rendered: Record<string, RenderedEntry>;
}

/**
 * Stage 2, one group worker: reads, parses and renders every article of its group (each read
 * once), keeping the history (first-seen dates) the old catalog shards of its slots hold; writes
 * the new shards of its slots; and sets down for the reduce what it needs of the group: each
 * feed's best candidates with their rendered items (the union over groups holds every feed's
 * candidates) and every member of every archive page, rendered as pages carry it.
 */
export async function runGroup(
  stores: Stores,
  config: SiteConfig,
  run: string,
  group: number,
): Promise<{ articles: number }> {
  const { content, output } = stores;
  const manifest = await readManifest(output, run);
  const plan = await requireJson<GroupPlan>(output, groupPlanKey(run));
  const now = new Date(manifest.now);
  const listed = await listedRows(output, run, manifest, plan, group);
  const history = await historyOf(output, await loadIndex(output, config), plan.groups, group);
  const { entries, articles } = await readGroup(content, listed, history, now);
  const sizes = new Map<string, number>();
  await mediaSizesOf(content, mediaKeysOf(articles.values()), sizes);
  const sources: Sources = {
    articles,
    mediaSize: (key) => sizes.get(key) ?? -1,
    mediaListed: true,
    memo: new Map(),
    needs: new Needs(),
  };
  const pools = feedPools(config, entries);
  const union = renderUnion(config, now, entries, pools, sources);
  const pages = renderMonths(config, now, manifest.open, entries, sources);
  const shards = await writeShards(output, entries, plan, group);
  await writeJson(output, candidatesKey(run, group), partOf(union.entries, union.rendered, entries));
  await forEachLimited([...pages], READ_CONCURRENCY, async ([month, page]) => {
    await writeJson(output, monthPartKey(run, month, group), partOf(page.entries, page.rendered, entries));
  });
  const { chosen, held, nextChange } = planFeed({ config, now, ...planInputs(entries) });
  const own = chosen.filter((item) => entries[item.path]?.id === undefined);
  const archived = own.filter((item) => monthOf(item.published.getTime()) < manifest.open).length;
  const result: GroupResult = {
    group,
    articles: Object.keys(entries).length,
    shards,
    problems: indexProblems(entries),
    public: own.length,
    archived,
    held,
    ...(nextChange ? { due: nextChange.getTime() } : {}),
  };
  await writeJson(output, groupResultKey(run, group), result);
  return { articles: result.articles };
}

/** The group's rows of the listing: the shuffle groups congruent to it, every batch's part. */
async function listedRows(
  output: Storage,
  run: string,
  manifest: RunManifest,
  plan: GroupPlan,
  group: number,
): Promise<ListRow[]> {
  const keys: string[] = [];
  for (let g = group; g < manifest.shuffleGroups; g += plan.groups)
    keys.push(...(await listKeys(output, listFolder(run, g))));
  const rows: ListRow[] = [];
  await forEachLimited(keys, READ_CONCURRENCY, async (key) => {
    rows.push(...(await requireJson<{ rows: ListRow[] }>(output, key)).rows);
  });
  return rows;
}

/**
 * The old catalog entries of the group's paths: from the shards of its slots (all shards whose
 * slot is the group modulo the group count, or the one shard holding them when there are fewer
 * shards than groups). No usable state, or a damaged one, gives no history: only the first-seen
 * dates of undated articles are lost, as in any rebuild from scratch.
 */
async function historyOf(
  output: Storage,
  loaded: LoadedIndex,
  groups: number,
  group: number,
): Promise<Catalog> {
  if (loaded.legacy) return loaded.legacy;
  if (loaded.state === "missing" || loaded.state === "unreadable") return {};
  const count = loaded.index.shards.length;
  if (count === 0) return {};
  const slots: number[] = [];
  if (count >= groups) for (let slot = group; slot < count; slot += groups) slots.push(slot);
  else slots.push(group % count);
  const shards = new Map<number, Catalog>();
  try {
    await loadShards(output, loaded.index, slots, shards);
  } catch (error) {
    if (error instanceof StaleIndexError || error instanceof CorruptStateError) return {};
    throw error;
  }
  return Object.assign({}, ...shards.values()) as Catalog;
}

/** Reads and parses every listed article of the group, with the entry the catalog gets for it. */
async function readGroup(
  content: Storage,
  listed: readonly ListRow[],
  history: Catalog,
  now: Date,
): Promise<{ entries: Record<string, IndexEntry>; articles: Map<string, Article | ArticleProblem> }> {
  const entries: Record<string, IndexEntry> = {};
  const articles = new Map<string, Article | ArticleProblem>();
  const sorted = [...listed].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const made: (IndexEntry | undefined)[] = new Array(sorted.length);
  await forEachLimited(sorted, READ_CONCURRENCY, async ([key, etag, size], i) => {
    const read = await readListed(content, { key, etag, size, lastModified: new Date(0) });
    // As a rebuild does: the listing's ETag is recorded, never for a file that could not be read.
    made[i] = entryFor(
      read.result,
      read.hash,
      history[key],
      now,
      read.hash === UNREADABLE ? undefined : etag,
    );
    if (!("reason" in read.result)) articles.set(key, read.result);
  });
  for (const [i, row] of sorted.entries()) entries[row[0]] = made[i] as IndexEntry;
  return { entries, articles };
}

function mediaKeysOf(articles: Iterable<Article | ArticleProblem>): Set<string> {
  const keys = new Set<string>();
  for (const article of articles) {
    if ("reason" in article) continue;
    for (const ref of [
      ...(article.image ? [article.image] : []),
      ...(article.enclosures ?? []).map((e) => e.ref),
    ]) {
      const key = mediaKeyOf(article.path, ref);
      if (key && mediaType(key)) keys.add(key);
    }
  }
  return keys;
}

/**
 * The union of every feed's best candidates in this group (one more than a feed keeps, so the
 * union over groups also holds each feed's floor), rendered; refusals are recorded in `entries`.
 */
function renderUnion(
  config: SiteConfig,
  now: Date,
  entries: Record<string, IndexEntry>,
  pools: ReadonlyMap<string, Catalog>,
  sources: Sources,
): { entries: Catalog; rendered: Record<string, RenderedEntry> } {
  const keep = candidatesFor(config) + 1;
  const union: Record<string, IndexEntry> = {};
  for (const pool of pools.values()) Object.assign(union, selectCandidates(pool, now, keep).candidates);
  const outcome = renderItems(
    {
      config: { ...config, itemLimit: Math.max(1, Object.keys(union).length) },
      now,
      entries: union,
      rendered: {},
    },
    sources,
  );
  recordRefusals(entries, union, outcome.entries);
  return { entries: outcome.entries, rendered: outcome.rendered };
}

/** Every feed's members in the group ("" for the main feed): publishable entries only. */
function feedPools(config: SiteConfig, entries: Catalog): Map<string, Record<string, IndexEntry>> {
  const pools = new Map<string, Record<string, IndexEntry>>();
  for (const path in entries) {
    const entry = entries[path] as IndexEntry;
    if (publishable(entry)) addToFeeds(pools, config, path, entry);
  }
  return pools;
}

/** Every archive page's members in this group, rendered as pages carry them. */
function renderMonths(
  config: SiteConfig,
  now: Date,
  open: string,
  entries: Record<string, IndexEntry>,
  sources: Sources,
): Map<string, { entries: Catalog; rendered: Record<string, RenderedEntry> }> {
  const members = new Map<string, Record<string, IndexEntry>>();
  for (const path in entries) {
    const month = pageMonthOf(entries[path], now);
    if (month === undefined || month >= open) continue;
    let page = members.get(month);
    if (!page) {
      page = {};
      members.set(month, page);
    }
    page[path] = entries[path] as IndexEntry;
  }
  const pages = new Map<string, { entries: Catalog; rendered: Record<string, RenderedEntry> }>();
  for (const [month, catalog] of members) {
    const page = renderArchivePage(
      { config, now, month, before: undefined, members: catalog, rendered: {} },
      sources,
      false,
    );
    if (!page) throw new Error(`archive page ${month}: an article or media size was not at hand`);
    recordRefusals(entries, catalog, page.outcome.entries);
    pages.set(month, { entries: page.outcome.entries, rendered: page.outcome.rendered });
  }
  return pages;
}

/** Entries refused while rendering become the catalog's entries (with their problem). */
function recordRefusals(entries: Record<string, IndexEntry>, before: Catalog, after: Catalog): void {
  for (const path in after) if (after[path] !== before[path]) entries[path] = after[path] as IndexEntry;
}

/** A part with the publishable entries (as the catalog now has them) and their rendered items. */
function partOf(part: Catalog, rendered: Record<string, RenderedEntry>, entries: Catalog): EntriesPart {
  const rows: Row[] = [];
  const items: Record<string, RenderedEntry> = {};
  for (const path of Object.keys(part).sort()) {
    const entry = entries[path];
    if (!publishable(entry)) continue;
    rows.push(encodeRow(path, entry));
    if (rendered[path]) items[path] = rendered[path];
  }
  return { rows, rendered: items };
}

/** Writes the new shards of the group's slots (slot ≡ group modulo the group count). */
async function writeShards(
  output: Storage,
  entries: Catalog,
  plan: GroupPlan,
  group: number,
): Promise<(readonly [number, string])[]> {
  const bySlot = new Map<number, Record<string, IndexEntry>>();
  for (let slot = group; slot < plan.shards; slot += plan.groups) bySlot.set(slot, {});
  for (const path in entries) {
    const slot = bySlot.get(shardOf(path, plan.shards));
    if (!slot) throw new Error(`${path} is not in group ${group}'s shards`);
    slot[path] = entries[path] as IndexEntry;
  }
  const names: (readonly [number, string])[] = [];
  await forEachLimited([...bySlot], READ_CONCURRENCY, async ([slot, shard]) => {
    const serialized = serializeShard(shard);
    if (serialized) await putState(output, serialized);
    names.push([slot, serialized?.name ?? ""]);
  });
  return names.sort((a, b) => a[0] - b[0]);
}
