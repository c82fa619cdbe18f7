import { archivedItem } from "../core/archive.ts";
import type { Article } from "../core/article.ts";
import { type Chosen, type Plan, planFeed, renderProblem, toFeedItem } from "../core/build.ts";
import type { SiteConfig } from "../core/config.ts";
import type { ArticleProblem } from "../core/errors.ts";
import { MAX_MEDIA_BYTES, mediaKeyOf, mediaType } from "../core/media.ts";
import type { FeedItem } from "../core/model.ts";
import type { Needs } from "./needs.ts";
import {
  type Catalog,
  fromRendered,
  type IndexEntry,
  planInputs,
  type Rank,
  type RenderedEntry,
  ranksAbove,
  refusedEntry,
  toRendered,
} from "./state/entry.ts";

/** What rendering may use besides a feed's own cached items; shared by every feed of one plan. */
export interface Sources {
  /** Articles read in this run, by path: the changed ones, and the bodies the planner asked for. */
  readonly articles: ReadonlyMap<string, Article | ArticleProblem>;
  /** A media file's size by content key: -1 when there is no such file, undefined when not known. */
  readonly mediaSize: (key: string) => number | undefined;
  /** Whether every media size is known (a listing was made): cached items are checked against them. */
  readonly mediaListed: boolean;
  /** Items rendered earlier (by another feed, or an earlier round): an article is rendered once. */
  readonly memo: Map<string, RenderedEntry>;
  readonly needs: Needs;
}

export interface RenderInput {
  readonly config: SiteConfig;
  readonly now: Date;
  /** The entries to plan over: a feed's members, or its candidates. */
  readonly entries: Catalog;
  /** The feed's items as last rendered. */
  readonly rendered: Readonly<Record<string, RenderedEntry>>;
  /** Set when `entries` are candidates: items must rank above it for the feed to be exact. */
  readonly floor?: Rank;
  /** Items as archive pages carry them: the summary instead of the full text. */
  readonly archived?: boolean;
}

export interface RenderOutcome {
  /** The entries, with articles refused while rendering marked as problems. */
  readonly entries: Catalog;
  readonly rendered: Record<string, RenderedEntry>;
  readonly plan: Plan;
  readonly items: readonly FeedItem[];
  /** False when the candidates did not hold enough items above the floor. */
  readonly exact: boolean;
  /** False when a body or a media size is missing (noted in the sources' needs). */
  readonly complete: boolean;
}

const MISSING = Symbol("missing");

/** Plans one feed and renders its items, from cached items where they still hold. Pure. */
export function renderItems(input: RenderInput, sources: Sources): RenderOutcome {
  const { config, now, floor } = input;
  const entries: Record<string, IndexEntry> = { ...input.entries };
  for (;;) {
    const plan = planFeed({ config, now, ...planInputs(entries) });
    const items: FeedItem[] = [];
    const rendered: Record<string, RenderedEntry> = {};
    let refused = false;
    let complete = true;
    let slots = 0;
    for (const chosen of plan.chosen) {
      if (slots >= config.itemLimit) break;
      if (floor && !ranksAbove({ published: chosen.published.getTime(), path: chosen.path }, floor)) break;
      slots++;
      const entry = entries[chosen.path] as IndexEntry;
      const made = itemFor(chosen, entry, input, sources);
      if (made === MISSING) {
        complete = false;
        continue;
      }
      if ("reason" in made) {
        // Recorded in the catalog, so it is not tried (and read) again until the file changes.
        entries[chosen.path] = refusedEntry(entry, made);
        refused = true;
        break;
      }
      items.push(fromRendered(made));
      rendered[chosen.path] = made;
    }
    // A refused article changes the plan (its place goes to the next one): plan again.
    if (refused) continue;
    // Candidates hold every publishable article above the floor; below it others may rank higher.
    const exact = !(floor && slots < config.itemLimit);
    return { entries, rendered, plan, items, exact, complete };
  }
}

function itemFor(
  chosen: Chosen,
  entry: IndexEntry,
  input: RenderInput,
  sources: Sources,
): RenderedEntry | ArticleProblem | typeof MISSING {
  const article = sources.articles.get(chosen.path);
  const cached = input.rendered[chosen.path];
  if (!article && cached && reusable(cached, entry, chosen, sources)) return cached;
  // The memo holds full items; an archive page takes them without their text.
  const memo = sources.memo.get(chosen.path);
  if (memo && reusable(memo, entry, chosen, sources)) {
    if (!input.archived) return memo;
    return toRendered(
      archivedItem(fromRendered(memo)),
      entry.hash,
      new Map(Object.entries(memo.media ?? {})),
    );
  }
  if (!article) {
    sources.needs.articles.add(chosen.path);
    return MISSING;
  }
  if ("reason" in article) return article;
  const sizes = mediaSizes(article, sources);
  if (!sizes) return MISSING;
  let item: FeedItem;
  try {
    const size = (key: string) => {
      const found = sizes.get(key);
      return found !== undefined && found >= 0 && found <= MAX_MEDIA_BYTES ? found : undefined;
    };
    item = toFeedItem(article, chosen, input.config, size, { fullText: !input.archived });
  } catch (error) {
    return renderProblem(chosen.path, error);
  }
  const made = toRendered(item, entry.hash, sizes);
  if (!input.archived) sources.memo.set(chosen.path, made);
  return made;
}

function reusable(cached: RenderedEntry, entry: IndexEntry, chosen: Chosen, sources: Sources): boolean {
  if (
    cached.hash !== entry.hash ||
    cached.item.id !== chosen.id ||
    cached.item.published !== chosen.published.toISOString() ||
    cached.item.updated !== chosen.updated.toISOString()
  )
    return false;
  // With a listing at hand, an attached file that changed size makes the item stale.
  if (sources.mediaListed && cached.media)
    for (const key in cached.media) if ((sources.mediaSize(key) ?? -1) !== cached.media[key]) return false;
  return true;
}

/** The sizes of the media files an article names (-1: none), or undefined when some are not known yet. */
function mediaSizes(article: Article, sources: Sources): Map<string, number> | undefined {
  const refs = [...(article.image ? [article.image] : []), ...(article.enclosures ?? []).map((e) => e.ref)];
  const sizes = new Map<string, number>();
  let known = true;
  for (const ref of refs) {
    const key = mediaKeyOf(article.path, ref);
    if (!key || !mediaType(key) || sizes.has(key)) continue;
    const size = sources.mediaSize(key);
    if (size === undefined) {
      sources.needs.media.add(key);
      known = false;
    } else sizes.set(key, size);
  }
  return known ? sizes : undefined;
}
