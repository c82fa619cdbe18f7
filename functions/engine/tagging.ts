import type { SiteConfig } from "../core/config.ts";
import type { ObjectTag, Storage } from "../storage/port.ts";
import { forEachLimited } from "./concurrency.ts";
import type { EnginePlan } from "./planner.ts";
import type { Catalog, IndexEntry } from "./state/entry.ts";
import type { FeedIndex, ParsedIndex } from "./state/head.ts";
import { parseShard, shardOf } from "./state/shards.ts";
import { type ArticleOutcome, type FileOutcome, judgeCatalog } from "./status.ts";

/**
 * Object tags that tell an editor, where they upload, what became of an article:
 * `feedpub-status` (published, held or rejected) and `feedpub-reason`. The runners say which
 * articles' tags may be out of date and what they should say (a TagPlan, computed from the plan
 * without I/O); the handlers write them after the regeneration, best effort.
 *
 * Which articles: every key an upload read (uploading replaces an object's tags with the
 * uploader's, so they are looked at even when nothing else changed), every article a rebuild
 * found new or changed, and every other article whose outcome this run sees change: a scheduled
 * one that came due, an expired one, a duplicate id settled anew. Tags are read before they are
 * written, so the editor's own tags stay and a tag that is already right is not written again.
 */
export const STATUS_TAG = "feedpub-status";
export const REASON_TAG = "feedpub-reason";
/** Tags under this prefix are feedpub's: replaced at will. Every other tag is the editor's. */
const OWN_PREFIX = "feedpub-";
/** S3 allows ten tags per object. */
const MAX_TAGS = 10;
/** Half the reads' concurrency: each object costs one or two requests, none of them urgent. */
const TAG_CONCURRENCY = 16;
/** After this many failed objects the rest are skipped: a throttled bucket gets no storm. */
const MAX_FAILURES = 3;
/**
 * A rebuild looks again at articles that expired this long ago at most (after their version was
 * read). An upload judges only the main feed's candidates, so an old article that expires while
 * an upload commits is not seen by it; the next reconcile (daily by default) catches it.
 */
const EXPIRY_LOOKBACK_MS = 8 * 24 * 3600_000;

/** What a regeneration asks to be tagged; `error` when working it out failed (nothing is tagged). */
export interface TagPlan {
  readonly outcomes: readonly FileOutcome[];
  readonly error?: string;
}

/**
 * Worked out on first use, so that a build into a folder (which has no tags) never pays for it:
 * 0.1 to 0.3 s for a rebuild of 10,000 articles. Working it out never throws: a regeneration
 * that is committed already must not fail for its tags.
 */
class LazyTagPlan implements TagPlan {
  private settled?: { outcomes: readonly FileOutcome[]; error?: string };
  constructor(private readonly compute: () => FileOutcome[]) {}
  private settle(): { outcomes: readonly FileOutcome[]; error?: string } {
    if (!this.settled) {
      try {
        this.settled = { outcomes: this.compute() };
      } catch (error) {
        this.settled = { outcomes: [], error: `object tags not worked out: ${(error as Error).message}` };
      }
    }
    return this.settled;
  }
  get outcomes(): readonly FileOutcome[] {
    return this.settle().outcomes;
  }
  get error(): string | undefined {
    return this.settle().error;
  }
}

function sameOutcome(a: ArticleOutcome | undefined, b: ArticleOutcome): boolean {
  return a !== undefined && a.status === b.status && a.reason === b.reason;
}

/** The shards a plan names, decoded from the state objects it writes; undefined for one it keeps. */
function shardAfter(plan: EnginePlan, name: string): Record<string, IndexEntry> | undefined {
  if (name === "") return {};
  const object = plan.objects.find((candidate) => candidate.name === name);
  return object ? parseShard(Buffer.from(object.body, "utf8")) : undefined;
}

export interface UploadTagInput {
  readonly config: SiteConfig;
  readonly now: Date;
  /** The head the plan was made from. */
  readonly before: FeedIndex;
  readonly plan: EnginePlan;
  /** The catalog shards loaded for the plan, by slot, as they were before it. */
  readonly loaded: ReadonlyMap<number, Catalog>;
  /** The keys the upload read (a deleted key has nothing left to tag). */
  readonly keys: readonly string[];
  /**
   * Whether the plan is committed. Changes by the clock are reported by the run that commits:
   * the next run then judges from this run's time, so no change is reported twice, none lost.
   */
  readonly committed: boolean;
}

/**
 * An upload's tags: its keys, and the articles whose outcome changed between the head's time and
 * now among what the upload holds (the main feed's candidates, which include every scheduled
 * article and every written id, and the shards it rewrote, which include articles refused while
 * rendering). Costs a planFeed over a few hundred entries and the decoding of the new shards.
 */
export function uploadTags(input: UploadTagInput): TagPlan {
  return new LazyTagPlan(() => {
    const { before, plan, config } = input;
    const count = Math.max(1, before.shards.length);
    const earlier: Record<string, IndexEntry> = { ...before.candidates };
    const later: Record<string, IndexEntry> = { ...before.candidates, ...plan.head.candidates };
    for (const [slot, name] of plan.head.shards.entries()) {
      if (name === before.shards[slot]) continue;
      const after = shardAfter(plan, name);
      if (!after) continue;
      const old = input.loaded.get(slot) ?? {};
      Object.assign(earlier, old);
      for (const path in old) if (!(path in after)) delete later[path];
      Object.assign(later, after);
    }
    // Keys whose shard did not change (the same bytes again): their entry is as loaded.
    for (const key of input.keys) {
      const slot = shardOf(key, count);
      const entry =
        plan.head.shards[slot] === before.shards[slot] ? input.loaded.get(slot)?.[key] : undefined;
      if (entry) earlier[key] = later[key] = entry;
    }
    const since = before.generatedAt ? new Date(before.generatedAt) : input.now;
    const was = judgeCatalog(earlier, config, since).outcomes;
    const keys = new Set(input.keys);
    const out: FileOutcome[] = [];
    for (const [file, outcome] of judgeCatalog(later, config, input.now).outcomes) {
      const changed = input.committed && was.has(file) && !sameOutcome(was.get(file), outcome);
      if (keys.has(file) || changed) out.push({ file, ...outcome });
    }
    return out;
  });
}

/** What a rebuild judges its changes against: the catalog its first attempt loaded, and when. */
export interface TagBaseline {
  readonly catalog: Catalog;
  readonly at?: number;
  /**
   * False when the state was missing, unreadable or of an earlier layout. State of other settings
   * is trusted: the rebuild reads every article again, but the same bytes have the same outcome
   * (the comparison below catches the few a setting changes, such as a derived id's clash), so
   * a settings change does not look at the tags of the whole site.
   */
  readonly trusted: boolean;
}

export function tagBaseline(loaded: ParsedIndex, catalog: Catalog): TagBaseline {
  const at = loaded.index.generatedAt ? Date.parse(loaded.index.generatedAt) : undefined;
  return {
    catalog,
    ...(at !== undefined && Number.isFinite(at) ? { at } : {}),
    trusted: (loaded.state === "ok" || loaded.state === "settings-changed") && loaded.legacy === undefined,
  };
}

/** The whole catalog a full plan commits, decoded from its shards. */
function catalogAfter(plan: EnginePlan): Catalog {
  const catalog: Record<string, IndexEntry> = {};
  for (const name of plan.head.shards) Object.assign(catalog, shardAfter(plan, name) ?? {});
  return catalog;
}

/**
 * A rebuild's tags: every article it read (new, or another version than the catalog had; every
 * one when forced, the way to repair tags, or when the state was lost), every article whose outcome changed
 * since the baseline's time, and those that expired lately (see EXPIRY_LOOKBACK_MS). With
 * nothing changed, none: a reconcile of an unchanged site makes no tagging request.
 */
export function rebuildTags(
  baseline: TagBaseline | undefined,
  plan: EnginePlan,
  options: { config: SiteConfig; now: Date; force: boolean },
): TagPlan {
  return new LazyTagPlan(() => {
    const { config, now } = options;
    const after = catalogAfter(plan);
    const every = !baseline?.trusted || options.force;
    const was = every
      ? undefined
      : judgeCatalog(baseline.catalog, config, new Date(baseline.at ?? now.getTime()));
    const out: FileOutcome[] = [];
    for (const [file, outcome] of judgeCatalog(after, config, now).outcomes) {
      const entry = after[file] as IndexEntry;
      const before = baseline?.catalog[file];
      const read = !before || before.hash !== entry.hash || before.etag !== entry.etag;
      if (every || read || !sameOutcome(was?.outcomes.get(file), outcome) || expiredLately(entry, now))
        out.push({ file, ...outcome });
    }
    return out;
  });
}

function expiredLately(entry: IndexEntry, now: Date): boolean {
  const expiry = entry.expiryDate;
  return (
    expiry !== undefined &&
    expiry <= now.getTime() &&
    expiry > now.getTime() - EXPIRY_LOOKBACK_MS &&
    expiry > entry.changed
  );
}

/**
 * The tag set to write: the editor's tags as they are, then feedpub's two (only the status when
 * the editor's leave room for one more); "same" when feedpub's are already these, "full" when
 * the editor's take all ten places.
 */
export function mergeTags(
  current: readonly ObjectTag[],
  outcome: ArticleOutcome,
): ObjectTag[] | "same" | "full" {
  const others = current.filter((tag) => !tag.key.startsWith(OWN_PREFIX));
  const room = MAX_TAGS - others.length;
  if (room <= 0) return "full";
  const own = [
    { key: STATUS_TAG, value: outcome.status },
    { key: REASON_TAG, value: outcome.reason },
  ].slice(0, room);
  const mine = current.filter((tag) => tag.key.startsWith(OWN_PREFIX));
  const same =
    mine.length === own.length &&
    own.every((tag) => mine.some((m) => m.key === tag.key && m.value === tag.value));
  return same ? "same" : [...others, ...own];
}

/** What writing the tags did. */
export interface TaggingReport {
  readonly tagged: number;
  /** Objects whose tags were already right (one request each). */
  readonly unchanged: number;
  /** Objects deleted since the regeneration read them. */
  readonly gone: number;
  readonly failed: readonly { readonly file: string; readonly reason: string }[];
  /** Objects not tried: tagging stopped after repeated failures. */
  readonly skipped: number;
}

/**
 * Writes the planned tags through the storage's tagging, best effort: a failure is reported,
 * never thrown, and after MAX_FAILURES failed objects (or the first AccessDenied: a deployment
 * without the grant) the rest are skipped rather than retried; the SDK's own retries apply to
 * each request. The first object goes alone, and only if it succeeds do the others go several
 * at a time: a bucket that fails from the start sees the requests of MAX_FAILURES objects, one
 * that starts failing midway those of TAG_CONCURRENCY more at most. Tagging changes no ETag, so
 * no later rebuild reads an article again for it.
 */
export async function writeTags(content: Storage, plan: TagPlan): Promise<TaggingReport> {
  const tagging = content.tagging;
  const report = {
    tagged: 0,
    unchanged: 0,
    gone: 0,
    skipped: 0,
    failed: [] as { file: string; reason: string }[],
  };
  // A folder has no tags: the plan is not even worked out.
  if (!tagging) return report;
  let failures = 0;
  const tagOne = async ({ file, ...outcome }: FileOutcome): Promise<void> => {
    if (failures >= MAX_FAILURES) {
      report.skipped++;
      return;
    }
    try {
      const current = await tagging.read(file);
      const next = current === undefined ? undefined : mergeTags(current, outcome);
      if (next === undefined) report.gone++;
      else if (next === "same") report.unchanged++;
      else if (next === "full")
        report.failed.push({ file, reason: `it has ${MAX_TAGS} tags of its own: no room for ${STATUS_TAG}` });
      else if (await tagging.write(file, next)) report.tagged++;
      else report.gone++;
    } catch (error) {
      const denied = (error as Error).name === "AccessDenied";
      failures = denied ? MAX_FAILURES : failures + 1;
      report.failed.push({ file, reason: (error as Error).message || (error as Error).name });
    }
  };
  const [first, ...rest] = plan.outcomes;
  if (first) await tagOne(first);
  await forEachLimited(rest, failures ? 1 : TAG_CONCURRENCY, tagOne);
  return report;
}
