import { mainScope, monthOf } from "../../core/archive.ts";
import { assembleFeed, type Chosen, renderBrowserFiles, renderFeedFiles } from "../../core/build.ts";
import type { ListedFeed } from "../../core/render/browser.ts";
import { fileEtag } from "../file-bytes.ts";
import { renderItems } from "../render.ts";
import { candidatesFor, selectCandidates } from "../state/candidates.ts";
import type { Catalog, IndexEntry, Rank } from "../state/entry.ts";
import type { FeedIndex } from "../state/head.ts";
import { newestPage } from "./archive.ts";
import { type Family, incomplete } from "./family.ts";

/**
 * The subscription feed (feeds/rss.xml, atom.xml, feed.json) and the landing page that lists
 * every feed. Its state lives in the head: the candidates (every article that is or could next
 * be in the feed), the floor below them and the rendered items. It runs last: it links to the
 * newest archive page, and the landing page lists the other families' feeds.
 */
export const mainFeed: Family = {
  name: "main",
  due: (ctx) => ctx.head.nextChange !== undefined && ctx.head.nextChange <= ctx.now.getTime(),
  plan(ctx, earlier) {
    const { config, now, head } = ctx;
    const keep = candidatesFor(config);
    let planned: Catalog;
    let floor: Rank | undefined;
    if (ctx.full) planned = ctx.catalog.whole() ?? {};
    else {
      const candidates: Record<string, IndexEntry> = { ...head.candidates };
      for (const [path, change] of ctx.catalog.changed)
        if (change.after) candidates[path] = change.after;
        else delete candidates[path];
      const selected = selectCandidates(candidates, now, keep, head.floor);
      planned = selected.candidates;
      floor = selected.floor;
    }
    let outcome = renderItems(
      { config, now, entries: planned, rendered: head.rendered, ...(floor ? { floor } : {}) },
      ctx.sources,
    );
    let readWhole = false;
    if (!outcome.exact) {
      // Fewer candidates than feed items rank above the floor (deletions, expiries): plan over
      // the whole catalog, which also refills the candidates.
      const whole = ctx.catalog.whole();
      if (!whole) return incomplete(true);
      readWhole = true;
      planned = whole;
      floor = undefined;
      outcome = renderItems({ config, now, entries: planned, rendered: head.rendered }, ctx.sources);
    }
    if (!outcome.complete) return incomplete(readWhole);
    for (const path in outcome.entries)
      if (
        outcome.entries[path] !== planned[path] &&
        !ctx.catalog.refuse(path, outcome.entries[path] as IndexEntry)
      )
        return incomplete(readWhole);
    const next = selectCandidates(outcome.entries, now, keep, floor);
    const archive = earlier.get("archive")?.head.archive ?? head.archive;
    const scope = mainScope(config, newestPage(archive));
    const listed: ListedFeed[] = [...earlier.values()]
      .flatMap((plan) => plan.listed)
      .sort((a, b) => (a.paths.rss < b.paths.rss ? -1 : a.paths.rss > b.paths.rss ? 1 : 0));
    const files = ctx.render
      ? [
          ...renderFeedFiles(assembleFeed(config, outcome.items, scope), scope),
          ...renderBrowserFiles(assembleFeed(config, outcome.items), listed),
        ]
      : [];
    const nextChange = outcome.plan.nextChange?.getTime();
    const part: Partial<{ -readonly [K in keyof FeedIndex]: FeedIndex[K] }> = {
      candidates: next.candidates,
      rendered: outcome.rendered,
      feeds: Object.fromEntries(files.map((file) => [file.key, fileEtag(file)])),
      floor: next.floor,
      nextChange,
    };
    return {
      complete: true,
      files,
      known: new Map(Object.entries(head.feeds)),
      deletes: [],
      states: [],
      head: part,
      ...(nextChange !== undefined ? { nextChange } : {}),
      listed: [],
      readWhole: readWhole && !ctx.full,
      summary: {
        published: outcome.items.length,
        held: outcome.plan.held,
        problems: outcome.plan.problems,
        // Planned over the whole catalog, the plan names every article that is public now.
        ...(ctx.full
          ? { whole: publicCounts(outcome.plan.chosen, outcome.items.length, archive?.open) }
          : {}),
      },
    };
  },
};

/**
 * How many articles are public; how many of them are on archive pages (months before `open`);
 * and how many are in neither yet: beyond the feed's first `inFeed` in a month not over.
 */
function publicCounts(
  chosen: readonly Chosen[],
  inFeed: number,
  open: string | undefined,
): { public: number; archived: number; waiting: number } {
  let archived = 0;
  let waiting = 0;
  for (const [i, article] of chosen.entries()) {
    const onPage = open !== undefined && monthOf(article.published.getTime()) < open;
    if (onPage) archived++;
    else if (i >= inFeed) waiting++;
  }
  return { public: chosen.length, archived, waiting };
}
