import type { HeldBack } from "../../core/build.ts";
import type { SiteConfig } from "../../core/config.ts";
import type { ArticleProblem } from "../../core/errors.ts";
import type { ListedFeed } from "../../core/render/browser.ts";
import type { OutputFile, StateObject } from "../needs.ts";
import type { Sources } from "../render.ts";
import type { Catalog, IndexEntry } from "../state/entry.ts";
import type { FeedState } from "../state/feed-state.ts";
import type { FeedIndex } from "../state/head.ts";

/**
 * A feed family: the main feed, the tag feeds, the author feeds, the archive pages. Each says
 * which entries belong to which of its feeds, what state it keeps, how a change touches it and
 * how it renders, in its own file; the planner runs them in the registry's order (registry.ts).
 * A family never reads storage: what it lacks it asks for through `ctx.sources.needs` or
 * `ctx.state`, and the runner plans again once it is loaded.
 */
export interface Family {
  readonly name: string;
  /**
   * Whether the family has work even if no entry changed: a scheduled item fell due, a month
   * ended, or an attempt that lost its commit wrote some of its files.
   */
  due(ctx: PlanContext): boolean;
  /** Plans the family's feeds for this run. */
  plan(ctx: PlanContext, earlier: EarlierPlans): FamilyPlan;
  /**
   * The keys of the family's feeds an entry belongs to, for a family whose feeds are each made
   * from their own top-ranked members (the keyed families): a whole-site run selects every feed's
   * candidates group by group with it, and the reduce plans the family from their union.
   */
  memberships?(entry: IndexEntry, path: string, config: SiteConfig): readonly string[];
}

/** What a plan is made from; one per planner run, shared by the families. */
export interface PlanContext {
  readonly config: SiteConfig;
  readonly now: Date;
  /** The head as committed (with the settings' fingerprint of this run). */
  readonly head: FeedIndex;
  /** Every article was observed (a rebuild): families plan from the whole catalog. */
  readonly full: boolean;
  readonly catalog: CatalogView;
  readonly sources: Sources;
  /**
   * A feed state object by name: undefined when it is not loaded yet (the need is noted), null
   * when a rebuild found it missing or unreadable (the feed is then made from its articles).
   */
  state(name: string): FeedState | null | undefined;
  /** Files an attempt that lost its commit wrote or deleted: written again from this plan. */
  readonly dirty: ReadonlySet<string>;
  /**
   * False in a dry pass: families plan and render their items but not their files or state
   * objects. Rounds that end in needs are dry; the plan is made once more, whole, when nothing
   * is missing, so the feeds are serialised once per run.
   */
  readonly render: boolean;
}

/** The catalog as far as this run knows it. */
export interface CatalogView {
  /** Entries this run changed so far, by path, before and after (undefined: none), refusals included. */
  readonly changed: ReadonlyMap<string, Change>;
  /** The whole catalog, or undefined when some shard is not loaded (the need is then noted). */
  whole(): Catalog | undefined;
  /** Records an entry refused while rendering; false when its shard is not loaded yet. */
  refuse(path: string, entry: IndexEntry): boolean;
}

/** One entry's change. */
export interface Change {
  readonly before?: IndexEntry;
  readonly after?: IndexEntry;
}

/** The plans of the families that ran before, by name. */
export type EarlierPlans = ReadonlyMap<string, FamilyPlan>;

export interface FamilyPlan {
  /** False when something is missing (noted in the needs): the plan is discarded and made again. */
  readonly complete: boolean;
  /** Every file the family's touched feeds consist of now. */
  readonly files: readonly OutputFile[];
  /** The MD5 of each of those files as the family's state last recorded it. */
  readonly known: ReadonlyMap<string, string>;
  readonly deletes: readonly string[];
  readonly states: readonly StateObject[];
  /** The family's part of the new head. */
  readonly head: Partial<FeedIndex>;
  /** The earliest time one of its feeds changes without an upload (epoch ms). */
  readonly nextChange?: number;
  /** Its feeds as the landing page lists them. */
  readonly listed: readonly ListedFeed[];
  /** Whether the family needed the whole catalog. */
  readonly readWhole: boolean;
  /** What the main feed reports: its items, what it held back and refused. */
  readonly summary?: {
    published: number;
    held: readonly HeldBack[];
    problems: readonly ArticleProblem[];
    /** In a rebuild: every article public now, and how many of them are on archive pages. */
    whole?: { public: number; archived: number; waiting: number };
  };
}

/** A plan that is discarded: something is missing. */
export function incomplete(readWhole = false): FamilyPlan {
  return {
    complete: false,
    files: [],
    known: new Map(),
    deletes: [],
    states: [],
    head: {},
    listed: [],
    readWhole,
  };
}

/** The feed files of a folder under feeds/. */
export function folderFileKeys(folder: string): string[] {
  return ["rss.xml", "atom.xml", "feed.json"].map((file) => `feeds/${folder}${file}`);
}
