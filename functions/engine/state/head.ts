import { createHash } from "node:crypto";
import type { SiteConfig } from "../../core/config.ts";
import type { ArticleProblem } from "../../core/errors.ts";
import {
  type Catalog,
  countsOf,
  type IndexEntry,
  type Rank,
  type RenderedEntry,
  sortedRecord,
} from "./entry.ts";
import type { FeedRef } from "./feed-state.ts";
import { decodeRows, decodeV1, encodeRow, type Row } from "./rows.ts";
import { STATE_VERSION } from "./shards.ts";

/**
 * The publisher's private state (never served) is a small head plus a catalog split into shards
 * (see shards.ts) and one state object per family feed (see feed-state.ts).
 *
 * The head (`_state/index.json`) is the single commit point, written with If-Match. It holds the
 * main feed's planning candidates (every article that is or could next be in the feed, see
 * selectCandidates), its rendered items, the feeds' MD5s, the names of the catalog shards and of
 * the family feeds' states it was committed with.
 */
export const INDEX_KEY = "_state/index.json";
export interface FeedIndex {
  readonly version: number;
  /** Fingerprint of the site settings the rendered items were made with. */
  readonly config: string;
  /** Catalog object name of each shard ("" for an empty shard); the length is the shard count. */
  readonly shards: readonly string[];
  /** The main feed's planning candidates, a subset of the catalog (see selectCandidates). */
  readonly candidates: Catalog;
  /**
   * The best-ranked publishable article left out of the candidates, if any: every publishable
   * article ranked above it is a candidate, so a feed made only of items above it is exact.
   */
  readonly floor?: Rank;
  readonly rendered: Readonly<Record<string, RenderedEntry>>;
  /** MD5 (quoted, as S3 ETags) of the main feed's and the landing page's files as last written. */
  readonly feeds: Readonly<Record<string, string>>;
  readonly counts: { readonly articles: number; readonly problems: number };
  /**
   * The monthly archive pages (RFC 5005): the month the last regeneration saw as current (pages
   * exist for the months before it) and each page's month, state object and next change.
   */
  readonly archive?: ArchiveRefs;
  /** The feeds of the keyed families (tags, authors), by key ("tags/<slug>"). */
  readonly facets: Readonly<Record<string, FeedRef>>;
  /** When a scheduled article is due or one in the feed expires (epoch ms): the feeds change then. */
  readonly nextChange?: number;
  /** When the last regeneration that changed anything finished. */
  readonly generatedAt?: string;
  /** Media files beside the articles that could not be published, by content key: the reason. */
  readonly mediaProblems?: Readonly<Record<string, string>>;
  /** Set while a whole-site run is under way (see engine/whole/start.ts); its reduce clears it. */
  readonly wholeSite?: WholeSiteClaim;
}

/** A whole-site run that owns the next head: uploads meanwhile leave a note for it to apply again. */
export interface WholeSiteClaim {
  /** The run (and the state machine's execution name). */
  readonly run: string;
  /** Why it runs: "settings-changed", "missing", "unreadable", "force". */
  readonly reason: string;
  /** Epoch ms after which the run is taken to have failed and another may start. */
  readonly until: number;
  /** No usable state: uploads are only noted, not applied, until the run commits. */
  readonly blind?: true;
}

export interface ArchiveRefs {
  readonly open: string;
  readonly pages: Readonly<Record<string, FeedRef>>;
}

/**
 * What the feeds are made of besides the settings: raised when a release changes what an article
 * renders to or which feeds there are (2: section and language feeds, per-feed Atom ids, archive
 * items as summaries, podcast fields), so that every site is rebuilt once with it.
 */
export const RENDER_VERSION = 2;

/**
 * The settings' fingerprint. A head with another one is read as "settings changed": every item
 * is rendered again and every article read again, and every family's feeds are made from the
 * whole catalog. A new RENDER_VERSION pays for that rebuild on every site at its first upload.
 */
export function configFingerprint(config: SiteConfig): string {
  return createHash("sha1")
    .update(JSON.stringify({ render: RENDER_VERSION, ...config }))
    .digest("hex");
}

export function emptyIndex(config: SiteConfig): FeedIndex {
  return {
    version: STATE_VERSION,
    config: configFingerprint(config),
    shards: [],
    candidates: {},
    rendered: {},
    feeds: {},
    counts: { articles: 0, problems: 0 },
    facets: {},
  };
}

/** How the stored index was found. */
export type IndexState = "ok" | "settings-changed" | "missing" | "unreadable";

export interface ParsedIndex {
  readonly index: FeedIndex;
  readonly state: IndexState;
  /** Set for an index of an earlier layout, which kept every entry inline. */
  readonly legacy?: Catalog;
}

/**
 * Reads the stored head; anything unreadable starts afresh. Rendered items depend on the
 * settings (links, authors), so they are dropped when those changed. Earlier layouts kept every
 * entry in this one object: they come back as `legacy`, so that no first-seen date is lost.
 */
export function parseIndex(bytes: Uint8Array | undefined, config: SiteConfig): ParsedIndex {
  const fingerprint = configFingerprint(config);
  if (!bytes) return { index: emptyIndex(config), state: "missing" };
  let parsed: { index: FeedIndex; legacy?: Catalog };
  try {
    const value = JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
    parsed = decodeHead(value, config);
  } catch {
    return { index: emptyIndex(config), state: "unreadable" };
  }
  const { index, legacy } = parsed;
  const extra = legacy ? { legacy } : {};
  if (index.config === fingerprint) return { index, state: "ok", ...extra };
  return { index: { ...index, config: fingerprint, rendered: {} }, state: "settings-changed", ...extra };
}

function decodeClaim(value: unknown): { wholeSite?: WholeSiteClaim } {
  const claim = value as Partial<WholeSiteClaim> | undefined;
  if (typeof claim?.run !== "string" || typeof claim.until !== "number") return {};
  const reason = typeof claim.reason === "string" ? claim.reason : "unknown";
  return {
    wholeSite: { run: claim.run, reason, until: claim.until, ...(claim.blind ? { blind: true } : {}) },
  };
}

function decodeArchive(value: unknown): ArchiveRefs | undefined {
  const stored = value as { open?: unknown; pages?: unknown };
  if (typeof stored?.open !== "string" || typeof stored.pages !== "object" || !stored.pages) return undefined;
  return { open: stored.open, pages: stored.pages as ArchiveRefs["pages"] };
}

function decodeHead(
  value: Record<string, unknown>,
  config: SiteConfig,
): { index: FeedIndex; legacy?: Catalog } {
  const common = {
    ...emptyIndex(config),
    config: typeof value.config === "string" ? value.config : "",
    rendered: (value.rendered ?? {}) as FeedIndex["rendered"],
    feeds: (value.feeds ?? {}) as FeedIndex["feeds"],
    ...(typeof value.generatedAt === "string" ? { generatedAt: value.generatedAt } : {}),
    ...(typeof value.nextChange === "number" ? { nextChange: value.nextChange } : {}),
    ...decodeClaim(value.wholeSite),
  };
  if (value.version === STATE_VERSION) {
    if (!Array.isArray(value.shards) || !Array.isArray(value.candidates)) throw new Error("malformed head");
    const floor = value.floor as [number, string] | undefined;
    const counts = value.counts as FeedIndex["counts"];
    const archive = decodeArchive(value.archive);
    return {
      index: {
        ...common,
        shards: value.shards.map(String),
        candidates: decodeRows(value.candidates),
        ...(floor ? { floor: { published: floor[0], path: floor[1] } } : {}),
        counts: { articles: Number(counts?.articles) || 0, problems: Number(counts?.problems) || 0 },
        facets: (value.facets ?? {}) as FeedIndex["facets"],
        ...(archive ? { archive } : {}),
        ...(value.mediaProblems && typeof value.mediaProblems === "object"
          ? { mediaProblems: value.mediaProblems as FeedIndex["mediaProblems"] }
          : {}),
      },
    };
  }
  let legacy: Record<string, IndexEntry>;
  if (value.version === 2 && Array.isArray(value.articles)) legacy = decodeRows(value.articles);
  else if (value.version === 1 && value.articles && typeof value.articles === "object")
    legacy = decodeV1(value.articles as Record<string, Record<string, unknown>>);
  else throw new Error("unknown index layout");
  return { index: { ...common, counts: countsOf(legacy) }, legacy };
}

export function serializeIndex(index: FeedIndex): string {
  const candidates: Row[] = [];
  for (const [path, entry] of Object.entries(sortedRecord(index.candidates)))
    candidates.push(encodeRow(path, entry));
  const { floor, ...rest } = index;
  return `${JSON.stringify({
    ...rest,
    version: STATE_VERSION,
    candidates,
    ...(floor ? { floor: [floor.published, floor.path] } : {}),
    rendered: sortedRecord(index.rendered),
  })}\n`;
}

/**
 * The head's media problems after a run that looked at `looked` (every media key in a full
 * rebuild, the batch's in an incremental one) and found `found`.
 */
export function withMediaProblems(
  index: FeedIndex,
  looked: Iterable<string> | "all",
  found: readonly ArticleProblem[],
): FeedIndex {
  const next: Record<string, string> = looked === "all" ? {} : { ...index.mediaProblems };
  if (looked !== "all") for (const key of looked) delete next[key];
  for (const problem of found) next[problem.file] = problem.reason;
  const { mediaProblems: _old, ...rest } = index;
  return Object.keys(next).length ? { ...rest, mediaProblems: sortedRecord(next) } : rest;
}

/** The media problems a head records, as problems. */
export function mediaProblemsOf(index: FeedIndex): ArticleProblem[] {
  return Object.entries(index.mediaProblems ?? {}).map(([file, reason]) => ({ file, reason }));
}
