import { createHash } from "node:crypto";
import {
  archivedItem,
  archiveFileKeys,
  archiveMonthOfKey,
  archiveScope,
  mainScope,
  monthEnd,
  monthOf,
  previousPages,
} from "../core/archive.ts";
import type { Article } from "../core/article.ts";
import {
  assembleFeed,
  type FeedScope,
  type HeldBack,
  type Plan,
  planFeed,
  renderBrowserFiles,
  renderFeedFiles,
  renderProblem,
  toFeedItem,
} from "../core/build.ts";
import type { SiteConfig } from "../core/config.ts";
import { ArticleError, type ArticleProblem } from "../core/errors.ts";
import { type Facet, type FacetKind, facetFolder, facetsOf } from "../core/facets.ts";
import { MAX_MEDIA_BYTES, MEDIA_PREFIX, mediaKeyOf, mediaType } from "../core/media.ts";
import type { FeedItem } from "../core/model.ts";
import { MAX_ARTICLE_BYTES, parseArticle, sourceKind, tooLargeReason } from "../core/parse.ts";
import type { ListedFeed } from "../core/render/browser.ts";
import { cutUtf16 } from "../core/text.ts";
import { PreconditionFailedError } from "../storage/errors.ts";
import type { ObjectInfo, Storage, StoredObject } from "../storage/port.ts";
import {
  CATALOG_PREFIX,
  type Catalog,
  catalogKey,
  countsOf,
  entryFor,
  type FacetRef,
  type FacetState,
  type FeedIndex,
  fromRendered,
  INDEX_KEY,
  type IndexEntry,
  type IndexState,
  indexProblems,
  type ParsedIndex,
  parseFacet,
  parseIndex,
  parseShard,
  planInputs,
  publishedOf,
  type Rank,
  type RenderedEntry,
  ranksAbove,
  selectCandidates,
  serializeFacet,
  serializeIndex,
  serializeShard,
  shardCountFor,
  shardOf,
  splitCatalog,
  toRendered,
  withMediaProblems,
} from "./feed-index.ts";
import { mediaProblem, orProblem } from "./object-problems.ts";
import { fileBytes, fileEtag, writeIfChanged } from "./write.ts";

/** The version stamp of an object that could not be read (its problem is recorded instead). */
const UNREADABLE = "unreadable";

export { CATALOG_PREFIX, INDEX_KEY } from "./feed-index.ts";
/** Where editors upload articles in a bucket. */
export const CONTENT_PREFIX = "content/";
/** Readers and CDNs may keep a feed for five minutes, then revalidate (usually a 304). */
export const FEED_CACHE_CONTROL = "public, max-age=300";
/** Media change rarely and are large: a day, then revalidate. */
const MEDIA_CACHE_CONTROL = "public, max-age=86400";

/** Parsed articles (or their problem) by content key and version, reused across rebuilds. */
export type ArticleCache = Map<string, { etag: string; read: ReadResult }>;

/** Where articles come from and where feeds and state go. */
export interface Stores {
  /** Keys are article paths, e.g. "posts/hello.md" (an adapter may add a "content/" prefix). */
  readonly content: Storage;
  /** Receives feeds/ and _state/. */
  readonly output: Storage;
}

export interface PublishOptions extends Stores {
  readonly config: SiteConfig;
  readonly now?: Date;
  readonly cache?: ArticleCache;
  readonly onProgress?: (done: number, total: number) => void;
  /** How old an unreferenced catalog shard must be before it is deleted (default one hour). */
  readonly stateGraceMs?: number;
}

export interface PublishReport {
  readonly articles: number;
  readonly published: number;
  readonly problems: readonly ArticleProblem[];
  readonly held: readonly HeldBack[];
  readonly written: readonly string[];
  readonly unchanged: readonly string[];
  readonly nextChange?: Date;
  /** How many times the index commit had to be retried because someone else wrote it first. */
  readonly retries: number;
  /** Set when deleting unreferenced catalog shards failed (the publish itself succeeded). */
  readonly cleanup?: string;
}

const READ_CONCURRENCY = 32;
const MAX_ATTEMPTS = 8;
/** Incremental retries are cheap (one index read), so a busy queue may take more of them. */
const MAX_APPLY_ATTEMPTS = 20;

interface ReadResult {
  readonly result: Article | ArticleProblem;
  /** Hash of the bytes (or a stand-in for files too large to read). */
  readonly hash: string;
}

/**
 * Full rebuild: reads every article, rebuilds the catalog (keeping known first-seen dates), writes
 * the feeds whose bytes changed, the catalog shards that changed and commits the index. This is
 * `feedpub build`, `feedpub rebuild` and the scheduled reconciliation that repairs anything an
 * event missed. Afterwards it deletes catalog shards no index names any more.
 */
export async function publishAll(options: PublishOptions): Promise<PublishReport> {
  const { content, output, config } = options;
  const now = options.now ?? new Date();
  // A retry lists again but reads only the articles that changed meanwhile.
  const cache: ArticleCache = options.cache ?? new Map();
  let media: Awaited<ReturnType<typeof syncMedia>> | undefined;
  // Files written by earlier rounds that committed (see the end of the loop).
  const earlier: string[] = [];

  for (let attempt = 1; ; attempt++) {
    const memo = new Map<string, RenderedEntry>();
    // The index first, then the listing and the bodies: the commit below succeeds only if no other
    // invocation committed since, and what that one committed was read before, so a rebuild never
    // brings back an older version of an article than the index already holds.
    const loaded = await loadIndex(output, config);
    const listed: ObjectInfo[] = [];
    const listing = new Map<string, number>();
    for await (const info of content.list()) {
      if (sourceKind(info.key)) listed.push(info);
      else if (mediaType(info.key)) listing.set(info.key, info.size);
    }
    const reads: ReadResult[] = new Array(listed.length);
    let done = 0;
    await forEachLimited(listed, READ_CONCURRENCY, async (info, index) => {
      reads[index] = await readListed(content, info, cache);
      options.onProgress?.(++done, listed.length);
    });
    const parsed = new Map<string, Article>();
    for (const { result } of reads) if (!("reason" in result)) parsed.set(result.path, result);
    if (!media) {
      // Media first, so that feeds never point at a file not published yet; then what has no source.
      const orphans: string[] = [];
      for await (const info of output.list(MEDIA_PREFIX)) {
        const source = info.key.slice(MEDIA_PREFIX.length);
        if (!listing.has(source)) orphans.push(source);
      }
      media = await syncMedia(content, output, [...listing.keys(), ...orphans]);
    }
    let previous: Catalog;
    try {
      previous = await loadCatalog(output, loaded, new Map());
    } catch (error) {
      if (!(error instanceof StaleIndexError)) throw error;
      if (attempt < MAX_ATTEMPTS) {
        await backoff(attempt);
        continue;
      }
      // The state is damaged beyond a race: rebuild it; only first-seen dates of undated articles are lost.
      previous = {};
    }
    const articles: Record<string, IndexEntry> = {};
    for (const [i, info] of listed.entries()) {
      const read = reads[i] as ReadResult;
      articles[info.key] = entryFor(read.result, read.hash, previous[info.key], now);
    }
    const outcome = await regenerate({
      config,
      now,
      content,
      entries: articles,
      rendered: loaded.index.rendered,
      parsed,
      listing,
      memo,
      itemsOnly: true,
    });
    let catalog: Catalog = outcome.entries;
    // Every tag and author feed, from the whole catalog.
    const facets: Record<string, FacetRef> = {};
    const facetFiles: OutputFile[] = [];
    const facetStates: { name: string; body: string }[] = [];
    for (const group of groupFacets(catalog).values()) {
      const result = await planFacet({
        config,
        now,
        content,
        parsed,
        key: group.key,
        name: group.name,
        candidates: group.entries,
        rendered: {},
        listing,
        memo,
        loadGroup: async () => group.entries,
      });
      if (result.refused.size) catalog = { ...catalog, ...Object.fromEntries(result.refused) };
      if (!result.state) continue;
      const serialized = serializeFacet(result.state);
      facetFiles.push(...result.files);
      facetStates.push(serialized);
      facets[group.key] = facetRef(result.state.name, serialized.name, result.nextChange);
    }
    // Every archive page, from the whole catalog.
    const open = currentMonth(loaded.state === "ok" ? loaded.index.archive : undefined, now);
    const archived = await updateArchive({
      config,
      now,
      content,
      output,
      parsed,
      listing,
      memo,
      previous: loaded.state === "ok" ? (loaded.index.archive?.pages ?? {}) : {},
      fresh: groupPages(catalog, now, open),
      freshFrom: "",
      affected: new Set(),
      changed: new Map(),
      open,
    });
    if (archived.refused.size) catalog = { ...catalog, ...Object.fromEntries(archived.refused) };
    const mainFeed = mainScope(config, archived.newest);
    const mainFiles = renderFeedFiles(assembleFeed(config, outcome.items, mainFeed), mainFeed);
    const browserFiles = renderBrowserFiles(
      assembleFeed(config, outcome.items),
      listedFacets(config, facets),
    );
    const shards = splitCatalog(catalog, shardCountFor(listed.length)).map(serializeShard);
    const known = new Set([
      ...loaded.index.shards,
      ...Object.values(loaded.index.facets).map((ref) => ref.state),
      ...Object.values(loaded.index.archive?.pages ?? {}).map((ref) => ref.state),
    ]);
    const written: string[] = [];
    const unchanged: string[] = [];
    const feeds: Record<string, string> = {};
    for (const file of [...mainFiles, ...facetFiles, ...archived.files, ...browserFiles]) {
      // A full rebuild checks what is really stored, so it also repairs feeds changed behind its back.
      const changed = await writeIfChanged(
        output,
        file.key,
        fileBytes(file),
        { ...file, cacheControl: FEED_CACHE_CONTROL },
        fileEtag(file),
      );
      (changed ? written : unchanged).push(file.key);
    }
    // Like an incremental regeneration: the head keeps the MD5s of the main feed and the browser
    // files; each tag feed's state keeps its own (planFacet already hashed them).
    for (const file of [...mainFiles, ...browserFiles]) feeds[file.key] = fileEtag(file);
    for (const key of archived.deletes) {
      await output.delete(key);
      written.push(key);
    }
    // Feeds of tags and authors no article has any more go: a reader gets 404, as for any removed feed.
    for (const key of Object.keys(loaded.index.facets)) {
      if (facets[key]) continue;
      for (const file of facetFileKeys(key)) await output.delete(file);
      written.push(...facetFileKeys(key));
    }
    await forEachLimited([...shards, ...facetStates, ...archived.states], READ_CONCURRENCY, async (shard) => {
      if (shard && !known.has(shard.name)) await putShard(output, shard);
    });
    const next: FeedIndex = {
      ...withMediaProblems(loaded.index, "all", media.problems),
      shards: shards.map((shard) => shard?.name ?? ""),
      ...selectCandidates(catalog, now, candidatesFor(config)),
      rendered: outcome.rendered,
      feeds,
      counts: countsOf(catalog),
      facets,
      archive: { open, pages: archived.pages },
    };
    withNextChange(next, outcome.plan.nextChange);
    if (!next.floor) delete (next as { floor?: Rank }).floor;
    try {
      // An unchanged index is left alone, unless this attempt wrote a file: then the conditional
      // write is what proves no other invocation committed (and wrote newer feeds) meanwhile.
      const committed = await commitIndex(
        output,
        next,
        loaded.etag,
        now,
        loaded.legacy || written.length > 0 ? undefined : loaded.index,
      );
      (committed ? written : unchanged).push(INDEX_KEY);
      // As in applyChanges: a rebuild that found nothing to change must not have missed a commit
      // made meanwhile, and one that committed must not have read an article that changed since
      // (the invocation handling that change may have found nothing to do in the older index).
      const stale = committed
        ? await listingMoved(content, listed, listing)
        : (await output.head(INDEX_KEY))?.etag !== loaded.etag;
      if (stale && attempt < MAX_ATTEMPTS) {
        earlier.push(...written);
        continue;
      }
    } catch (error) {
      if (error instanceof PreconditionFailedError && attempt < MAX_ATTEMPTS) {
        await backoff(attempt);
        continue;
      }
      throw error;
    }
    // Best effort: a shard left over costs storage, not correctness; the next rebuild tries again.
    const cleanup = await collectCatalog(
      output,
      new Set([
        ...next.shards,
        ...Object.values(next.facets).map((ref) => ref.state),
        ...Object.values(next.archive?.pages ?? {}).map((ref) => ref.state),
      ]),
      options.stateGraceMs ?? STATE_GRACE_MS,
    ).then(
      () => undefined,
      (error: Error) => `old catalog shards could not be deleted: ${error.message}`,
    );
    return {
      ...(cleanup ? { cleanup } : {}),
      articles: listed.length,
      published: outcome.items.length,
      problems: sortProblems([...indexProblems(catalog), ...outcome.plan.problems, ...media.problems]),
      held: outcome.plan.held,
      written: [...media.written, ...new Set([...earlier, ...written])],
      unchanged: unchanged.filter((key) => !earlier.includes(key)),
      retries: attempt - 1,
      // The feeds change when a scheduled article falls due, one expires, or the month ends (its
      // archive page appears).
      nextChange: new Date(
        Math.min(outcome.plan.nextChange?.getTime() ?? Number.POSITIVE_INFINITY, monthEnd(open)),
      ),
    };
  }
}

export interface ApplyReport {
  /** Whether the index changed (and so the feeds were regenerated). */
  readonly changed: boolean;
  readonly written: readonly string[];
  /** Problems of the articles named in this change. */
  readonly problems: readonly ArticleProblem[];
  readonly retries: number;
  /** Whether the planning candidates ran out and every catalog shard had to be read. */
  readonly readWholeCatalog: boolean;
}

/**
 * Incremental regeneration for a set of changed article keys (creates, edits and deletes alike):
 * reads each key's current state after the index (never trusting event order, and never
 * committing an older version than the one it replaces), updates the catalog shards of
 * those keys and the planning candidates, re-renders the feeds from the candidates (bodies only
 * for items not already rendered) and commits the index with a conditional write, retrying from
 * the start if another invocation committed first. Feeds and shards are written before the
 * commit, so the invocation that commits last always leaves feeds matching the committed index.
 * S3 requests for one key: its GET, the index GET, one shard GET and PUT, up to three feed PUTs
 * and the index PUT.
 */
export async function applyChanges(
  options: Stores & { config: SiteConfig; keys: readonly string[]; now?: Date },
): Promise<ApplyReport> {
  const { content, config } = options;
  // State objects are content-addressed and never rewritten: a retry reads each one once.
  const output = withImmutableReads(options.output, CATALOG_PREFIX);
  const keys = [...new Set(options.keys)].filter((key) => sourceKind(key));
  // Media beside articles are copied to (or removed from) feeds/media/ first: no state involved.
  const mediaKeys = [...new Set(options.keys)].filter((key) => !sourceKind(key) && mediaType(key));
  const media = await syncMedia(content, output, mediaKeys);
  // Articles parsed in an earlier attempt, by key and hash: a retry re-reads the keys but parses
  // only what changed meanwhile.
  const parses: ParseMemo = new Map();
  // Files written (or deleted) by attempts that then lost the commit, and the tag and author feeds
  // they belong to: another invocation may have written newer bytes just before, so the next
  // attempt writes them again from the index it commits, even if it finds nothing else to do.
  const dirty = new Set<string>();
  const dirtyFacets = new Map<string, string>();
  // What earlier attempts committed (an attempt that commits goes round again if a key moved).
  const committed: string[] = [];
  const fullRebuild = async (): Promise<ApplyReport> => {
    const report = await publishAll({
      content,
      output: options.output,
      config,
      ...(options.now ? { now: options.now } : {}),
    });
    return {
      changed: true,
      written: report.written,
      problems: report.problems,
      retries: report.retries,
      readWholeCatalog: true,
    };
  };
  const attemptOnce = async (attempt: number): Promise<ApplyReport> => {
    const loaded = await loadIndex(output, config);
    const { index, state } = loaded;
    // The clock is read after the index: a retry must not plan with a time older than the
    // first-seen dates that other invocations wrote meanwhile.
    const now = options.now ?? new Date();
    // No usable index (a new bucket, lost state, an earlier layout): only a full rebuild knows
    // every article.
    if (state === "missing" || state === "unreadable" || loaded.legacy) return fullRebuild();
    // New settings change every item of every feed and page: a full rebuild reads the articles
    // concurrently, as the daily reconcile does, instead of one at a time.
    if (state === "settings-changed") return fullRebuild();
    // The keys are read after the index, in every attempt: the commit below succeeds only if no
    // other invocation committed since the index was read, and everything that one committed was
    // read before that, so what this one commits is never older than what it replaces.
    const count = Math.max(1, index.shards.length);
    const shards = new Map<number, Record<string, IndexEntry>>();
    const before = new Map<number, FeedIndex["counts"]>();
    const loadShards = (slots: Iterable<number>) =>
      loadShardsInto(output, index, count, slots, shards, before);
    // The keys' shards are read at the same time.
    const [observed] = await Promise.all([
      observeKeys(content, keys, parses),
      loadShards(new Set(keys.map((key) => shardOf(key, count)))),
    ]);
    const touched = new Set<number>();
    const candidates: Record<string, IndexEntry> = { ...index.candidates };
    const parsed = new Map<string, Article>();
    const problems: ArticleProblem[] = [];
    // Every entry this run changes (undefined: deleted), and the tag and author feeds it touches.
    const changedEntries = new Map<string, IndexEntry | undefined>();
    const affected = new Map<string, string>();
    // The archive pages of months that are over; a month that ended since the last regeneration
    // gets its page now.
    const open = currentMonth(index.archive, now);
    const closing = !index.archive || index.archive.open < open;
    const affectedPages = new Set<string>();
    const touchPage = (entry: IndexEntry | undefined) => {
      const month = pageMonthOf(entry, now);
      if (month !== undefined && month < open) affectedPages.add(month);
    };
    const touch = (entry: IndexEntry | undefined) => {
      for (const facet of facetsOfEntry(entry))
        if (!affected.has(facet.key)) affected.set(facet.key, facet.name);
      touchPage(entry);
    };
    const due = (when: number | undefined) => when !== undefined && when <= now.getTime();
    for (const [key, ref] of Object.entries(index.facets))
      if (due(ref.nextChange)) affected.set(key, ref.name);
    for (const [key, name] of dirtyFacets)
      if (!affected.has(key)) affected.set(key, index.facets[key]?.name ?? name);
    for (const [month, ref] of Object.entries(index.archive?.pages ?? {}))
      if (due(ref.nextChange)) affectedPages.add(month);
    const dirtyPages = new Set<string>();
    for (const key of dirty) {
      const month = archiveMonthOfKey(key);
      if (month) dirtyPages.add(month);
    }
    for (const month of dirtyPages) affectedPages.add(month);
    // Settings changed since the index was written, a scheduled article fell due (or one expired),
    // or an earlier attempt wrote feeds: every such feed must be made again, whatever the keys say.
    let changed =
      closing || due(index.nextChange) || affected.size > 0 || affectedPages.size > 0 || dirty.size > 0;
    for (const seen of observed) {
      const slot = shardOf(seen.key, count);
      const shard = shards.get(slot) as Record<string, IndexEntry>;
      const previous = shard[seen.key];
      if (!seen.object) {
        if (previous) {
          delete shard[seen.key];
          delete candidates[seen.key];
          touched.add(slot);
          changedEntries.set(seen.key, undefined);
          touch(previous);
          changed = true;
        }
        continue;
      }
      // Same bytes as indexed: a duplicate or late event. Nothing to do for this key.
      if (previous && previous.hash === seen.hash) {
        if (previous.problem) problems.push({ file: seen.key, ...previous.problem });
        continue;
      }
      const result = seen.result();
      if ("reason" in result) problems.push(result);
      else parsed.set(seen.key, result);
      const entry = entryFor(result, seen.hash, previous, now);
      shard[seen.key] = entry;
      candidates[seen.key] = entry;
      touched.add(slot);
      changedEntries.set(seen.key, entry);
      touch(previous);
      touch(entry);
      changed = true;
    }
    if (!changed) {
      // Nothing to do, as far as this index knows. If another invocation committed since it was
      // read, that one may have read these keys before they took the state seen here: look again.
      if (observed.length && (await output.head(INDEX_KEY))?.etag !== loaded.etag)
        throw new PreconditionFailedError(INDEX_KEY);
      return {
        changed: false,
        written: [...media.written, ...committed],
        problems: [...problems, ...media.problems],
        retries: attempt - 1,
        readWholeCatalog: false,
      };
    }

    const keep = candidatesFor(config);
    const selected = selectCandidates(candidates, now, keep, index.floor);
    let outcome = await regenerate({
      config,
      now,
      content,
      entries: selected.candidates,
      rendered: index.rendered,
      parsed,
      ...(selected.floor ? { floor: selected.floor } : {}),
      itemsOnly: true,
    });
    let planned: Catalog = selected.candidates;
    let floor = selected.floor;
    let wholeCatalog = !outcome.exact;
    if (wholeCatalog) {
      // Fewer candidates than feed items rank above the floor (deletions, expiries): read every
      // shard and plan over the whole catalog, which also refills the candidates.
      await loadShards(index.shards.keys());
      planned = Object.assign({}, ...shards.values()) as Record<string, IndexEntry>;
      outcome = await regenerate({
        config,
        now,
        content,
        entries: planned,
        rendered: index.rendered,
        parsed,
        itemsOnly: true,
      });
      floor = undefined;
    }
    // Articles refused while rendering are recorded in their shard, so they are not read again.
    for (const path in outcome.entries) {
      if (outcome.entries[path] === planned[path]) continue;
      const slot = shardOf(path, count);
      if (!shards.has(slot)) await loadShards([slot]);
      (shards.get(slot) as Record<string, IndexEntry>)[path] = outcome.entries[path] as IndexEntry;
      touched.add(slot);
      changedEntries.set(path, outcome.entries[path]);
      touch(planned[path]);
      touch(outcome.entries[path]);
    }
    let mainEntries: Catalog = outcome.entries;

    // The tag and author feeds this change touches, each from its own state (or the catalog).
    const facets: Record<string, FacetRef> = { ...index.facets };
    const facetWrites: { name: string; body: string }[] = [];
    const facetFiles: OutputFile[] = [];
    const facetDeletes: string[] = [];
    for (const [key, newName] of [...affected].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const ref = index.facets[key];
      const previousState = ref ? await readFacet(output, ref.state) : undefined;
      const members: Record<string, IndexEntry> = { ...previousState?.candidates };
      for (const [path, entry] of changedEntries) {
        delete members[path];
        if (entry && facetsOfEntry(entry).some((facet) => facet.key === key)) members[path] = entry;
      }
      const name = ref?.name ?? newName;
      const result = await planFacet({
        config,
        now,
        content,
        parsed,
        key,
        name,
        candidates: members,
        ...(previousState?.floor ? { floor: previousState.floor } : {}),
        rendered: previousState?.rendered ?? {},
        loadGroup: async () => {
          await loadShards(index.shards.keys());
          const whole = Object.assign({}, ...shards.values()) as Catalog;
          return groupFacets(whole).get(key)?.entries ?? {};
        },
      });
      for (const [path, entry] of result.refused) {
        const slot = shardOf(path, count);
        if (!shards.has(slot)) await loadShards([slot]);
        touchPage((shards.get(slot) as Record<string, IndexEntry>)[path]);
        (shards.get(slot) as Record<string, IndexEntry>)[path] = entry;
        touched.add(slot);
        changedEntries.set(path, entry);
        if (mainEntries[path]) mainEntries = { ...mainEntries, [path]: entry };
      }
      if (!result.state) {
        if (ref || dirtyFacets.has(key)) facetDeletes.push(...facetFileKeys(key));
        delete facets[key];
        continue;
      }
      const serialized = serializeFacet(result.state);
      if (serialized.name !== ref?.state) facetWrites.push(serialized);
      for (const file of result.files)
        if (previousState?.feeds[file.key] !== fileEtag(file) || dirty.has(file.key)) facetFiles.push(file);
      facets[key] = facetRef(result.state.name, serialized.name, result.nextChange);
    }
    // The archive pages: months that just ended from the whole catalog (once a month), the others
    // this change touches from their own state.
    let fresh = new Map<string, Catalog>();
    const freshFrom = index.archive?.open ?? "";
    if (closing) {
      await loadShards(index.shards.keys());
      wholeCatalog = true;
      const whole = Object.assign({}, ...shards.values()) as Catalog;
      fresh = groupPages(whole, now, open, freshFrom);
    }
    const archived = await updateArchive({
      config,
      now,
      content,
      output,
      parsed,
      previous: index.archive?.pages ?? {},
      fresh,
      ...(closing ? { freshFrom } : {}),
      affected: affectedPages,
      written: dirtyPages,
      changed: changedEntries,
      open,
    });
    for (const [path, entry] of archived.refused) {
      const slot = shardOf(path, count);
      if (!shards.has(slot)) await loadShards([slot]);
      (shards.get(slot) as Record<string, IndexEntry>)[path] = entry;
      touched.add(slot);
      if (mainEntries[path]) mainEntries = { ...mainEntries, [path]: entry };
    }
    const archiveFiles = archived.files.filter(
      (file) => archived.known.get(file.key) !== fileEtag(file) || dirty.has(file.key),
    );
    const mainFeed = mainScope(config, archived.newest);
    const mainFiles = renderFeedFiles(assembleFeed(config, outcome.items, mainFeed), mainFeed);
    const next = selectCandidates(mainEntries, now, keep, floor);
    const names = Array.from({ length: count }, (_, slot) => index.shards[slot] ?? "");
    const shardWrites: { name: string; body: string }[] = [];
    for (const slot of touched) {
      const shard = serializeShard(shards.get(slot) as Record<string, IndexEntry>);
      names[slot] = shard?.name ?? "";
      if (shard && shard.name !== index.shards[slot]) shardWrites.push(shard);
    }
    const feeds: Record<string, string> = { ...index.feeds };
    const browserFiles = renderBrowserFiles(
      assembleFeed(config, outcome.items),
      listedFacets(config, facets),
    );
    const changedFiles = [
      ...[...mainFiles, ...browserFiles].filter(
        (file) => feeds[file.key] !== fileEtag(file) || dirty.has(file.key),
      ),
      ...facetFiles,
      ...archiveFiles,
    ];
    const deletes = [...facetDeletes, ...archived.deletes];
    // Having lost a race already, look before writing: if another invocation committed meanwhile,
    // start again now rather than write files this attempt could not commit.
    if (attempt > 1 && (await output.head(INDEX_KEY))?.etag !== loaded.etag)
      throw new PreconditionFailedError(INDEX_KEY);
    for (const file of [...changedFiles.map((file) => file.key), ...deletes]) dirty.add(file);
    for (const key of affected.keys())
      if (facetFileKeys(key).some((file) => dirty.has(file)))
        dirtyFacets.set(key, facets[key]?.name ?? affected.get(key) ?? key);
    await Promise.all([
      ...[...shardWrites, ...facetWrites, ...archived.states].map((shard) => putShard(output, shard)),
      ...changedFiles.map((file) =>
        output.put(file.key, fileBytes(file), {
          contentType: file.contentType,
          cacheControl: FEED_CACHE_CONTROL,
        }),
      ),
      ...deletes.map((key) => output.delete(key)),
    ]);
    for (const file of [...mainFiles, ...browserFiles]) feeds[file.key] = fileEtag(file);
    const written = [...changedFiles.map((file) => file.key), ...deletes];
    const head: FeedIndex = {
      ...withMediaProblems(index, mediaKeys, media.problems),
      shards: names,
      candidates: next.candidates,
      rendered: outcome.rendered,
      feeds,
      counts: countsAfter(index.counts, touched, before, shards),
      facets,
      archive: { open, pages: archived.pages },
    };
    withNextChange(head, outcome.plan.nextChange);
    if (next.floor) (head as { floor?: Rank }).floor = next.floor;
    else delete (head as { floor?: Rank }).floor;
    if (await commitIndex(output, head, loaded.etag, now)) written.push(INDEX_KEY);
    // Committed. If a key changed after it was read here, the invocation that handles that change
    // may have read the index before this commit and found nothing to do: go round once more.
    dirty.clear();
    dirtyFacets.clear();
    committed.push(...written);
    if (attempt < MAX_APPLY_ATTEMPTS && (await movedSince(content, observed))) throw new ContentMovedError();
    return {
      changed: true,
      written: [...media.written, ...new Set(committed)],
      problems: [...problems, ...media.problems],
      retries: attempt - 1,
      readWholeCatalog: wholeCatalog,
    };
  };
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptOnce(attempt);
    } catch (error) {
      // Unreadable state: only a full rebuild can restore it.
      if (error instanceof CorruptStateError) return fullRebuild();
      // A key changed after this invocation read and committed it: once more, at once.
      if (error instanceof ContentMovedError && attempt < MAX_APPLY_ATTEMPTS) continue;
      // Another invocation committed first (or replaced a shard this one was reading): start over.
      const raced = error instanceof PreconditionFailedError || error instanceof StaleIndexError;
      if (raced && attempt < MAX_APPLY_ATTEMPTS) {
        await backoff(attempt);
        continue;
      }
      throw error;
    }
  }
}

type OutputFile = { key: string; contentType: string; body: string };

/** Whether content/ lists other articles or media (or other versions of them) than `listed`. */
async function listingMoved(
  content: Storage,
  listed: readonly ObjectInfo[],
  media: ReadonlyMap<string, number>,
): Promise<boolean> {
  const articles = new Map(listed.map((info) => [info.key, info.etag]));
  let seenArticles = 0;
  let seenMedia = 0;
  for await (const info of content.list()) {
    if (sourceKind(info.key)) {
      if (articles.get(info.key) !== info.etag) return true;
      seenArticles++;
    } else if (mediaType(info.key)) {
      if (media.get(info.key) !== info.size) return true;
      seenMedia++;
    }
  }
  return seenArticles !== articles.size || seenMedia !== media.size;
}

/** A key this invocation committed changed meanwhile (see applyChanges). */
class ContentMovedError extends Error {
  constructor() {
    super("an article changed while it was being published");
    this.name = "ContentMovedError";
  }
}

/** Whether any of the keys is no longer what was read (one HEAD each). */
async function movedSince(content: Storage, observed: readonly Observed[]): Promise<boolean> {
  let moved = false;
  await forEachLimited(observed, READ_CONCURRENCY, async (seen) => {
    if (seen.object?.etag === UNREADABLE) return;
    const now = await content.head(seen.key);
    if (now?.etag !== seen.object?.etag) moved = true;
  });
  return moved;
}

/** The storage, with the objects under `prefix` (never rewritten once written) read only once. */
function withImmutableReads(storage: Storage, prefix: string): Storage {
  const read = new Map<string, Promise<StoredObject | undefined>>();
  return {
    get: (key) => {
      if (!key.startsWith(prefix)) return storage.get(key);
      let object = read.get(key);
      if (!object) {
        object = storage.get(key);
        read.set(key, object);
        // A missing or failed read is asked again next time.
        object.then(
          (found) => void (found || read.delete(key)),
          () => void read.delete(key),
        );
      }
      return object;
    },
    head: (key) => storage.head(key),
    put: (key, body, putOptions) => storage.put(key, body, putOptions),
    delete: (key) => storage.delete(key),
    list: (listPrefix) => storage.list(listPrefix),
  };
}

const FACET_LABELS = { tags: "Tag", authors: "Author" } as const;

/** The tag and author feeds an entry belongs to: published-or-publishable articles only. */
function facetsOfEntry(entry: IndexEntry | undefined): Facet[] {
  if (!entry || entry.problem || entry.draft) return [];
  return facetsOf(entry.tags, entry.authors);
}

interface FacetGroup {
  readonly key: string;
  /** As written by the first article (in path order) that uses it. */
  readonly name: string;
  readonly entries: Record<string, IndexEntry>;
}

/** Every facet of a catalog with its members. */
function groupFacets(catalog: Catalog): Map<string, FacetGroup> {
  const groups = new Map<string, FacetGroup>();
  for (const path of Object.keys(catalog).sort()) {
    const entry = catalog[path] as IndexEntry;
    for (const facet of facetsOfEntry(entry)) {
      let group = groups.get(facet.key);
      if (!group) {
        group = { key: facet.key, name: facet.name, entries: {} };
        groups.set(facet.key, group);
      }
      group.entries[path] = entry;
    }
  }
  return new Map([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function facetScope(key: string, name: string): FeedScope {
  const kind = key.slice(0, key.indexOf("/")) as FacetKind;
  return { folder: facetFolder(key), label: `${FACET_LABELS[kind]}: ${name}` };
}

function facetFileKeys(key: string): string[] {
  return ["rss.xml", "atom.xml", "feed.json"].map((file) => `feeds/${facetFolder(key)}${file}`);
}

function facetRef(name: string, state: string, nextChange: Date | undefined): FacetRef {
  return { name, state, ...(nextChange ? { nextChange: nextChange.getTime() } : {}) };
}

/** The tag and author feeds as the landing page lists them. */
function listedFacets(config: SiteConfig, facets: Readonly<Record<string, FacetRef>>): ListedFeed[] {
  return Object.keys(facets)
    .sort()
    .map((key) => {
      const ref = facets[key] as FacetRef;
      const model = assembleFeed(config, [], facetScope(key, ref.name));
      const folder = facetFolder(key);
      return {
        title: facetScope(key, ref.name).label ?? key,
        links: model.links,
        paths: { rss: `${folder}rss.xml`, atom: `${folder}atom.xml`, json: `${folder}feed.json` },
      };
    });
}

interface FacetInput {
  readonly config: SiteConfig;
  readonly now: Date;
  readonly content: Storage;
  readonly parsed: ReadonlyMap<string, Article>;
  readonly key: string;
  readonly name: string;
  /** Its members as far as known: every member above `floor`, or all of them. */
  readonly candidates: Catalog;
  readonly floor?: Rank;
  readonly rendered: FeedIndex["rendered"];
  /** Every member, from the whole catalog: for when the candidates run out. */
  readonly loadGroup: () => Promise<Catalog>;
  readonly listing?: ReadonlyMap<string, number>;
  readonly memo?: Map<string, RenderedEntry>;
}

interface FacetOutcome {
  /** Undefined when the facet has no members left: its feed goes. */
  readonly state?: FacetState;
  readonly files: OutputFile[];
  readonly nextChange?: Date;
  /** Members refused while rendering, now marked with their problem. */
  readonly refused: Map<string, IndexEntry>;
}

/** Plans and renders one tag or author feed, like the main feed but from its own candidates. */
async function planFacet(input: FacetInput): Promise<FacetOutcome> {
  const { config, now, content, parsed, key } = input;
  const keep = candidatesFor(config);
  let selected = selectCandidates(input.candidates, now, keep, input.floor);
  let planned: Catalog = selected.candidates;
  let name = facetName(key, planned, now) ?? input.name;
  let scope = facetScope(key, name);
  let outcome = await regenerate({
    config,
    now,
    content,
    entries: planned,
    rendered: input.rendered,
    parsed,
    scope,
    ...(selected.floor ? { floor: selected.floor } : {}),
    ...(input.listing ? { listing: input.listing } : {}),
    ...(input.memo ? { memo: input.memo } : {}),
  });
  let floor = selected.floor;
  if (!outcome.exact) {
    planned = await input.loadGroup();
    name = facetName(key, selectCandidates(planned, now, keep).candidates, now) ?? name;
    scope = facetScope(key, name);
    outcome = await regenerate({
      config,
      now,
      content,
      entries: planned,
      rendered: input.rendered,
      parsed,
      scope,
    });
    floor = undefined;
  }
  const refused = new Map<string, IndexEntry>();
  for (const path in outcome.entries)
    if (outcome.entries[path] !== planned[path]) refused.set(path, outcome.entries[path] as IndexEntry);
  selected = selectCandidates(outcome.entries, now, keep, floor);
  if (Object.keys(selected.candidates).length === 0 && !selected.floor) return { files: [], refused };
  const state: FacetState = {
    key,
    name,
    candidates: selected.candidates,
    ...(selected.floor ? { floor: selected.floor } : {}),
    rendered: outcome.rendered,
    feeds: Object.fromEntries(outcome.files.map((file) => [file.key, fileEtag(file)])),
  };
  return {
    state,
    files: outcome.files,
    refused,
    ...(outcome.plan.nextChange ? { nextChange: outcome.plan.nextChange } : {}),
  };
}

/** The month whose page does not exist yet: now's, or a later one an invocation with a later clock saw. */
function currentMonth(archive: FeedIndex["archive"], now: Date): string {
  const month = monthOf(now.getTime());
  return archive && archive.open > month ? archive.open : month;
}

/** The month of the page an entry belongs to (published or scheduled articles only). */
function pageMonthOf(entry: IndexEntry | undefined, now: Date): string | undefined {
  if (!entry || entry.problem || entry.draft) return undefined;
  return monthOf(publishedOf(entry, now.getTime()));
}

/** The members of each page of a catalog, for the months before `open` (and from `from` on). */
function groupPages(catalog: Catalog, now: Date, open: string, from = ""): Map<string, Catalog> {
  const pages = new Map<string, Record<string, IndexEntry>>();
  for (const path of Object.keys(catalog).sort()) {
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

interface ArchiveInput {
  readonly config: SiteConfig;
  readonly now: Date;
  readonly content: Storage;
  readonly output: Storage;
  readonly parsed: ReadonlyMap<string, Article>;
  readonly listing?: ReadonlyMap<string, number>;
  readonly memo?: Map<string, RenderedEntry>;
  /** The pages as committed, by month. */
  readonly previous: Readonly<Record<string, FacetRef>>;
  /**
   * Months planned from these members (taken from the catalog): every month from `freshFrom` on
   * (before `open`) that has any; a page of that range it does not name has none left.
   */
  readonly fresh: ReadonlyMap<string, Catalog>;
  readonly freshFrom?: string;
  /** Months planned from their own state, with the `changed` entries applied. */
  readonly affected: ReadonlySet<string>;
  /** Entries this run changed, by path (undefined: deleted). */
  readonly changed: ReadonlyMap<string, IndexEntry | undefined>;
  /** Pages exist for the months before this one. */
  readonly open: string;
  /** Months whose files an attempt that lost its commit may have written: deleted if no page is left. */
  readonly written?: ReadonlySet<string>;
}

interface ArchiveOutcome {
  readonly pages: Record<string, FacetRef>;
  /** The newest page's month: the feed links to it. */
  readonly newest?: string;
  /** Every page rendered in this run (the others keep their bytes). */
  readonly files: OutputFile[];
  /** MD5 of each of those files as their page's state last recorded it. */
  readonly known: ReadonlyMap<string, string>;
  /** New state objects. */
  readonly states: { name: string; body: string }[];
  readonly deletes: string[];
  readonly refused: Map<string, IndexEntry>;
}

/**
 * Plans and renders the archive pages a change touches. A page is rendered again when its members
 * change or when the page before it appears or goes (its prev-archive link changes); the items
 * of its members come from the page's state, so only new or edited articles are read.
 */
async function updateArchive(input: ArchiveInput): Promise<ArchiveOutcome> {
  const { config, now, output, open } = input;
  const states = new Map<string, FacetState>();
  const members = new Map<string, Catalog>(input.fresh);
  const { freshFrom } = input;
  if (freshFrom !== undefined)
    for (const month of Object.keys(input.previous))
      if (month >= freshFrom && month < open && !members.has(month)) members.set(month, {});
  const readStates = (months: string[]) =>
    forEachLimited(months, READ_CONCURRENCY, async (month) => {
      const ref = input.previous[month];
      if (ref) states.set(month, await readFacet(output, ref.state));
    });
  const fromState = [...input.affected].filter((month) => month < open && !members.has(month));
  await readStates(fromState);
  for (const month of fromState) {
    const own: Record<string, IndexEntry> = { ...states.get(month)?.candidates };
    for (const [path, entry] of input.changed) {
      delete own[path];
      if (entry && pageMonthOf(entry, now) === month) own[path] = entry;
    }
    members.set(month, own);
  }
  const months = new Set(Object.keys(input.previous));
  for (const [month, catalog] of members)
    if (Object.keys(catalog).length) months.add(month);
    else months.delete(month);
  const before = previousPages(Object.keys(input.previous));
  const after = previousPages(months);
  // A page whose previous page appeared or went links elsewhere now: render it again, as it was.
  const relinked = [...months].filter(
    (month) => !members.has(month) && before.get(month) !== after.get(month),
  );
  await readStates(relinked);
  for (const month of relinked) members.set(month, states.get(month)?.candidates ?? {});

  const pages: Record<string, FacetRef> = {};
  const files: OutputFile[] = [];
  const known = new Map<string, string>();
  const written: { name: string; body: string }[] = [];
  const deletes: string[] = [];
  const refused = new Map<string, IndexEntry>();
  for (const month of [...months].sort()) {
    const catalog = members.get(month);
    if (!catalog) {
      pages[month] = input.previous[month] as FacetRef;
      continue;
    }
    const state = states.get(month);
    const outcome = await regenerate({
      // Every member is shown: a page has no item limit.
      config: { ...config, itemLimit: Math.max(1, Object.keys(catalog).length) },
      now,
      content: input.content,
      entries: catalog,
      rendered: state?.rendered ?? {},
      parsed: input.parsed,
      ...(input.listing ? { listing: input.listing } : {}),
      ...(input.memo ? { memo: input.memo } : {}),
      itemsOnly: true,
      // Pages carry each article without its full text, and keep it so in their state.
      archived: true,
    });
    const scope = archiveScope(config, month, after.get(month));
    const pageFiles = renderFeedFiles(assembleFeed(config, outcome.items, scope), scope);
    const kept: Record<string, IndexEntry> = {};
    for (const path in outcome.entries) {
      const entry = outcome.entries[path] as IndexEntry;
      if (entry !== catalog[path]) refused.set(path, entry);
      else kept[path] = entry;
    }
    const next: FacetState = {
      key: `archive/${month}`,
      name: month,
      candidates: kept,
      rendered: outcome.rendered,
      feeds: Object.fromEntries(pageFiles.map((file) => [file.key, fileEtag(file)])),
    };
    const serialized = serializeFacet(next);
    if (serialized.name !== input.previous[month]?.state) written.push(serialized);
    for (const file of pageFiles) {
      files.push(file);
      const md5Before = state?.feeds[file.key];
      if (md5Before) known.set(file.key, md5Before);
    }
    pages[month] = facetRef(month, serialized.name, outcome.plan.nextChange);
  }
  for (const month of new Set([...Object.keys(input.previous), ...(input.written ?? [])]))
    if (!months.has(month)) deletes.push(...archiveFileKeys(month));
  const newest = [...months].sort().pop();
  return { pages, ...(newest ? { newest } : {}), files, known, states: written, deletes, refused };
}

/**
 * The facet's display name: as the newest of its candidates writes it. Tags that share a slug
 * ("Tech", "tech") share a feed; the name is taken from an article every regeneration of the feed
 * knows (the candidates always hold the newest members), so a full rebuild and an incremental one
 * agree on it.
 */
function facetName(key: string, candidates: Catalog, now: Date): string | undefined {
  let best: Rank | undefined;
  for (const path in candidates) {
    const rank = { published: publishedOf(candidates[path] as IndexEntry, now.getTime()), path };
    if (!best || ranksAbove(rank, best)) best = rank;
  }
  const entry = best ? candidates[best.path] : undefined;
  return facetsOfEntry(entry).find((facet) => facet.key === key)?.name;
}

async function readFacet(output: Storage, name: string): Promise<FacetState> {
  const object = await output.get(catalogKey(name));
  if (!object) throw new StaleIndexError(`facet state ${name} is gone`);
  try {
    return parseFacet(object.body);
  } catch {
    throw new CorruptStateError(`facet state ${name} cannot be read`);
  }
}

function withNextChange(index: FeedIndex, when: Date | undefined): void {
  if (when) (index as { nextChange?: number }).nextChange = when.getTime();
  else delete (index as { nextChange?: number }).nextChange;
}

/** A catalog shard named by the index is gone: the index was replaced meanwhile. Start again. */
class StaleIndexError extends Error {}
/** A catalog shard cannot be read: only a full rebuild can restore the state. */
class CorruptStateError extends Error {}

/** Unreferenced catalog shards younger than this are kept: an invocation may be about to commit them. */
const STATE_GRACE_MS = 60 * 60 * 1000;

/** How many publishable articles the index keeps as candidates: the feed and as many spare. */
function candidatesFor(config: SiteConfig): number {
  return Math.max(2 * config.itemLimit, 10);
}

async function loadShardsInto(
  output: Storage,
  index: FeedIndex,
  count: number,
  slots: Iterable<number>,
  into: Map<number, Record<string, IndexEntry>>,
  counts: Map<number, FeedIndex["counts"]>,
): Promise<void> {
  const wanted = [...new Set(slots)].filter((slot) => slot < count && !into.has(slot));
  await forEachLimited(wanted, READ_CONCURRENCY, async (slot) => {
    const shard = await readShard(output, index.shards[slot] ?? "");
    into.set(slot, shard);
    counts.set(slot, countsOf(shard));
  });
}

async function readShard(output: Storage, name: string): Promise<Record<string, IndexEntry>> {
  if (!name) return {};
  const object = await output.get(catalogKey(name));
  if (!object) throw new StaleIndexError(`catalog shard ${name} is gone`);
  try {
    return parseShard(object.body);
  } catch {
    throw new CorruptStateError(`catalog shard ${name} cannot be read`);
  }
}

/** Every entry of the catalog the loaded index names (a full rebuild's starting point). */
async function loadCatalog(
  output: Storage,
  loaded: LoadedIndex,
  into: Map<number, Record<string, IndexEntry>>,
): Promise<Catalog> {
  if (loaded.legacy) return loaded.legacy;
  if (loaded.state === "missing" || loaded.state === "unreadable") return {};
  const counts = new Map<number, FeedIndex["counts"]>();
  try {
    await loadShardsInto(
      output,
      loaded.index,
      loaded.index.shards.length,
      loaded.index.shards.keys(),
      into,
      counts,
    );
  } catch (error) {
    // A shard that cannot be read costs the first-seen dates it held, not the rebuild.
    if (!(error instanceof CorruptStateError)) throw error;
  }
  return Object.assign({}, ...into.values()) as Catalog;
}

function countsAfter(
  counts: FeedIndex["counts"],
  touched: ReadonlySet<number>,
  before: ReadonlyMap<number, FeedIndex["counts"]>,
  shards: ReadonlyMap<number, Catalog>,
): FeedIndex["counts"] {
  let { articles, problems } = counts;
  for (const slot of touched) {
    const old = before.get(slot) ?? { articles: 0, problems: 0 };
    const now = countsOf(shards.get(slot) ?? {});
    articles += now.articles - old.articles;
    problems += now.problems - old.problems;
  }
  return { articles, problems };
}

function putShard(output: Storage, shard: { name: string; body: string }): Promise<unknown> {
  // Named by its bytes: writing it twice writes the same thing, so no condition is needed.
  return output.put(catalogKey(shard.name), shard.body, {
    contentType: "application/json",
    cacheControl: "no-store",
  });
}

/** Deletes catalog shards that the committed index does not name, once they are old enough. */
async function collectCatalog(output: Storage, keep: ReadonlySet<string>, graceMs: number): Promise<void> {
  const cutoff = Date.now() - graceMs;
  const doomed: string[] = [];
  for await (const info of output.list(CATALOG_PREFIX)) {
    const name = info.key.slice(CATALOG_PREFIX.length).replace(/\.json$/, "");
    if (!keep.has(name) && info.lastModified.getTime() <= cutoff) doomed.push(info.key);
  }
  await forEachLimited(doomed, READ_CONCURRENCY, (key) => output.delete(key));
}

interface Observed {
  readonly key: string;
  /** The object as read (its size and ETag), or undefined if it no longer exists. */
  readonly object?: { readonly size: number; readonly etag: string };
  readonly hash: string;
  /** The parsed article or its problem, computed on first use. */
  readonly result: () => Article | ArticleProblem;
}

/** Parsed articles by key and content hash. */
type ParseMemo = Map<string, Article | ArticleProblem>;

async function observeKeys(
  content: Storage,
  keys: readonly string[],
  parses: ParseMemo,
): Promise<Observed[]> {
  const observed: Observed[] = new Array(keys.length);
  await forEachLimited(keys, READ_CONCURRENCY, async (key, i) => {
    const read = await orProblem(key, () => content.get(key));
    if (read && "reason" in read) {
      // Its name (or the object) is unusable: recorded with its problem, like any bad article.
      observed[i] = { key, object: { size: 0, etag: UNREADABLE }, hash: UNREADABLE, result: () => read };
      return;
    }
    const object = read;
    const hash = object ? sha1(object.body) : "";
    observed[i] = {
      key,
      ...(object ? { object: { size: object.size, etag: object.etag } } : {}),
      hash,
      result: () => {
        if (!object) return { file: key, reason: "the file vanished while publishing" };
        const memoKey = `${hash} ${key}`;
        let result = parses.get(memoKey);
        if (!result) {
          result =
            object.size > MAX_ARTICLE_BYTES
              ? { file: key, reason: tooLargeReason(object.size) }
              : parseOrProblem(key, object.body);
          parses.set(memoKey, result);
        }
        return result;
      },
    };
  });
  return observed;
}

interface RegenerateInput {
  readonly config: SiteConfig;
  readonly now: Date;
  readonly content: Storage;
  /** The entries to plan over: the whole catalog, or the candidates. */
  readonly entries: Catalog;
  readonly rendered: FeedIndex["rendered"];
  /** Articles already parsed in this run; others are taken from the rendered cache or read. */
  readonly parsed: ReadonlyMap<string, Article>;
  /** Set when `entries` are candidates: items must rank above it for the feed to be exact. */
  readonly floor?: Rank;
  /** Which feed: the main one (default) or a tag's or an author's. */
  readonly scope?: FeedScope;
  /** Sizes of the media files in content/, when a listing was made (else they are asked for). */
  readonly listing?: ReadonlyMap<string, number>;
  /**
   * Items rendered earlier in this run (the main feed's, other tags'): an article in several
   * feeds is rendered once.
   */
  readonly memo?: Map<string, RenderedEntry>;
  /** Plan and render the items only: the caller renders the files (the main feed, once its archive links are known). */
  readonly itemsOnly?: boolean;
  /** Items as archive pages carry them: the summary instead of the full text (see archivedItem). */
  readonly archived?: boolean;
}

interface RegenerateOutcome {
  /** The entries, with articles refused while rendering marked as problems. */
  readonly entries: Catalog;
  readonly rendered: Record<string, RenderedEntry>;
  readonly plan: Plan;
  readonly items: readonly FeedItem[];
  readonly files: { key: string; contentType: string; body: string }[];
  /** False when the candidates did not hold enough items above the floor (nothing else is set). */
  readonly exact: boolean;
}

/** Plans and renders the feeds; the only reads are bodies of newly listed items. */
async function regenerate(input: RegenerateInput): Promise<RegenerateOutcome> {
  const { config, now, content, parsed, floor } = input;
  const entries: Record<string, IndexEntry> = { ...input.entries };
  for (;;) {
    const plan = planFeed({ config, now, ...planInputs(entries) });
    const items: FeedItem[] = [];
    const rendered: Record<string, RenderedEntry> = {};
    let refused = false;
    for (const chosen of plan.chosen) {
      if (items.length >= config.itemLimit) break;
      if (floor && !ranksAbove({ published: chosen.published.getTime(), path: chosen.path }, floor)) break;
      const entry = entries[chosen.path] as IndexEntry;
      const cached = input.rendered[chosen.path];
      // The memo holds full items; an archive page takes them without their text.
      const memo = input.memo?.get(chosen.path);
      let item: FeedItem | undefined;
      if (!parsed.has(chosen.path) && cached && reusable(cached, entry, chosen)) item = fromRendered(cached);
      else if (memo && reusable(memo, entry, chosen))
        item = input.archived ? archivedItem(fromRendered(memo)) : fromRendered(memo);
      else {
        const article = parsed.get(chosen.path) ?? (await fetchArticle(content, chosen.path));
        let problem: ArticleProblem | undefined;
        if ("reason" in article) problem = article;
        else {
          const sizes = await mediaSizes(content, article, input.listing);
          try {
            item = toFeedItem(article, chosen, config, (key) => sizes.get(key), {
              fullText: !input.archived,
            });
          } catch (error) {
            problem = renderProblem(chosen.path, error);
          }
        }
        if (problem || !item) {
          // Recorded in the catalog, so it is not tried (and read) again until the file changes.
          const reason = problem?.reason ?? "could not be rendered";
          entries[chosen.path] = {
            ...entry,
            problem: { reason, ...(problem?.line !== undefined ? { line: problem.line } : {}) },
          };
          refused = true;
          break;
        }
      }
      items.push(item);
      rendered[chosen.path] = toRendered(item, entry.hash);
      if (!input.archived) input.memo?.set(chosen.path, rendered[chosen.path] as RenderedEntry);
    }
    // A refused article changes the plan (its place goes to the next one): plan again.
    if (refused) continue;
    // Candidates hold every publishable article above the floor; below it others may rank higher.
    if (floor && items.length < config.itemLimit) {
      return { entries, rendered, plan, items, files: [], exact: false };
    }
    const scope = input.scope ?? { folder: "" };
    const files = input.itemsOnly ? [] : renderFeedFiles(assembleFeed(config, items, scope), scope);
    return { entries, rendered, plan, items, files, exact: true };
  }
}

function reusable(
  cached: RenderedEntry,
  entry: IndexEntry,
  chosen: { id: string; published: Date; updated: Date },
): boolean {
  return (
    cached.hash === entry.hash &&
    cached.item.id === chosen.id &&
    cached.item.published === chosen.published.toISOString() &&
    cached.item.updated === chosen.updated.toISOString()
  );
}

/** Sizes of the media files an article refers to (from the listing, else one HEAD each). */
async function mediaSizes(
  content: Storage,
  article: Article,
  listing: ReadonlyMap<string, number> | undefined,
): Promise<Map<string, number>> {
  const refs = [...(article.image ? [article.image] : []), ...(article.enclosures ?? []).map((e) => e.ref)];
  const keys = [
    ...new Set(refs.flatMap((ref) => mediaKeyOf(article.path, ref) ?? []).filter((key) => mediaType(key))),
  ];
  const sizes = new Map<string, number>();
  await Promise.all(
    keys.map(async (key) => {
      const size = listing ? listing.get(key) : (await content.head(key).catch(() => undefined))?.size;
      if (size !== undefined && size <= MAX_MEDIA_BYTES) sizes.set(key, size);
    }),
  );
  return sizes;
}

/**
 * Publishes media files under feeds/media/ (or removes them when their source is gone), copying
 * only what differs. Returns the keys written or deleted and the files refused.
 */
async function syncMedia(
  content: Storage,
  output: Storage,
  keys: readonly string[],
): Promise<{ written: string[]; problems: ArticleProblem[] }> {
  const written: string[] = [];
  const problems: ArticleProblem[] = [];
  await forEachLimited(keys, READ_CONCURRENCY, async (key) => {
    const target = `${MEDIA_PREFIX}${key}`;
    // A name the storage refuses (here or as published) is this file's problem, not the build's.
    const refused = mediaProblem(key, 0);
    if (refused) {
      problems.push(refused);
      return;
    }
    const problem = await orProblem(key, () => copyMedia(content, output, key, target, written));
    if (problem) problems.push(problem);
  });
  return { written: [...new Set(written)].sort(), problems };
}

/**
 * Copies one media file to (or removes it from) feeds/media/ until it matches its source;
 * returns its problem when it is too large to copy.
 */
async function copyMedia(
  content: Storage,
  output: Storage,
  key: string,
  target: string,
  written: string[],
): Promise<ArticleProblem | undefined> {
  let source = await content.head(key);
  // Another invocation may publish a newer version of the same file at the same time: after
  // acting, the source is looked at again, and the work redone if it changed meanwhile, so the
  // last write always matches a version of the source no older than the write.
  for (let round = 0; round < MAX_ATTEMPTS; round++) {
    const published = await output.head(target);
    if (!source) {
      if (published) {
        await output.delete(target);
        written.push(target);
      }
    } else if (source.size > MAX_MEDIA_BYTES) {
      return mediaProblem(key, source.size);
    } else if (!published || published.etag !== source.etag || published.size !== source.size) {
      const object = await content.get(key);
      if (object) {
        await output.put(target, object.body, {
          contentType: mediaType(key) ?? "application/octet-stream",
          cacheControl: MEDIA_CACHE_CONTROL,
        });
        written.push(target);
      }
    } else return undefined;
    const now = await content.head(key);
    if (now?.etag === source?.etag && now?.size === source?.size) return undefined;
    source = now;
  }
  return undefined;
}

async function fetchArticle(content: Storage, path: string): Promise<Article | ArticleProblem> {
  const object = await orProblem(path, () => content.get(path));
  if (object && "reason" in object) return object;
  if (!object) return { file: path, reason: "the file vanished while publishing" };
  if (object.size > MAX_ARTICLE_BYTES) return { file: path, reason: tooLargeReason(object.size) };
  return parseOrProblem(path, object.body);
}

interface LoadedIndex extends ParsedIndex {
  readonly etag?: string;
}

async function loadIndex(output: Storage, config: SiteConfig): Promise<LoadedIndex> {
  const object = await output.get(INDEX_KEY);
  return { ...parseIndex(object?.body, config), ...(object ? { etag: object.etag } : {}) };
}

/** Every catalog entry, for `feedpub status` and tests. */
export async function readCatalog(
  output: Storage,
  config: SiteConfig,
): Promise<{ index: FeedIndex; catalog: Catalog; state: IndexState }> {
  const loaded = await loadIndex(output, config);
  return { index: loaded.index, state: loaded.state, catalog: await loadCatalog(output, loaded, new Map()) };
}

/**
 * Writes the index, conditional on the version read so that no update is lost. Given the
 * previous index (a full rebuild), an index that would differ only in its time stamp is not
 * rewritten; an incremental change knows it changed something and skips that comparison.
 */
async function commitIndex(
  output: Storage,
  next: FeedIndex,
  etag: string | undefined,
  now: Date,
  unlessSameAs?: FeedIndex,
): Promise<boolean> {
  const generatedAt = now.toISOString();
  const body = serializeIndex({ ...next, generatedAt });
  if (unlessSameAs && etag !== undefined && body === serializeIndex({ ...unlessSameAs, generatedAt }))
    return false;
  await output.put(INDEX_KEY, body, {
    contentType: "application/json",
    cacheControl: "no-store",
    ...(etag === undefined ? { ifNoneMatch: "*" as const } : { ifMatch: etag }),
  });
  return true;
}

async function readListed(content: Storage, info: ObjectInfo, cache?: ArticleCache): Promise<ReadResult> {
  const cached = cache?.get(info.key);
  if (cached && cached.etag === info.etag) return cached.read;
  let read: ReadResult;
  if (info.size > MAX_ARTICLE_BYTES) {
    read = {
      result: { file: info.key, reason: tooLargeReason(info.size) },
      hash: `size:${info.size}:${info.etag}`,
    };
  } else {
    const object = await orProblem(info.key, () => content.get(info.key));
    if (object && "reason" in object) read = { result: object, hash: UNREADABLE };
    else if (object) {
      const result = parseOrProblem(info.key, object.body);
      // The parser already hashed the bytes (same SHA-1): hash again only what did not parse.
      read = { result, hash: "reason" in result ? sha1(object.body) : shortHash(result.hash) };
    } else read = { result: { file: info.key, reason: "the file vanished while reading" }, hash: "missing" };
  }
  // Keyed by the listing's ETag: if the bytes read were newer, the next listing differs anyway.
  cache?.set(info.key, { etag: info.etag, read });
  return read;
}

/** Reads and parses one listed article (used by `feedpub check`). */
export async function readArticle(content: Storage, info: ObjectInfo): Promise<Article | ArticleProblem> {
  return (await readListed(content, info)).result;
}

/** Parses one article, turning a parse failure into a problem that names the file. */
export function parseOrProblem(key: string, body: Uint8Array): Article | ArticleProblem {
  try {
    return parseArticle(key, body);
  } catch (error) {
    if (error instanceof ArticleError) {
      return {
        file: key,
        reason: boundedReason(error.message),
        ...(error.line !== undefined ? { line: error.line } : {}),
      };
    }
    // A parser library failing in a way we did not foresee is still this file's problem only.
    return { file: key, reason: boundedReason(`could not be read: ${(error as Error).message}`) };
  }
}

/**
 * A reason as the catalog keeps it: one line of at most MAX_REASON characters. Messages quote
 * values briefly already; this also bounds what a parser library puts in its own messages.
 */
function boundedReason(reason: string): string {
  const newline = reason.indexOf("\n");
  const line = (newline < 0 ? reason : reason.slice(0, newline)).trimEnd();
  return line.length > MAX_REASON ? `${cutUtf16(line, MAX_REASON - 1)}…` : line;
}

const MAX_REASON = 400;

/** 64 bits of SHA-1: tells versions of one file apart, at a fraction of the index's size. */
function sha1(bytes: Uint8Array): string {
  return shortHash(createHash("sha1").update(bytes).digest("hex"));
}

function shortHash(sha1Hex: string): string {
  return sha1Hex.slice(0, 16);
}

function sortProblems(problems: ArticleProblem[]): ArticleProblem[] {
  return problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.min(1000, 25 * 2 ** attempt) * (0.5 + Math.random());
  return new Promise((done) => setTimeout(done, ms));
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  run: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await run(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
