import { createHash } from "node:crypto";
import type { SiteConfig } from "../../functions/core/config.ts";
import { mediaType } from "../../functions/core/media.ts";
import { parseOrProblem } from "../../functions/engine/observe.ts";
import { type EnginePlan, type Observation, type PlanInput, plan } from "../../functions/engine/planner.ts";
import type { Catalog, RenderedEntry } from "../../functions/engine/state/entry.ts";
import { type FeedState, parseFeedState } from "../../functions/engine/state/feed-state.ts";
import { emptyIndex, type FeedIndex } from "../../functions/engine/state/head.ts";
import { parseShard, shardOf } from "../../functions/engine/state/shards.ts";

/**
 * A site held in plain maps, driven by the pure planner alone: no storage port, no runner. It
 * answers the planner's needs from the maps and applies each plan (writes, deletes, the new
 * head) as the runner would after a successful commit. For property tests of "what the feeds
 * should be".
 */
export class PlannedSite {
  /** Articles and media by content key. */
  readonly content = new Map<string, string>();
  /** Files under feeds/ by key. */
  readonly feeds = new Map<string, string>();
  /** State objects by name. */
  readonly objects = new Map<string, string>();
  head: FeedIndex;
  /** How many rounds the last plan took, and whether it read the whole catalog. */
  rounds = 0;
  readWhole = false;

  constructor(readonly config: SiteConfig) {
    this.head = emptyIndex(config);
  }

  /** An upload's regeneration for the keys (each as the content now holds it). */
  apply(keys: readonly string[], now: Date): EnginePlan {
    const observed: Observation[] = keys.filter((key) => !mediaType(key)).map((key) => this.observe(key));
    return this.run({ full: false, observed, now, head: this.head });
  }

  /** The planner from scratch: an empty state, every article observed. */
  rebuildFromScratch(now: Date): EnginePlan {
    const observed = [...this.content.keys()]
      .filter((key) => !mediaType(key))
      .sort()
      .map((key) => this.observe(key));
    this.feeds.clear();
    this.objects.clear();
    return this.run({ full: true, observed, now, head: emptyIndex(this.config), previous: {} });
  }

  /** Every catalog entry the head names. */
  catalog(): Catalog {
    return Object.assign({}, ...this.head.shards.map((name) => (name ? this.shard(name) : {})));
  }

  private observe(key: string): Observation {
    const body = this.content.get(key);
    if (body === undefined) return { key, kind: "gone" };
    const bytes = Buffer.from(body, "utf8");
    const hash = createHash("sha1").update(bytes).digest("hex").slice(0, 16);
    const etag = `"${createHash("md5").update(bytes).digest("hex")}"`;
    return { key, kind: "read", hash, etag, result: () => parseOrProblem(key, bytes) };
  }

  private shard(name: string): Catalog {
    return parseShard(Buffer.from(this.objects.get(name) ?? "", "utf8"));
  }

  private run(input: Pick<PlanInput, "full" | "observed" | "now" | "head" | "previous">): EnginePlan {
    const shards = new Map<number, Catalog>();
    const states = new Map<string, FeedState | null>();
    const articles = new Map<string, ReturnType<typeof parseOrProblem>>();
    const media = new Map<string, number>();
    const memo = new Map<string, RenderedEntry>();
    const count = Math.max(1, input.head.shards.length);
    for (const seen of input.observed) {
      const slot = shardOf(seen.key, count);
      shards.set(slot, input.head.shards[slot] ? this.shard(input.head.shards[slot]) : {});
    }
    for (this.rounds = 1; ; this.rounds++) {
      const result = plan({
        config: this.config,
        ...input,
        shards,
        states,
        articles,
        media,
        mediaListed: input.full,
        dirty: new Set(),
        memo,
      });
      if ("plan" in result) {
        this.commit(result.plan);
        return result.plan;
      }
      if (this.rounds > 16) throw new Error("the planner kept asking");
      const { needs } = result;
      const slots = needs.allShards ? [...Array(count).keys()] : [...needs.shards];
      for (const slot of slots)
        shards.set(slot, input.head.shards[slot] ? this.shard(input.head.shards[slot]) : {});
      for (const name of needs.states)
        states.set(name, parseFeedState(Buffer.from(this.objects.get(name) ?? "", "utf8")));
      for (const path of needs.articles) {
        const body = this.content.get(path);
        articles.set(
          path,
          body === undefined
            ? { file: path, reason: "the file vanished while publishing" }
            : parseOrProblem(path, Buffer.from(body)),
        );
      }
      for (const key of needs.media)
        media.set(key, this.content.has(key) ? Buffer.byteLength(this.content.get(key) as string) : -1);
    }
  }

  private commit(made: EnginePlan): void {
    this.readWhole = made.readWholeCatalog;
    if (!made.changed) return;
    for (const object of made.objects) this.objects.set(object.name, object.body);
    for (const file of made.writes) this.feeds.set(file.key, file.body);
    for (const key of made.deletes) this.feeds.delete(key);
    this.head = made.head;
  }
}
