import { type Catalog, type Rank, type RenderedEntry, sortedRecord } from "./entry.ts";
import { decodeRows, encodeRow } from "./rows.ts";
import { contentName, STATE_VERSION } from "./shards.ts";

/**
 * What one feed of a family (a tag's, an author's, a month's archive page) keeps between
 * regenerations, in its own content-addressed object: its candidates and rendered items, and the
 * MD5 of each of its files as last written.
 */
export interface FeedState {
  readonly key: string;
  readonly name: string;
  readonly candidates: Catalog;
  readonly floor?: Rank;
  readonly rendered: Readonly<Record<string, RenderedEntry>>;
  readonly feeds: Readonly<Record<string, string>>;
}

/** A feed of a family as the head knows it. */
export interface FeedRef {
  readonly name: string;
  /** Name of its state object under CATALOG_PREFIX (content-addressed, like the shards). */
  readonly state: string;
  /** When one of its scheduled articles is due, or one of its items expires (epoch ms). */
  readonly nextChange?: number;
}

export function serializeFeedState(state: FeedState): { name: string; body: string } {
  const { floor, candidates, ...rest } = state;
  const body = `${JSON.stringify({
    version: STATE_VERSION,
    ...rest,
    candidates: Object.entries(sortedRecord(candidates)).map(([path, entry]) => encodeRow(path, entry)),
    ...(floor ? { floor: [floor.published, floor.path] } : {}),
    rendered: sortedRecord(state.rendered),
  })}\n`;
  return { name: contentName(body, "f-"), body };
}

export function parseFeedState(bytes: Uint8Array): FeedState {
  const value = JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
  if (value.version !== STATE_VERSION || !Array.isArray(value.candidates))
    throw new Error("malformed feed state");
  const floor = value.floor as [number, string] | undefined;
  return {
    key: String(value.key),
    name: String(value.name),
    candidates: decodeRows(value.candidates),
    ...(floor ? { floor: { published: floor[0], path: floor[1] } } : {}),
    rendered: (value.rendered ?? {}) as FeedState["rendered"],
    feeds: (value.feeds ?? {}) as FeedState["feeds"],
  };
}

export function feedRef(name: string, state: string, nextChange: number | undefined): FeedRef {
  return { name, state, ...(nextChange !== undefined ? { nextChange } : {}) };
}
