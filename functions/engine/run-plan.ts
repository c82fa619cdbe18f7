import type { Article } from "../core/article.ts";
import type { ArticleProblem } from "../core/errors.ts";
import type { Storage } from "../storage/port.ts";
import { forEachLimited, READ_CONCURRENCY } from "./concurrency.ts";
import { mediaSizesOf } from "./media-sync.ts";
import type { Needs } from "./needs.ts";
import { fetchArticle } from "./observe.ts";
import { type EnginePlan, type PlanInput, plan } from "./planner.ts";
import type { Catalog } from "./state/entry.ts";
import type { FeedState } from "./state/feed-state.ts";
import type { FeedIndex } from "./state/head.ts";
import { CorruptStateError, loadShards, readFeedState, StaleIndexError } from "./store.ts";

/** What the runner has loaded for the planner; grows round by round. */
export interface Loaded {
  readonly shards: Map<number, Catalog>;
  readonly states: Map<string, FeedState | null>;
  readonly articles: Map<string, Article | ArticleProblem>;
  readonly media: Map<string, number>;
}

export function emptyLoaded(): Loaded {
  return { shards: new Map(), states: new Map(), articles: new Map(), media: new Map() };
}

/** Rounds are few: the keys' shards, then feed states and bodies, then (rarely) the whole catalog. */
const MAX_ROUNDS = 16;

/**
 * Plans, loads what the planner asked for, and plans again until the plan is complete. An upload
 * asks for the state objects strictly (one that is gone means the head moved on: start again); a
 * rebuild takes a missing or unreadable feed state as none and makes that feed from its articles.
 */
export async function planToCompletion(
  input: Omit<PlanInput, keyof Loaded>,
  loaded: Loaded,
  stores: { content: Storage; output: Storage; head: FeedIndex; tolerant: boolean },
): Promise<EnginePlan> {
  for (let round = 1; ; round++) {
    const result = plan({ ...input, ...loaded });
    if ("plan" in result) return result.plan;
    if (round >= MAX_ROUNDS) throw new Error("the planner kept asking for more state");
    await load(result.needs, loaded, stores);
  }
}

async function load(
  needs: Needs,
  loaded: Loaded,
  stores: { content: Storage; output: Storage; head: FeedIndex; tolerant: boolean },
): Promise<void> {
  const { content, output, head, tolerant } = stores;
  await Promise.all([
    loadShards(output, head, needs.allShards ? head.shards.keys() : needs.shards, loaded.shards),
    forEachLimited([...needs.states], READ_CONCURRENCY, async (name) => {
      try {
        loaded.states.set(name, await readFeedState(output, name));
      } catch (error) {
        const damaged = error instanceof StaleIndexError || error instanceof CorruptStateError;
        if (!tolerant || !damaged) throw error;
        loaded.states.set(name, null);
      }
    }),
    forEachLimited([...needs.articles], READ_CONCURRENCY, async (path) => {
      loaded.articles.set(path, await fetchArticle(content, path));
    }),
    mediaSizesOf(content, needs.media, loaded.media),
  ]);
}
