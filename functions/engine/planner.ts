import type { Article } from "../core/article.ts";
import type { HeldBack } from "../core/build.ts";
import type { SiteConfig } from "../core/config.ts";
import type { ArticleProblem } from "../core/errors.ts";
import { PlannedCatalog } from "./catalog-view.ts";
import type { EarlierPlans, Family, FamilyPlan, PlanContext } from "./families/family.ts";
import { FAMILIES } from "./families/registry.ts";
import { fileEtag } from "./file-bytes.ts";
import { Needs, type OutputFile, type StateObject } from "./needs.ts";
import type { Sources } from "./render.ts";
import {
  type Catalog,
  comparePaths,
  countsOf,
  entryFor,
  indexProblems,
  type RenderedEntry,
} from "./state/entry.ts";
import type { FeedState } from "./state/feed-state.ts";
import type { FeedIndex } from "./state/head.ts";
import { serializeShard, shardCountFor, splitCatalog } from "./state/shards.ts";

/** Passes over the families: one, and one more per round of refusals (each refuses a new path). */
const MAX_PASSES = 64;

/** What the runner saw of one article key. */
export type Observation =
  | { readonly key: string; readonly kind: "gone" }
  | {
      readonly key: string;
      readonly kind: "read";
      /** Hash of the bytes read (or a stand-in for a file that could not be read). */
      readonly hash: string;
      readonly etag?: string;
      /** The parsed article or its problem, parsed on first use. */
      readonly result: () => Article | ArticleProblem;
    }
  /** A rebuild's listing shows the version the catalog holds: the entry stands, nothing is read. */
  | { readonly key: string; readonly kind: "listed" };

export interface PlanInput {
  readonly config: SiteConfig;
  readonly now: Date;
  /** The head as committed (an empty one for a first build). */
  readonly head: FeedIndex;
  /**
   * A rebuild: `observed` is every article there is, and every feed is made from the whole
   * catalog; `previous` is the catalog before it (for first-seen dates and unchanged entries).
   */
  readonly full: boolean;
  readonly previous?: Catalog;
  readonly observed: readonly Observation[];
  /** The catalog shards at hand, by slot (an upload's runner loads those of its keys). */
  readonly shards: ReadonlyMap<number, Catalog>;
  /** Feed states at hand by name (null: missing or unreadable, for a rebuild to make anew). */
  readonly states: ReadonlyMap<string, FeedState | null>;
  /** Article bodies read because the plan asked for them. */
  readonly articles: ReadonlyMap<string, Article | ArticleProblem>;
  /** Media sizes by content key (-1: no such file). */
  readonly media: ReadonlyMap<string, number>;
  /** Whether `media` is a whole listing (a missing key is then a missing file). */
  readonly mediaListed: boolean;
  /** Files an attempt that lost its commit wrote or deleted. */
  readonly dirty: ReadonlySet<string>;
  /** Items rendered by an earlier round or attempt; kept by the runner across calls. */
  readonly memo?: Map<string, RenderedEntry>;
  readonly families?: readonly Family[];
}

/** The exact list of what to write and delete, and the head that commits it. */
export interface EnginePlan {
  /** False when nothing changed: nothing is written, nothing committed. */
  readonly changed: boolean;
  /** The new head (its generatedAt is set at the commit). */
  readonly head: FeedIndex;
  /** Feed files to write: those whose bytes differ from what the state recorded (every one in a rebuild). */
  readonly writes: readonly OutputFile[];
  readonly deletes: readonly string[];
  /** The state objects the new head names: catalog shards and feed states. */
  readonly objects: readonly StateObject[];
  /** Names of those the committed head already names (stored already, unless damaged). */
  readonly kept: ReadonlySet<string>;
  /** Problems of the observed articles (of every article in a rebuild). */
  readonly problems: readonly ArticleProblem[];
  readonly held: readonly HeldBack[];
  /** Items in the main feed. */
  readonly published: number;
  /** In a rebuild: every article public now, and how many of them are on archive pages. */
  readonly whole?: { readonly public: number; readonly archived: number; readonly waiting: number };
  readonly articles: number;
  /** The earliest time some feed changes without an upload. */
  readonly nextChange?: Date;
  /** Whether some feed needed the whole catalog (an upload, not a rebuild). */
  readonly readWholeCatalog: boolean;
}

export type PlanResult = { readonly needs: Needs } | { readonly plan: EnginePlan };

/**
 * The engine's one definition of what the feeds should be. Given the committed head, the parts of
 * the catalog and the feed states it was handed, what was observed of the articles and the clock,
 * it returns the new head and the files and state objects to write and delete, or the list of
 * what it still needs. No I/O, no clock, no environment: the same input gives the same plan.
 */
export function plan(input: PlanInput): PlanResult {
  const needs = new Needs();
  const view = catalogFor(input, needs);
  const problems: ArticleProblem[] = [];
  const articles = new Map(input.articles);
  if (!observe(input, view, problems, articles)) return { needs };
  const sources: Sources = {
    articles,
    mediaSize: (key) => input.media.get(key) ?? (input.mediaListed ? -1 : undefined),
    mediaListed: input.mediaListed,
    memo: input.memo ?? new Map(),
    needs,
  };
  const context = (render: boolean): PlanContext => ({
    render,
    config: input.config,
    now: input.now,
    head: input.head,
    full: input.full,
    catalog: view,
    sources,
    dirty: input.dirty,
    state(name) {
      const state = input.states.get(name);
      if (state === undefined) needs.states.add(name);
      return state;
    },
  });
  const ctx = context(false);
  const families = input.families ?? FAMILIES;
  const quiet = !input.full && view.changed.size === 0 && input.dirty.size === 0;
  if (quiet && !families.some((family) => family.due(ctx))) return { plan: unchanged(input, problems) };
  const runFamilies = (pass: PlanContext) => {
    const plans = new Map<string, FamilyPlan>();
    for (const family of families) plans.set(family.name, family.plan(pass, plans as EarlierPlans));
    return plans;
  };
  // Dry passes first (no files). An article refused while rendering for one family (its body
  // fails, or vanished) leaves every feed: when one was refused after some family had planned,
  // every family plans again with it.
  for (let refusals = -1, pass = 1; refusals !== view.refusals; pass++) {
    if (pass > MAX_PASSES) throw new Error("the plan did not settle: articles kept being refused");
    refusals = view.refusals;
    const plans = runFamilies(ctx);
    if (!needs.empty || [...plans.values()].some((p) => !p.complete)) return { needs };
  }
  // Nothing is missing: the plan, whole, with its files and state objects.
  const plans = runFamilies(context(true));
  if (!needs.empty || [...plans.values()].some((p) => !p.complete)) return { needs };
  return { plan: assemble(input, view, plans, problems) };
}

function catalogFor(input: PlanInput, needs: Needs): PlannedCatalog {
  if (input.full) return new PlannedCatalog(1, new Map([[0, input.previous ?? {}]]), needs);
  return new PlannedCatalog(Math.max(1, input.head.shards.length), input.shards, needs);
}

/** Applies the observations to the catalog; false when a shard they need is not at hand. */
function observe(
  input: PlanInput,
  view: PlannedCatalog,
  problems: ArticleProblem[],
  articles: Map<string, Article | ArticleProblem>,
): boolean {
  let ready = true;
  for (const seen of input.observed) ready = view.has(seen.key) && ready;
  if (!ready) return false;
  const listed = new Set<string>();
  for (const seen of input.observed) {
    listed.add(seen.key);
    const previous = view.get(seen.key);
    if (seen.kind === "listed") continue;
    if (seen.kind === "gone") {
      if (previous) view.set(seen.key, undefined);
      continue;
    }
    // Same bytes as recorded: a duplicate or late event. An upload has nothing to do for the key.
    if (!input.full && previous && previous.hash === seen.hash) {
      if (previous.problem) problems.push({ file: seen.key, ...previous.problem });
      continue;
    }
    const result = seen.result();
    if ("reason" in result) problems.push(result);
    else articles.set(seen.key, result);
    view.set(seen.key, entryFor(result, seen.hash, previous, input.now, seen.etag));
  }
  // A rebuild observed every article there is: the others are gone.
  if (input.full)
    for (const path of Object.keys(input.previous ?? {})) if (!listed.has(path)) view.set(path, undefined);
  return true;
}

const MAIN_FILES = new Set(["feeds/rss.xml", "feeds/atom.xml", "feeds/feed.json"]);

/** Reports list the main feed first, then the family feeds, then the landing page (a stable sort). */
function writeOrder(key: string): number {
  if (MAIN_FILES.has(key)) return 0;
  return key.indexOf("/", "feeds/".length) >= 0 ? 1 : 2;
}

function unchanged(input: PlanInput, problems: ArticleProblem[]): EnginePlan {
  return {
    changed: false,
    head: input.head,
    writes: [],
    deletes: [],
    objects: [],
    kept: new Set(),
    problems,
    held: [],
    published: Object.keys(input.head.rendered).length,
    articles: input.head.counts.articles,
    readWholeCatalog: false,
  };
}

function assemble(
  input: PlanInput,
  view: PlannedCatalog,
  plans: ReadonlyMap<string, FamilyPlan>,
  observed: ArticleProblem[],
): EnginePlan {
  const { head } = input;
  const referenced = new Set([
    ...head.shards,
    ...Object.values(head.facets).map((ref) => ref.state),
    ...Object.values(head.archive?.pages ?? {}).map((ref) => ref.state),
  ]);
  const objects: StateObject[] = [];
  const catalog = { shards: [] as string[], counts: head.counts };
  if (input.full) {
    const whole = view.whole() as Catalog;
    const shards = splitCatalog(whole, shardCountFor(Object.keys(whole).length)).map(serializeShard);
    catalog.shards = shards.map((shard) => shard?.name ?? "");
    for (const shard of shards) if (shard) objects.push(shard);
    catalog.counts = countsOf(whole);
  } else {
    catalog.shards = Array.from({ length: view.count }, (_, slot) => head.shards[slot] ?? "");
    for (const slot of view.touched) {
      const shard = serializeShard(view.shard(slot));
      catalog.shards[slot] = shard?.name ?? "";
      if (shard) objects.push(shard);
    }
    catalog.counts = view.countsAfter(head.counts);
  }
  let next: Record<string, unknown> = { ...head, ...catalog, facets: {} };
  const writes: OutputFile[] = [];
  const deletes: string[] = [];
  let nextChange = Number.POSITIVE_INFINITY;
  for (const family of plans.values()) {
    const { facets, ...part } = family.head;
    next = { ...next, ...part, facets: { ...(next.facets as object), ...facets } };
    for (const file of family.files)
      if (input.full || family.known.get(file.key) !== fileEtag(file) || input.dirty.has(file.key))
        writes.push(file);
    deletes.push(...family.deletes);
    objects.push(...family.states);
    if (family.nextChange !== undefined) nextChange = Math.min(nextChange, family.nextChange);
  }
  for (const key of Object.keys(next)) if (next[key] === undefined) delete next[key];
  writes.sort((a, b) => writeOrder(a.key) - writeOrder(b.key));
  const summary = plans.get("main")?.summary;
  // An upload reports its own articles; a rebuild every problem there is, duplicate ids included.
  const problems = input.full
    ? [...indexProblems(view.whole() as Catalog), ...(summary?.problems ?? [])].sort((a, b) =>
        comparePaths(a.file, b.file),
      )
    : observed;
  return {
    changed: true,
    head: next as unknown as FeedIndex,
    writes,
    deletes,
    objects,
    kept: referenced,
    problems,
    held: summary?.held ?? [],
    published: summary?.published ?? 0,
    ...(summary?.whole ? { whole: summary.whole } : {}),
    articles: catalog.counts.articles,
    ...(Number.isFinite(nextChange) ? { nextChange: new Date(nextChange) } : {}),
    readWholeCatalog: [...plans.values()].some((family) => family.readWhole),
  };
}
