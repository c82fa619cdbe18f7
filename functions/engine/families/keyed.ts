import { assembleFeed, type FeedScope, renderFeedFiles } from "../../core/build.ts";
import type { SiteConfig } from "../../core/config.ts";
import type { ListedFeed } from "../../core/render/browser.ts";
import { fileEtag } from "../file-bytes.ts";
import type { OutputFile, StateObject } from "../needs.ts";
import { renderItems } from "../render.ts";
import { candidatesFor, selectCandidates } from "../state/candidates.ts";
import {
  type Catalog,
  comparePaths,
  type IndexEntry,
  publishable,
  publishedOf,
  type Rank,
  ranksAbove,
} from "../state/entry.ts";
import { type FeedRef, type FeedState, feedRef, serializeFeedState } from "../state/feed-state.ts";
import { type Family, folderFileKeys, incomplete, type PlanContext } from "./family.ts";

/** One feed of a keyed family, as an entry names it. */
export interface KeyedFeed {
  /** "<family>/<slug>": its folder under feeds/ and its key in the head. */
  readonly key: string;
  /** The name as the article writes it (a tag, an author). */
  readonly name: string;
}

/** What makes a keyed family: its name (the folder under feeds/), its label and its feeds per entry. */
export interface KeyedSpec {
  readonly name: string;
  /** Shown before the feed's name in its title: "Tag: Rust". */
  readonly label: string;
  /** The family's feeds the entry at `path` belongs to (only publishable entries are asked). */
  feedsOf(entry: IndexEntry, path: string, config: SiteConfig): readonly KeyedFeed[];
  /** How a feed's name is shown in its title, when not as written ("한국어 (Korean)"). */
  display?(name: string, config: SiteConfig): string;
  /** The language a feed is written in, when not the site's (a language feed's own). */
  language?(name: string): string | undefined;
}

/**
 * A family of feeds keyed by a value of the article (a tag, an author): one feed per value
 * under feeds/<family>/<slug>/, each with its own state object of candidates and rendered items.
 */
export function keyedFamily(spec: KeyedSpec): Family {
  const prefix = `${spec.name}/`;
  const feedsOf = (entry: IndexEntry | undefined, path: string, config: SiteConfig) =>
    publishable(entry) ? spec.feedsOf(entry, path, config) : [];
  const ownRefs = (ctx: PlanContext) => Object.keys(ctx.head.facets).filter((key) => key.startsWith(prefix));
  const keyOfFile = (file: string) => {
    const rest = file.startsWith(`feeds/${prefix}`) ? file.slice("feeds/".length) : undefined;
    const slash = rest?.lastIndexOf("/") ?? -1;
    return rest && slash > prefix.length ? rest.slice(0, slash) : undefined;
  };
  const due = (ref: FeedRef | undefined, now: Date) =>
    ref?.nextChange !== undefined && ref.nextChange <= now.getTime();
  const groups = groupCache(feedsOf);
  return {
    name: spec.name,
    memberships: (entry, path, config) => feedsOf(entry, path, config).map((feed) => feed.key),
    due: (ctx) =>
      ownRefs(ctx).some((key) => due(ctx.head.facets[key], ctx.now)) ||
      [...ctx.dirty].some((file) => keyOfFile(file) !== undefined),
    plan(ctx) {
      const affected = affectedFeeds(ctx, { feedsOf, keyOfFile, groups, own: ownRefs(ctx), due });
      const refs: Record<string, FeedRef> = {};
      for (const key of ownRefs(ctx)) refs[key] = ctx.head.facets[key] as FeedRef;
      const files: OutputFile[] = [];
      const known = new Map<string, string>();
      const deletes: string[] = [];
      const states: StateObject[] = [];
      let complete = true;
      let readWhole = false;
      for (const [key, fallback] of [...affected].sort(([a], [b]) => comparePaths(a, b))) {
        const made = planFeed(ctx, spec, key, fallback, groups);
        readWhole ||= made.readWhole;
        if (!made.complete) {
          complete = false;
          continue;
        }
        if (!made.state) {
          const folder = folderFileKeys(`${key}/`);
          if (refs[key] || folder.some((file) => ctx.dirty.has(file))) deletes.push(...folder);
          delete refs[key];
          continue;
        }
        const serialized = ctx.render ? serializeFeedState(made.state) : DRY;
        if (ctx.render) states.push(serialized);
        for (const file of made.files) files.push(file);
        for (const [file, md5] of Object.entries(made.previous?.feeds ?? {})) known.set(file, md5);
        refs[key] = feedRef(made.state.name, serialized.name, made.nextChange);
      }
      if (!complete) return incomplete(readWhole);
      const listed = Object.keys(refs).map((key) => listedFeed(ctx, spec, key, (refs[key] as FeedRef).name));
      const nextChange = Math.min(
        ...Object.values(refs).map((ref) => ref.nextChange ?? Number.POSITIVE_INFINITY),
      );
      return {
        complete: true,
        files,
        known,
        deletes,
        states,
        head: { facets: refs },
        ...(Number.isFinite(nextChange) ? { nextChange } : {}),
        listed,
        readWhole,
      };
    },
  };
}

/** What affectedFeeds needs of its family. */
interface Affecting {
  readonly feedsOf: FeedsOf;
  readonly keyOfFile: (file: string) => string | undefined;
  readonly groups: (catalog: Catalog, config: SiteConfig) => Map<string, Group>;
  /** The family's feeds the head names. */
  readonly own: readonly string[];
  readonly due: (ref: FeedRef | undefined, now: Date) => boolean;
}

/**
 * Which of the family's feeds this run makes, each key with the name to fall back on: every
 * feed in a rebuild; else those the changed entries were or are in, those an attempt that lost
 * its commit wrote, and those with an item due.
 */
function affectedFeeds(ctx: PlanContext, family: Affecting): Map<string, string> {
  const affected = new Map<string, string>();
  if (ctx.full) {
    for (const [key, group] of family.groups(ctx.catalog.whole() ?? {}, ctx.config))
      affected.set(key, group.name);
  } else {
    for (const [path, change] of ctx.catalog.changed)
      for (const feed of [
        ...family.feedsOf(change.before, path, ctx.config),
        ...family.feedsOf(change.after, path, ctx.config),
      ])
        if (!affected.has(feed.key)) affected.set(feed.key, feed.name);
    for (const file of ctx.dirty) {
      const key = family.keyOfFile(file);
      if (key && !affected.has(key)) affected.set(key, key);
    }
  }
  for (const key of family.own)
    if ((ctx.full || family.due(ctx.head.facets[key], ctx.now)) && !affected.has(key))
      affected.set(key, ctx.head.facets[key]?.name ?? key);
  return affected;
}

/** A dry pass's stand-in for a state object (see PlanContext.render). */
const DRY = { name: "", body: "" };

interface Group {
  /** As written by the first article (in path order) that uses it. */
  readonly name: string;
  readonly members: Record<string, IndexEntry>;
}

type FeedsOf = (entry: IndexEntry | undefined, path: string, config: SiteConfig) => readonly KeyedFeed[];

/** Every feed of a catalog with its members, computed once per catalog object (one config per plan). */
function groupCache(feedsOf: FeedsOf) {
  const cache = new WeakMap<Catalog, Map<string, Group>>();
  return (catalog: Catalog, config: SiteConfig): Map<string, Group> => {
    let groups = cache.get(catalog);
    if (groups) return groups;
    groups = new Map();
    for (const path of Object.keys(catalog).sort(comparePaths)) {
      const entry = catalog[path] as IndexEntry;
      for (const feed of feedsOf(entry, path, config)) {
        let group = groups.get(feed.key);
        if (!group) {
          group = { name: feed.name, members: {} };
          groups.set(feed.key, group);
        }
        group.members[path] = entry;
      }
    }
    cache.set(catalog, groups);
    return groups;
  };
}

interface FeedOutcome {
  readonly complete: boolean;
  readonly readWhole: boolean;
  /** Undefined when the feed has no members left: it goes. */
  readonly state?: FeedState;
  readonly previous?: FeedState;
  readonly files: OutputFile[];
  readonly nextChange?: number;
}

/** Plans and renders one feed of the family, like the main feed but from its own candidates. */
function planFeed(
  ctx: PlanContext,
  spec: KeyedSpec,
  key: string,
  fallback: string,
  groups: (catalog: Catalog, config: SiteConfig) => Map<string, Group>,
): FeedOutcome {
  const { config, now } = ctx;
  const ref = ctx.head.facets[key];
  const loaded = ref ? ctx.state(ref.state) : null;
  if (loaded === undefined) return { complete: false, readWhole: false, files: [] };
  const previous = loaded ?? undefined;
  const keep = candidatesFor(config);
  let members: Catalog;
  let floor: Rank | undefined;
  if (ctx.full) members = groups(ctx.catalog.whole() ?? {}, config).get(key)?.members ?? {};
  else {
    const own: Record<string, IndexEntry> = { ...previous?.candidates };
    for (const [path, change] of ctx.catalog.changed) {
      delete own[path];
      if (
        publishable(change.after) &&
        spec.feedsOf(change.after, path, config).some((feed) => feed.key === key)
      )
        own[path] = change.after;
    }
    members = own;
    floor = previous?.floor;
  }
  let selected = selectCandidates(members, now, keep, floor);
  let planned: Catalog = selected.candidates;
  let name = feedName(spec, key, planned, ctx) ?? (ctx.full ? fallback : (ref?.name ?? fallback));
  const rendered = previous?.rendered ?? {};
  let outcome = renderItems(
    { config, now, entries: planned, rendered, ...(selected.floor ? { floor: selected.floor } : {}) },
    ctx.sources,
  );
  floor = selected.floor;
  let readWhole = false;
  if (!outcome.exact) {
    // Fewer candidates than items above the floor: every member, from the whole catalog.
    const whole = ctx.catalog.whole();
    if (!whole) return { complete: false, readWhole: true, files: [] };
    readWhole = !ctx.full;
    planned = groups(whole, config).get(key)?.members ?? {};
    name = feedName(spec, key, selectCandidates(planned, now, keep).candidates, ctx) ?? name;
    outcome = renderItems({ config, now, entries: planned, rendered }, ctx.sources);
    floor = undefined;
  }
  if (!outcome.complete) return { complete: false, readWhole, files: [] };
  for (const path in outcome.entries)
    if (
      outcome.entries[path] !== planned[path] &&
      !ctx.catalog.refuse(path, outcome.entries[path] as IndexEntry)
    )
      return { complete: false, readWhole, files: [] };
  selected = selectCandidates(outcome.entries, now, keep, floor);
  if (Object.keys(selected.candidates).length === 0 && !selected.floor)
    return { complete: true, readWhole, files: [], ...(previous ? { previous } : {}) };
  const scope = scopeOf(spec, key, name, config);
  const files = ctx.render ? renderFeedFiles(assembleFeed(config, outcome.items, scope), scope) : [];
  const state: FeedState = {
    key,
    name,
    candidates: selected.candidates,
    ...(selected.floor ? { floor: selected.floor } : {}),
    rendered: outcome.rendered,
    feeds: Object.fromEntries(files.map((file) => [file.key, fileEtag(file)])),
  };
  const nextChange = outcome.plan.nextChange?.getTime();
  return {
    complete: true,
    readWhole,
    state,
    ...(previous ? { previous } : {}),
    files,
    ...(nextChange !== undefined ? { nextChange } : {}),
  };
}

function scopeOf(spec: KeyedSpec, key: string, name: string, config: SiteConfig): FeedScope {
  const language = spec.language?.(name);
  return {
    folder: `${key}/`,
    label: `${spec.label}: ${spec.display?.(name, config) ?? name}`,
    ...(language ? { language } : {}),
  };
}

function listedFeed(ctx: PlanContext, spec: KeyedSpec, key: string, name: string): ListedFeed {
  const scope = scopeOf(spec, key, name, ctx.config);
  const model = assembleFeed(ctx.config, [], scope);
  return {
    title: scope.label ?? key,
    links: model.links,
    paths: { rss: `${key}/rss.xml`, atom: `${key}/atom.xml`, json: `${key}/feed.json` },
  };
}

/**
 * The feed's display name: as the newest of its candidates writes it. Values that share a slug
 * ("Tech", "tech") share a feed; the name is taken from an article every regeneration of the
 * feed knows (the candidates always hold the newest members), so a full rebuild and an
 * incremental one agree on it.
 */
function feedName(spec: KeyedSpec, key: string, candidates: Catalog, ctx: PlanContext): string | undefined {
  let best: Rank | undefined;
  for (const path in candidates) {
    const rank = { published: publishedOf(candidates[path] as IndexEntry, ctx.now.getTime()), path };
    if (!best || ranksAbove(rank, best)) best = rank;
  }
  const entry = best ? candidates[best.path] : undefined;
  return entry && best && publishable(entry)
    ? spec.feedsOf(entry, best.path, ctx.config).find((feed) => feed.key === key)?.name
    : undefined;
}
