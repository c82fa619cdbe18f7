import type { HeldBack } from "../core/build.ts";
import type { SiteConfig } from "../core/config.ts";
import type { ArticleProblem } from "../core/errors.ts";
import { MEDIA_PREFIX, mediaType } from "../core/media.ts";
import { sourceKind } from "../core/parse.ts";
import { PreconditionFailedError } from "../storage/errors.ts";
import type { ObjectInfo, Storage } from "../storage/port.ts";
import { backoff, forEachLimited, READ_CONCURRENCY } from "./concurrency.ts";
import { fileBytes, fileEtag } from "./file-bytes.ts";
import { syncMedia } from "./media-sync.ts";
import { type ArticleCache, readListed, UNREADABLE } from "./observe.ts";
import type { EnginePlan, Observation } from "./planner.ts";
import { emptyLoaded, type Loaded, planToCompletion } from "./run-plan.ts";
import type { Catalog, RenderedEntry } from "./state/entry.ts";
import { type FeedIndex, INDEX_KEY, withMediaProblems } from "./state/head.ts";
import {
  collectState,
  commitIndex,
  type LoadedIndex,
  loadCatalog,
  loadIndex,
  putState,
  STATE_GRACE_MS,
  StaleIndexError,
} from "./store.ts";
import { FEED_CACHE_CONTROL, type Stores } from "./stores.ts";
import { rebuildTags, type TagBaseline, type TagPlan, tagBaseline } from "./tagging.ts";

export interface PublishOptions extends Stores {
  readonly config: SiteConfig;
  readonly now?: Date;
  readonly cache?: ArticleCache;
  readonly onProgress?: (done: number, total: number) => void;
  /** How old an unreferenced state object must be before it is deleted (default one hour). */
  readonly stateGraceMs?: number;
  /**
   * Read every article, whatever the catalog says of it. Without it, an article whose listed
   * ETag is the one the catalog recorded is not read (its entry and rendered items stand).
   */
  readonly force?: boolean;
}

export interface PublishReport {
  readonly articles: number;
  /** How many articles were read (the others were as the catalog recorded them). */
  readonly read: number;
  /** Articles public now: in the feed, on archive pages, or waiting for their month's page. */
  readonly published: number;
  /** Items of the main feed. */
  readonly inFeed: number;
  /** Articles on archive pages (some of them may be in the feed too). */
  readonly archived: number;
  /** Public articles in neither: beyond the feed's limit in a month whose page is not made yet. */
  readonly waiting: number;
  readonly problems: readonly ArticleProblem[];
  readonly held: readonly HeldBack[];
  readonly written: readonly string[];
  readonly unchanged: readonly string[];
  readonly nextChange?: Date;
  /** How many times the index commit had to be retried because someone else wrote it first. */
  readonly retries: number;
  /** Set when deleting unreferenced state objects failed (the publish itself succeeded). */
  readonly cleanup?: string;
  /** The object tags to write for the editors (the handler writes them, best effort). */
  readonly tags: TagPlan;
}

const MAX_ATTEMPTS = 8;
const MD5_ETAG = /^"[0-9a-f]{32}"$/;

/**
 * Full rebuild: lists the articles and the published feeds, reads the articles that are new or
 * changed since the catalog recorded them (every one with `force`, or when the state is missing,
 * unreadable or from other settings), plans every feed from the whole catalog, writes the files
 * whose bytes differ from what is stored and commits the index. This is `feedpub build`,
 * `feedpub rebuild` and the scheduled reconcile that repairs anything an event missed.
 * Afterwards it deletes state objects no index names any more.
 */
export async function publishAll(options: PublishOptions): Promise<PublishReport> {
  const run: RebuildRun = {
    now: options.now ?? new Date(),
    // A retry lists again but reads only the articles that changed meanwhile.
    cache: options.cache ?? new Map(),
    memo: new Map(),
    earlier: [],
  };
  for (let attempt = 1; ; attempt++) {
    const outcome = await rebuildOnce(options, run, attempt);
    if (outcome !== "again") return outcome;
  }
}

/** What the attempts of one rebuild share. */
interface RebuildRun {
  readonly now: Date;
  readonly cache: ArticleCache;
  readonly memo: Map<string, RenderedEntry>;
  /** Media published by the first attempt (media need no state: once is enough). */
  media?: { written: string[]; problems: ArticleProblem[] };
  /** Files written by earlier attempts that committed and went round again. */
  readonly earlier: string[];
  /** The catalog as the first attempt loaded it: the tags say what changed since. */
  tagBaseline?: TagBaseline;
}

async function rebuildOnce(
  options: PublishOptions,
  run: RebuildRun,
  attempt: number,
): Promise<PublishReport | "again"> {
  const { content, output, config } = options;
  const { now } = run;
  // The index first, then the listing and the bodies: the commit succeeds only if no other
  // invocation committed since, and what that one committed was read before, so a rebuild
  // never brings back an older version of an article than the index already holds.
  const loaded = await loadIndex(output, config);
  const listing = await listContent(content);
  const published = await listPublished(output);
  // Media first, so that feeds never point at a file not published yet; then what has no source.
  const orphans = [...published.media].filter((key) => !listing.media.has(key));
  run.media ??= await syncMedia(content, output, [...listing.media.keys(), ...orphans]);
  const previous = await previousCatalog(output, loaded, attempt, run);
  if (previous === "again") return "again";
  const force = options.force === true || loaded.state !== "ok" || loaded.legacy !== undefined;
  const { observed, read } = await observeListing(
    content,
    listing.articles,
    previous,
    force,
    run.cache,
    options,
  );
  const parts = emptyLoaded();
  for (const [key, size] of listing.media) parts.media.set(key, size);
  // Rendered items of other settings are of no use: every feed is made from its articles.
  if (force) for (const name of stateNames(loaded.index)) parts.states.set(name, null);
  const plan = await planToCompletion(
    {
      config,
      now,
      head: loaded.index,
      full: true,
      previous,
      observed,
      mediaListed: true,
      dirty: new Set(),
      memo: run.memo,
    },
    parts,
    { content, output, head: loaded.index, tolerant: true },
  );
  const head = withMediaProblems(withoutClaim(plan.head), "all", run.media.problems);
  const { written, unchanged } = await writePlan(
    output,
    plan,
    published.feeds,
    damagedStates(loaded.index, parts),
  );
  if ((await commitRebuild(options, loaded, head, written, unchanged, attempt, listing, run)) === "again")
    return "again";
  // Best effort: a state object left over costs storage, not correctness; the next rebuild tries again.
  const cleanup = await collectState(output, head, options.stateGraceMs ?? STATE_GRACE_MS).then(
    () => undefined,
    (error: Error) => `old catalog shards could not be deleted: ${error.message}`,
  );
  const media = run.media;
  return {
    ...(cleanup ? { cleanup } : {}),
    articles: listing.articles.length,
    read,
    published: plan.whole?.public ?? plan.published,
    inFeed: plan.published,
    archived: plan.whole?.archived ?? 0,
    waiting: plan.whole?.waiting ?? 0,
    problems: [...plan.problems, ...media.problems].sort((a, b) =>
      a.file < b.file ? -1 : a.file > b.file ? 1 : 0,
    ),
    held: plan.held,
    written: [...media.written, ...new Set([...run.earlier, ...written])],
    unchanged: unchanged.filter((key) => !run.earlier.includes(key)),
    retries: attempt - 1,
    ...(plan.nextChange ? { nextChange: plan.nextChange } : {}),
    tags: rebuildTags(run.tagBaseline, plan, { config, now, force: options.force === true }),
  };
}

/**
 * A full rebuild is whole-site work itself: its head carries no run's claim (uploads apply again
 * at once; a run still under way commits over it as over any upload).
 */
function withoutClaim(head: FeedIndex): FeedIndex {
  const { wholeSite: _claim, ...rest } = head;
  return rest;
}

/**
 * Commits the rebuilt index; "again" when the attempt must be made again: another invocation
 * committed first, or one that committed may have missed what this one read.
 */
async function commitRebuild(
  options: PublishOptions,
  loaded: LoadedIndex,
  head: FeedIndex,
  written: string[],
  unchanged: string[],
  attempt: number,
  listing: ContentListing,
  run: RebuildRun,
): Promise<"again" | "done"> {
  const { content, output } = options;
  try {
    // An unchanged index is left alone, unless this attempt wrote a file: then the conditional
    // write is what proves no other invocation committed (and wrote newer feeds) meanwhile.
    const unlessSame = loaded.legacy || written.length > 0 ? undefined : loaded.index;
    const committed = await commitIndex(output, head, loaded.etag, run.now, unlessSame);
    (committed ? written : unchanged).push(INDEX_KEY);
    // A rebuild that found nothing to change must not have missed a commit made meanwhile, and
    // one that committed must not have read an article that changed since (the invocation
    // handling that change may have found nothing to do in the older index).
    const stale = committed
      ? await listingMoved(content, listing)
      : (await output.head(INDEX_KEY))?.etag !== loaded.etag;
    if (stale && attempt < MAX_ATTEMPTS) {
      run.earlier.push(...written);
      return "again";
    }
    return "done";
  } catch (error) {
    if (error instanceof PreconditionFailedError && attempt < MAX_ATTEMPTS) {
      await backoff(attempt);
      return "again";
    }
    throw error;
  }
}

/** The catalog the loaded index names; "again" when a shard it names is gone (the index moved on). */
async function previousCatalog(
  output: Storage,
  loaded: LoadedIndex,
  attempt: number,
  run: RebuildRun,
): Promise<Catalog | "again"> {
  try {
    const catalog = await loadCatalog(output, loaded);
    run.tagBaseline ??= tagBaseline(loaded, catalog);
    return catalog;
  } catch (error) {
    if (!(error instanceof StaleIndexError)) throw error;
    if (attempt < MAX_ATTEMPTS) {
      await backoff(attempt);
      return "again";
    }
    // The state is damaged beyond a race: rebuild it; only first-seen dates of undated articles are lost.
    return {};
  }
}

interface ContentListing {
  readonly articles: ObjectInfo[];
  /** Media files beside the articles: their sizes. */
  readonly media: Map<string, number>;
}

async function listContent(content: Storage): Promise<ContentListing> {
  const articles: ObjectInfo[] = [];
  const media = new Map<string, number>();
  for await (const info of content.list()) {
    if (sourceKind(info.key)) articles.push(info);
    else if (mediaType(info.key)) media.set(info.key, info.size);
  }
  return { articles, media };
}

/** What feeds/ holds: the ETag of each feed file, and the sources of the published media. */
export async function listPublished(
  output: Storage,
): Promise<{ feeds: Map<string, string>; media: Set<string> }> {
  const feeds = new Map<string, string>();
  const media = new Set<string>();
  for await (const info of output.list("feeds/")) {
    if (info.key.startsWith(MEDIA_PREFIX)) media.add(info.key.slice(MEDIA_PREFIX.length));
    else feeds.set(info.key, info.etag);
  }
  return { feeds, media };
}

/** The observations of a rebuild: listed as recorded (not read), or read. */
async function observeListing(
  content: Storage,
  listed: readonly ObjectInfo[],
  previous: Catalog,
  force: boolean,
  cache: ArticleCache,
  options: PublishOptions,
): Promise<{ observed: Observation[]; read: number }> {
  const observed: Observation[] = new Array(listed.length);
  const toRead: number[] = [];
  for (const [i, info] of listed.entries()) {
    const entry = previous[info.key];
    if (!force && entry?.etag !== undefined && entry.etag === info.etag)
      observed[i] = { key: info.key, kind: "listed" };
    else toRead.push(i);
  }
  let done = 0;
  await forEachLimited(toRead, READ_CONCURRENCY, async (i) => {
    const info = listed[i] as ObjectInfo;
    const result = await readListed(content, info, cache);
    // The listing's ETag, recorded so that the next rebuild can skip the file; never for a file
    // that could not be read (restoring an archived object keeps its ETag).
    const etag = result.hash === UNREADABLE ? {} : { etag: info.etag };
    observed[i] = { key: info.key, kind: "read", hash: result.hash, ...etag, result: () => result.result };
    options.onProgress?.(++done, toRead.length);
  });
  return { observed, read: toRead.length };
}

export function stateNames(index: FeedIndex): string[] {
  return [
    ...Object.values(index.facets).map((ref) => ref.state),
    ...Object.values(index.archive?.pages ?? {}).map((ref) => ref.state),
  ];
}

/** State objects the head names that could not be read: written again even under the same name. */
function damagedStates(index: FeedIndex, parts: Loaded): Set<string> {
  return new Set(stateNames(index).filter((name) => parts.states.get(name) === null));
}

/** Writes what differs from what is stored (from the listing of feeds/), deletes, and the new state objects. */
export async function writePlan(
  output: Storage,
  plan: EnginePlan,
  stored: ReadonlyMap<string, string>,
  rewrite: ReadonlySet<string>,
): Promise<{ written: string[]; unchanged: string[] }> {
  const written: string[] = [];
  const unchanged: string[] = [];
  // A rebuild compares with what is really stored, so it also repairs feeds changed behind its back.
  await forEachLimited(plan.writes, READ_CONCURRENCY, async (file) => {
    let current = stored.get(file.key);
    // S3 lists the MD5 of a single-part upload as its ETag; other stamps (a folder's size and
    // mtime, multipart or KMS-encrypted objects) are asked for one by one.
    if (current !== undefined && !MD5_ETAG.test(current)) current = (await output.head(file.key))?.etag;
    if (current === fileEtag(file)) {
      unchanged.push(file.key);
      return;
    }
    await output.put(file.key, fileBytes(file), {
      contentType: file.contentType,
      cacheControl: FEED_CACHE_CONTROL,
    });
    written.push(file.key);
  });
  const deleted: string[] = [];
  for (const key of plan.deletes) {
    await output.delete(key);
    deleted.push(key);
  }
  const objects = plan.objects.filter((object) => !plan.kept.has(object.name) || rewrite.has(object.name));
  await forEachLimited(objects, READ_CONCURRENCY, (object) => putState(output, object).then(() => undefined));
  const order = new Map(plan.writes.map((file, i) => [file.key, i]));
  const byPlan = (a: string, b: string) => (order.get(a) ?? 0) - (order.get(b) ?? 0);
  return { written: [...written.sort(byPlan), ...deleted], unchanged: unchanged.sort(byPlan) };
}

/** Whether content/ lists other articles or media (or other versions of them) than the listing. */
async function listingMoved(content: Storage, listing: ContentListing): Promise<boolean> {
  const articles = new Map(listing.articles.map((info) => [info.key, info.etag]));
  let seenArticles = 0;
  let seenMedia = 0;
  for await (const info of content.list()) {
    if (sourceKind(info.key)) {
      if (articles.get(info.key) !== info.etag) return true;
      seenArticles++;
    } else if (mediaType(info.key)) {
      if (listing.media.get(info.key) !== info.size) return true;
      seenMedia++;
    }
  }
  return seenArticles !== articles.size || seenMedia !== listing.media.size;
}
