import type { CatalogView, Change } from "./families/family.ts";
import type { Needs } from "./needs.ts";
import { type Catalog, countsOf, type IndexEntry } from "./state/entry.ts";
import { shardOf } from "./state/shards.ts";

/**
 * The catalog as one plan sees and changes it: the shards it was given (an upload loads only
 * those of its keys) or the whole catalog (a rebuild). Changes are recorded with the entry before
 * them, so that each family can tell which of its feeds they touch.
 */
export class PlannedCatalog implements CatalogView {
  readonly changed = new Map<string, Change>();
  /** Shards (by slot) this plan changed. */
  readonly touched = new Set<number>();
  private readonly shards: Map<number, Record<string, IndexEntry>>;
  private merged: Catalog | undefined;

  /**
   * @param count the shard count (1 for a rebuild, which keeps the whole catalog in one)
   * @param loaded the shards at hand, by slot; copied, never changed
   */
  constructor(
    readonly count: number,
    loaded: ReadonlyMap<number, Catalog>,
    private readonly needs: Needs,
  ) {
    this.shards = new Map([...loaded].map(([slot, shard]) => [slot, { ...shard }]));
  }

  /** Whether the shard of `path` is at hand (its need is noted if not). */
  has(path: string): boolean {
    const slot = shardOf(path, this.count);
    if (this.shards.has(slot)) return true;
    this.needs.shards.add(slot);
    return false;
  }

  get(path: string): IndexEntry | undefined {
    return this.shards.get(shardOf(path, this.count))?.[path];
  }

  /** Sets (or, with undefined, removes) an entry whose shard is at hand. */
  set(path: string, entry: IndexEntry | undefined): void {
    const slot = shardOf(path, this.count);
    const shard = this.shards.get(slot) as Record<string, IndexEntry>;
    const before = shard[path];
    if (before === entry) return;
    const origin = this.changed.has(path) ? this.changed.get(path)?.before : before;
    this.changed.set(path, { ...(origin ? { before: origin } : {}), ...(entry ? { after: entry } : {}) });
    if (entry) shard[path] = entry;
    else delete shard[path];
    this.touched.add(slot);
    this.merged = undefined;
  }

  /** Paths refused while rendering, so far. */
  private readonly refused = new Set<string>();

  /** How many entries were refused while rendering, so far. */
  get refusals(): number {
    return this.refused.size;
  }

  refuse(path: string, entry: IndexEntry): boolean {
    if (!this.has(path)) return false;
    // Once per path, and never for an entry this run removed: a feed's stale member is not revived.
    if (this.refused.has(path) || this.get(path) === undefined) return true;
    this.refused.add(path);
    this.set(path, entry);
    return true;
  }

  whole(): Catalog | undefined {
    if (this.merged) return this.merged;
    for (let slot = 0; slot < this.count; slot++)
      if (!this.shards.has(slot)) {
        this.needs.allShards = true;
        return undefined;
      }
    // A copy: families may keep it (and what they derived from it) while later changes go on.
    this.merged = Object.assign({}, ...this.shards.values()) as Catalog;
    return this.merged;
  }

  /** A shard as it stands now. */
  shard(slot: number): Catalog {
    return this.shards.get(slot) ?? {};
  }

  /** The article and problem counts after the changes, from the counts before them. */
  countsAfter(before: { articles: number; problems: number }): { articles: number; problems: number } {
    let { articles, problems } = before;
    for (const change of this.changed.values()) {
      const was = countsOf(change.before ? { x: change.before } : {});
      const now = countsOf(change.after ? { x: change.after } : {});
      articles += now.articles - was.articles;
      problems += now.problems - was.problems;
    }
    return { articles, problems };
  }
}
