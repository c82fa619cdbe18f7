import type { SiteConfig } from "../core/config.ts";
import type { ArticleProblem } from "../core/errors.ts";
import { mediaType } from "../core/media.ts";
import { sourceKind } from "../core/parse.ts";
import { PreconditionFailedError } from "../storage/errors.ts";
import { backoff } from "./concurrency.ts";
import { fileBytes } from "./file-bytes.ts";
import { syncMedia } from "./media-sync.ts";
import { movedSince, observeKeys, type ParseMemo } from "./observe.ts";
import { publishAll } from "./rebuild.ts";
import { emptyLoaded, planToCompletion } from "./run-plan.ts";
import type { RenderedEntry } from "./state/entry.ts";
import { INDEX_KEY, withMediaProblems } from "./state/head.ts";
import { CATALOG_PREFIX, shardOf } from "./state/shards.ts";
import {
  CorruptStateError,
  commitIndex,
  type LoadedIndex,
  loadIndex,
  loadShards,
  putState,
  StaleIndexError,
  withImmutableReads,
} from "./store.ts";
import { FEED_CACHE_CONTROL, type Stores } from "./stores.ts";
import { type TagPlan, uploadTags } from "./tagging.ts";
import { notePending } from "./whole/pending.ts";
import { liveClaim, type RunStarter, startWholeSite, wholeSiteReason } from "./whole/start.ts";

export interface ApplyReport {
  /** Whether the index changed (and so the feeds were regenerated). */
  readonly changed: boolean;
  readonly written: readonly string[];
  /** Problems of the articles named in this change. */
  readonly problems: readonly ArticleProblem[];
  readonly retries: number;
  /** Whether the planning candidates ran out and every catalog shard had to be read. */
  readonly readWholeCatalog: boolean;
  /** The object tags to write for the editors (the handler writes them, best effort). */
  readonly tags: TagPlan;
}

/** Incremental retries are cheap (one index read), so a busy queue may take more of them. */
const MAX_APPLY_ATTEMPTS = 20;

/** A key this invocation committed changed meanwhile. */
class ContentMovedError extends Error {
  constructor() {
    super("an article changed while it was being published");
    this.name = "ContentMovedError";
  }
}

/**
 * Incremental regeneration for a set of changed keys (creates, edits and deletes alike). Each
 * attempt reads the index, then each key's current state (never trusting event order, and never
 * committing an older version than the one it replaces) and the keys' catalog shards; the planner
 * says what else it needs (feed states, bodies of items not cached, the whole catalog when
 * candidates run out) and then what to write. Feeds and state objects are written before the
 * index, which is committed with a conditional write: the invocation that commits last always
 * leaves feeds matching the committed index. A lost race starts again from the new index, and
 * rewrites every file the losing attempt wrote.
 */
export async function applyChanges(
  options: Stores & { config: SiteConfig; keys: readonly string[]; now?: Date; wholeSite?: RunStarter },
): Promise<ApplyReport> {
  const { content, config } = options;
  // State objects are content-addressed and never rewritten: a retry reads each one once.
  const output = withImmutableReads(options.output, CATALOG_PREFIX);
  const keys = [...new Set(options.keys)].filter((key) => sourceKind(key));
  // Media beside articles are copied to (or removed from) feeds/media/ first: no state involved.
  const mediaKeys = [...new Set(options.keys)].filter((key) => !sourceKind(key) && mediaType(key));
  const media = await syncMedia(content, output, mediaKeys);
  const run: Run = { parses: new Map(), memo: new Map(), dirty: new Set(), committed: [] };
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
      tags: report.tags,
    };
  };
  for (let attempt = 1; ; attempt++) {
    try {
      const outcome = await attemptOnce({ ...options, output, keys, mediaKeys, media }, run, attempt);
      if (outcome === "rebuild") return await fullRebuild();
      return outcome;
    } catch (error) {
      // Unreadable state: only a full rebuild can restore it.
      if (error instanceof CorruptStateError) return fullRebuild();
      // A key changed after this invocation read and committed it: once more, at once.
      if (error instanceof ContentMovedError && attempt < MAX_APPLY_ATTEMPTS) continue;
      // Another invocation committed first (or replaced a state object this one was reading).
      const raced = error instanceof PreconditionFailedError || error instanceof StaleIndexError;
      if (raced && attempt < MAX_APPLY_ATTEMPTS) {
        await backoff(attempt);
        continue;
      }
      throw error;
    }
  }
}

/**
 * With the state machine at hand, whole-site work never runs in an upload's invocation: a head
 * that calls for it (new settings, none, unreadable, a run that timed out) starts a run, once;
 * while a run owns the head, each upload leaves a note for its reduce and is applied against
 * the state there is (with no usable state, only noted): uploads keep flowing.
 */
async function wholeSiteGate(
  input: AttemptInput,
  loaded: LoadedIndex,
  now: Date,
  attempt: number,
): Promise<"apply" | ApplyReport> {
  const claim = liveClaim(loaded, now);
  if (!claim) {
    const reason = wholeSiteReason(loaded, now);
    if (reason === undefined) return "apply";
    await startWholeSite(input.output, input.config, loaded, {
      reason,
      now,
      start: input.wholeSite as RunStarter,
    });
    // The run owns the head now: read it again, as it stands.
    throw new PreconditionFailedError(INDEX_KEY);
  }
  await notePending(input, input.keys);
  if (!claim.blind && loaded.state !== "missing" && loaded.state !== "unreadable" && !loaded.legacy)
    return "apply";
  return {
    changed: false,
    written: input.media.written,
    problems: input.media.problems,
    retries: attempt - 1,
    readWholeCatalog: false,
    tags: { outcomes: [] },
  };
}

/** What the attempts of one applyChanges share. */
interface Run {
  /** Articles parsed in an earlier attempt, by key and hash. */
  readonly parses: ParseMemo;
  readonly memo: Map<string, RenderedEntry>;
  /**
   * Files written (or deleted) by attempts that then lost the commit: another invocation may have
   * written newer bytes just before, so the next attempt writes them again from the index it
   * commits, even if it finds nothing else to do.
   */
  readonly dirty: Set<string>;
  /** What earlier attempts committed (an attempt that commits goes round again if a key moved). */
  readonly committed: string[];
}

type AttemptInput = Stores & {
  config: SiteConfig;
  /** Starts whole-site work on the state machine instead of rebuilding in this invocation. */
  wholeSite?: RunStarter;
  keys: readonly string[];
  mediaKeys: readonly string[];
  media: { written: string[]; problems: ArticleProblem[] };
  now?: Date;
};

async function attemptOnce(input: AttemptInput, run: Run, attempt: number): Promise<ApplyReport | "rebuild"> {
  const { content, output, config, keys, media } = input;
  const loaded = await loadIndex(output, config);
  const { index, state } = loaded;
  // The clock is read after the index: a retry must not plan with a time older than the
  // first-seen dates that other invocations wrote meanwhile.
  const now = input.now ?? new Date();
  if (input.wholeSite) {
    const gate = await wholeSiteGate(input, loaded, now, attempt);
    if (gate !== "apply") return gate;
  }
  // No usable index (a new bucket, lost state, an earlier layout), or new settings (every item of
  // every feed changes): only a full rebuild, which reads the articles concurrently, will do.
  else if (state !== "ok" || loaded.legacy) return "rebuild";
  const parts = emptyLoaded();
  const count = Math.max(1, index.shards.length);
  // The keys are read after the index, in every attempt: the commit below succeeds only if no
  // other invocation committed since the index was read, and everything that one committed was
  // read before that, so what this one commits is never older than what it replaces.
  const [observed] = await Promise.all([
    observeKeys(content, keys, run.parses),
    loadShards(output, index, new Set(keys.map((key) => shardOf(key, count))), parts.shards),
  ]);
  const plan = await planToCompletion(
    { config, now, head: index, full: false, observed, mediaListed: false, dirty: run.dirty, memo: run.memo },
    parts,
    { content, output, head: index, tolerant: false },
  );
  const readKeys = observed.flatMap((seen) => (seen.kind === "read" ? [seen.key] : []));
  const tagging = { config, now, before: index, plan, loaded: parts.shards, keys: readKeys };
  const done = (changed: boolean): ApplyReport => ({
    changed,
    written: [...media.written, ...new Set(run.committed)],
    problems: [...plan.problems, ...media.problems],
    retries: attempt - 1,
    readWholeCatalog: plan.readWholeCatalog,
    tags: uploadTags({ ...tagging, committed: changed }),
  });
  if (!plan.changed) {
    // Nothing to do, as far as this index knows. If another invocation committed since it was
    // read, that one may have read these keys before they took the state seen here: look again.
    if (observed.length && (await output.head(INDEX_KEY))?.etag !== loaded.etag)
      throw new PreconditionFailedError(INDEX_KEY);
    return done(false);
  }
  // Having lost a race already, look before writing: if another invocation committed meanwhile,
  // start again now rather than write files this attempt could not commit.
  if (attempt > 1 && (await output.head(INDEX_KEY))?.etag !== loaded.etag)
    throw new PreconditionFailedError(INDEX_KEY);
  const written = [...plan.writes.map((file) => file.key), ...plan.deletes];
  for (const key of written) run.dirty.add(key);
  await Promise.all([
    ...plan.objects.filter((object) => !plan.kept.has(object.name)).map((object) => putState(output, object)),
    ...plan.writes.map((file) =>
      output.put(file.key, fileBytes(file), {
        contentType: file.contentType,
        cacheControl: FEED_CACHE_CONTROL,
      }),
    ),
    ...plan.deletes.map((key) => output.delete(key)),
  ]);
  const head = withMediaProblems(plan.head, input.mediaKeys, media.problems);
  if (await commitIndex(output, head, loaded.etag, now)) written.push(INDEX_KEY);
  // Committed. If a key changed after it was read here, the invocation that handles that change
  // may have read the index before this commit and found nothing to do: go round once more.
  run.dirty.clear();
  run.committed.push(...written);
  if (attempt < MAX_APPLY_ATTEMPTS && (await movedSince(content, observed))) throw new ContentMovedError();
  return done(true);
}
