import {
  archiveFileKeys,
  archiveMonthOfKey,
  archiveScope,
  monthOf,
  previousPages,
} from "../../core/archive.ts";
import { assembleFeed, renderFeedFiles } from "../../core/build.ts";
import type { SiteConfig } from "../../core/config.ts";
import { fileEtag } from "../file-bytes.ts";
import type { OutputFile, StateObject } from "../needs.ts";
import { type RenderOutcome, renderItems, type Sources } from "../render.ts";
import {
  type Catalog,
  comparePaths,
  type IndexEntry,
  publishable,
  publishedOf,
  type RenderedEntry,
} from "../state/entry.ts";
import { type FeedRef, type FeedState, feedRef, serializeFeedState } from "../state/feed-state.ts";
import type { FeedIndex } from "../state/head.ts";
import { type Family, type FamilyPlan, incomplete, type PlanContext } from "./family.ts";

/**
 * RFC 5005 archive pages, one per month that is over (see core/archive.ts). A page is made again
 * when its members change or when the page before it appears or goes (its prev-archive link
 * changes); the items of its members come from the page's state, so only new or edited articles
 * are read. When a month ends, its page is made from the whole catalog, once.
 */
export const archivePages: Family = {
  name: "archive",
  due(ctx) {
    const open = currentMonth(ctx.head.archive, ctx.now);
    const closing = !ctx.head.archive || ctx.head.archive.open < open;
    const pageDue = Object.values(ctx.head.archive?.pages ?? {}).some(
      (ref) => ref.nextChange !== undefined && ref.nextChange <= ctx.now.getTime(),
    );
    return closing || pageDue || [...ctx.dirty].some((file) => archiveMonthOfKey(file) !== undefined);
  },
  plan(ctx) {
    const { head, now } = ctx;
    const open = currentMonth(head.archive, now);
    const previous = head.archive?.pages ?? {};
    const members = new Map<string, Catalog>();
    const affected = new Set<string>();
    // Months whose files an attempt that lost its commit may have written: deleted if no page is left.
    const written = new Set<string>();
    for (const file of ctx.dirty) {
      const month = archiveMonthOfKey(file);
      if (month) written.add(month);
    }
    let readWhole = false;
    const closing = !head.archive || head.archive.open < open;
    if (ctx.full || closing) {
      // Every month from `from` on is planned from the catalog; a page it does not name has no members left.
      const whole = ctx.catalog.whole();
      if (!whole) return incomplete(true);
      readWhole = !ctx.full;
      const from = ctx.full ? "" : (head.archive?.open ?? "");
      for (const [month, catalog] of groupPages(whole, now, open, from)) members.set(month, catalog);
      for (const month of Object.keys(previous))
        if (month >= from && month < open && !members.has(month)) members.set(month, {});
    }
    if (!ctx.full) {
      for (const change of ctx.catalog.changed.values())
        for (const entry of [change.before, change.after]) {
          const month = pageMonthOf(entry, now);
          if (month !== undefined && month < open) affected.add(month);
        }
      for (const [month, ref] of Object.entries(previous))
        if (ref.nextChange !== undefined && ref.nextChange <= now.getTime()) affected.add(month);
      for (const month of written) affected.add(month);
    }
    const states = new Map<string, FeedState | null>();
    const stateOf = (month: string): FeedState | null | undefined => {
      const ref = previous[month];
      if (!ref) return null;
      if (!states.has(month)) {
        const found = ctx.state(ref.state);
        if (found === undefined) return undefined;
        states.set(month, found);
      }
      return states.get(month) ?? null;
    };
    let missing = false;
    for (const month of [...affected].filter((m) => m < open && !members.has(m))) {
      const state = stateOf(month);
      if (state === undefined) {
        missing = true;
        continue;
      }
      const own: Record<string, IndexEntry> = { ...state?.candidates };
      for (const [path, change] of ctx.catalog.changed) {
        delete own[path];
        if (change.after && pageMonthOf(change.after, now) === month) own[path] = change.after;
      }
      members.set(month, own);
    }
    if (missing) return incomplete(readWhole);
    const months = new Set(Object.keys(previous));
    for (const [month, catalog] of members)
      if (Object.keys(catalog).length) months.add(month);
      else months.delete(month);
    const before = previousPages(Object.keys(previous));
    const after = previousPages(months);
    // A page whose previous page appeared or went links elsewhere now: made again, as it was.
    for (const month of months) {
      if (members.has(month) || before.get(month) === after.get(month)) continue;
      const state = stateOf(month);
      if (state === undefined) missing = true;
      else members.set(month, state?.candidates ?? {});
    }
    // A rebuild reuses each page's rendered items, so it asks for every page's state.
    if (ctx.full) for (const month of members.keys()) if (stateOf(month) === undefined) missing = true;
    if (missing) return incomplete(readWhole);
    return renderPages(ctx, { open, previous, members, months, after, written, stateOf, readWhole });
  },
};

interface Pages {
  readonly open: string;
  readonly previous: Readonly<Record<string, FeedRef>>;
  /** The months made in this run, with their members. */
  readonly members: ReadonlyMap<string, Catalog>;
  /** Every month with a page after this run. */
  readonly months: ReadonlySet<string>;
  readonly after: ReadonlyMap<string, string | undefined>;
  readonly written: ReadonlySet<string>;
  readonly stateOf: (month: string) => FeedState | null | undefined;
  readonly readWhole: boolean;
}

function renderPages(ctx: PlanContext, pages: Pages): FamilyPlan {
  const { config, now } = ctx;
  const refs: Record<string, FeedRef> = {};
  const files: OutputFile[] = [];
  const known = new Map<string, string>();
  const states: StateObject[] = [];
  let nextChange = Number.POSITIVE_INFINITY;
  for (const month of [...pages.months].sort(comparePaths)) {
    const catalog = pages.members.get(month);
    if (!catalog) {
      refs[month] = pages.previous[month] as FeedRef;
      nextChange = Math.min(nextChange, refs[month].nextChange ?? nextChange);
      continue;
    }
    const state = pages.stateOf(month) ?? undefined;
    const page = renderArchivePage(
      {
        config,
        now,
        month,
        before: pages.after.get(month),
        members: catalog,
        rendered: state?.rendered ?? {},
      },
      ctx.sources,
      ctx.render,
    );
    if (!page) return incomplete(pages.readWhole);
    const { outcome, files: pageFiles, serialized } = page;
    for (const path in outcome.entries) {
      const entry = outcome.entries[path] as IndexEntry;
      if (entry !== catalog[path] && !ctx.catalog.refuse(path, entry)) return incomplete(pages.readWhole);
    }
    if (ctx.render) states.push(serialized);
    for (const file of pageFiles) {
      files.push(file);
      const md5 = state?.feeds[file.key];
      if (md5) known.set(file.key, md5);
    }
    const due = outcome.plan.nextChange?.getTime();
    refs[month] = feedRef(month, serialized.name, due);
    if (due !== undefined) nextChange = Math.min(nextChange, due);
  }
  const deletes: string[] = [];
  for (const month of new Set([...Object.keys(pages.previous), ...pages.written]))
    if (!pages.months.has(month)) deletes.push(...archiveFileKeys(month));
  const archive: FeedIndex["archive"] = { open: pages.open, pages: refs };
  return {
    complete: true,
    files,
    known,
    deletes,
    states,
    head: { archive },
    // The month's end: its page appears then.
    nextChange: Math.min(nextChange, monthEndOf(pages.open)),
    listed: [],
    readWhole: pages.readWhole,
  };
}

/** What one month's page is made from. */
export interface PageInput {
  readonly config: SiteConfig;
  readonly now: Date;
  readonly month: string;
  /** The month of the page before it, if any: its prev-archive link. */
  readonly before: string | undefined;
  readonly members: Catalog;
  /** Items already rendered as pages carry them (the page's state, or a whole-site run's groups). */
  readonly rendered: Readonly<Record<string, RenderedEntry>>;
}

/**
 * One month's archive page: its items (every member, without full text), its files and its state
 * object; undefined when a body or a media size is missing (noted in the sources' needs). Members
 * refused while rendering are in `outcome.entries` with their problem: the caller records them.
 */
export function renderArchivePage(
  input: PageInput,
  sources: Sources,
  render: boolean,
): { outcome: RenderOutcome; files: OutputFile[]; state: FeedState; serialized: StateObject } | undefined {
  const { config, now, month, members } = input;
  const outcome = renderItems(
    {
      // Every member is shown: a page has no item limit.
      config: { ...config, itemLimit: Math.max(1, Object.keys(members).length) },
      now,
      entries: members,
      rendered: input.rendered,
      // Pages carry each article without its full text, and keep it so in their state.
      archived: true,
    },
    sources,
  );
  if (!outcome.complete) return undefined;
  const scope = archiveScope(config, month, input.before);
  const files = render ? renderFeedFiles(assembleFeed(config, outcome.items, scope), scope) : [];
  const kept: Record<string, IndexEntry> = {};
  for (const path in outcome.entries) {
    const entry = outcome.entries[path] as IndexEntry;
    if (entry === members[path]) kept[path] = entry;
  }
  const state: FeedState = {
    key: `archive/${month}`,
    name: month,
    candidates: kept,
    rendered: outcome.rendered,
    feeds: Object.fromEntries(files.map((file) => [file.key, fileEtag(file)])),
  };
  // A dry pass (see PlanContext.render) makes no state objects.
  const serialized = render ? serializeFeedState(state) : { name: "", body: "" };
  return { outcome, files, state, serialized };
}

export function monthEndOf(month: string): number {
  const [year, index] = month.split("-").map(Number) as [number, number];
  return Date.UTC(year, index, 1);
}

/** The newest page's month: the main feed links to it. */
export function newestPage(archive: FeedIndex["archive"]): string | undefined {
  return Object.keys(archive?.pages ?? {})
    .sort(comparePaths)
    .pop();
}

/** The month whose page does not exist yet: now's, or a later one an invocation with a later clock saw. */
export function currentMonth(archive: FeedIndex["archive"], now: Date): string {
  const month = monthOf(now.getTime());
  return archive && archive.open > month ? archive.open : month;
}

/** The month of the page an entry belongs to (published or scheduled articles only). */
export function pageMonthOf(entry: IndexEntry | undefined, now: Date): string | undefined {
  if (!publishable(entry)) return undefined;
  return monthOf(publishedOf(entry, now.getTime()));
}

/** The members of each page of a catalog, for the months before `open` (and from `from` on). */
function groupPages(catalog: Catalog, now: Date, open: string, from: string): Map<string, Catalog> {
  const pages = new Map<string, Record<string, IndexEntry>>();
  for (const path of Object.keys(catalog).sort(comparePaths)) {
    const entry = catalog[path] as IndexEntry;
    const month = pageMonthOf(entry, now);
    if (month === undefined || month >= open || month < from) continue;
    let members = pages.get(month);
    if (!members) {
      members = {};
      pages.set(month, members);
    }
    members[path] = entry;
  }
  return pages;
}
