/**
 * What the planner asked for and was not given. The planner never reads: when it finds that a
 * decision needs a catalog shard, a feed's state, an article's body or a media file's size it
 * does not hold, it notes it here and the runner loads all of it at once and plans again.
 */
export class Needs {
  readonly shards = new Set<number>();
  /** Every shard: the whole catalog (a feed's candidates ran out, or a month ended). */
  allShards = false;
  /** Feed state objects, by name. */
  readonly states = new Set<string>();
  /** Article bodies, by content key. */
  readonly articles = new Set<string>();
  /** Media file sizes, by content key. */
  readonly media = new Set<string>();

  get empty(): boolean {
    return (
      !this.allShards &&
      this.shards.size === 0 &&
      this.states.size === 0 &&
      this.articles.size === 0 &&
      this.media.size === 0
    );
  }
}

/** A file the plan writes under feeds/. */
export interface OutputFile {
  readonly key: string;
  readonly contentType: string;
  readonly body: string;
}

/** A content-addressed state object the plan writes under _state/catalog/. */
export interface StateObject {
  readonly name: string;
  readonly body: string;
}
