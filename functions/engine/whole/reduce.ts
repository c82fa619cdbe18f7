import { monthOf } from "../../core/archive.ts";
import { planFeed } from "../../core/build.ts";
import type { SiteConfig } from "../../core/config.ts";
import type { ArticleProblem } from "../../core/errors.ts";
import { PreconditionFailedError } from "../../storage/errors.ts";
import type { Storage } from "../../storage/port.ts";
import { backoff } from "../concurrency.ts";
import type { Family } from "../families/family.ts";
import { FAMILIES } from "../families/registry.ts";
import type { Observation } from "../planner.ts";
import { listPublished, type PublishReport, stateNames, writePlan } from "../rebuild.ts";
import { emptyLoaded, planToCompletion } from "../run-plan.ts";
import { type Catalog, comparePaths, planInputs } from "../state/entry.ts";
import { type FeedIndex, INDEX_KEY, withMediaProblems } from "../state/head.ts";
import { collectState, commitIndex, type LoadedIndex, loadIndex, STATE_GRACE_MS } from "../store.ts";
import type { Stores } from "../stores.ts";
import { type ArchiveOutcome, writeArchive } from "./archive-pages.ts";
import type { GroupResult } from "./group.ts";
import { groupResultKey, mediaPartKey } from "./layout.ts";
import { mergeCandidates } from "./merge.ts";
import { listKeys, readManifest, requireJson } from "./parts.ts";
import { reapplyPending } from "./pending.ts";
import { type GroupPlan, groupPlanKey } from "./plan.ts";

const MAX_COMMITS = 8;

export interface ReduceOptions {
  /** The clock of the uploads applied again after the commit (default: the real one). */
  readonly now?: Date;
  readonly stateGraceMs?: number;
}

/**
 * The reduce of a whole-site run: the archive pages month by month from the groups' members,
 * then the planner over the union of every feed's candidates (with the pages as the archive
 * family's part), the files that differ from what feeds/ holds, and the commit of the head with
 * the same conditional write as every regeneration. Uploads that came while the run was under
 * way are applied again on top of it.
 */
export async function reduceRun(
  stores: Stores,
  config: SiteConfig,
  run: string,
  options: ReduceOptions = {},
): Promise<PublishReport> {
  const { content, output } = stores;
  const manifest = await readManifest(output, run);
  const plan = await requireJson<GroupPlan>(output, groupPlanKey(run));
  const now = new Date(manifest.now);
  const base = await loadIndex(output, config);
  if (base.index.wholeSite && base.index.wholeSite.run !== run)
    throw new Error(`run ${run} was superseded by run ${base.index.wholeSite.run}: not committing`);
  const results = await groupResults(output, run, plan.groups);
  const media = await mediaOf(output, run);
  const published = await listPublished(output);
  const archive = await writeArchive(stores, {
    config,
    now,
    run,
    open: manifest.open,
    base: base.index,
    published,
  });
  const { union, rendered } = await mergeCandidates(output, run, plan.groups, config, now);
  const observed: Observation[] = Object.keys(union).map((key) => ({ key, kind: "listed" }));
  const parts = emptyLoaded();
  // Rendered items of the feeds' states may be of other settings: every feed is made from the union.
  for (const name of stateNames(base.index)) parts.states.set(name, null);
  const families: Family[] = [
    archiveFamily(archive),
    ...FAMILIES.filter((family) => family.name !== "archive"),
  ];
  const planned = await planToCompletion(
    {
      config,
      now,
      head: base.index,
      full: true,
      previous: union,
      observed,
      mediaListed: false,
      dirty: new Set(),
      memo: rendered,
      families,
    },
    parts,
    { content, output, head: base.index, tolerant: true },
  );
  const head = assembleHead(planned.head, results, plan, media.problems);
  const feedStates = {
    ...planned,
    objects: planned.objects.filter((object) => object.name.startsWith("f-")),
  };
  const written = await writePlan(output, feedStates, published.feeds, new Set());
  for (const key of archive.deletes) await output.delete(key);
  const retries = await commit(output, head, base, run, now);
  written.written.push(INDEX_KEY);
  const reapplied = await reapplyPending(stores, config, options.now);
  const cleanup = await collectState(output, head, options.stateGraceMs ?? STATE_GRACE_MS).then(
    () => undefined,
    (error: Error) => `old catalog shards could not be deleted: ${error.message}`,
  );
  return report({
    results,
    planned,
    media,
    archive,
    written,
    retries,
    reapplied,
    cleanup,
    plan,
    open: manifest.open,
    union,
    config,
    now,
  });
}

/** The planned head with the groups' catalog shards, counts and next change, and no claim. */
function assembleHead(
  planned: FeedIndex,
  results: readonly GroupResult[],
  plan: GroupPlan,
  mediaProblems: readonly ArticleProblem[],
): FeedIndex {
  const shards: string[] = new Array(plan.shards).fill("");
  for (const result of results) for (const [slot, name] of result.shards) shards[slot] = name;
  const counts = { articles: 0, problems: 0 };
  for (const result of results) {
    counts.articles += result.articles;
    counts.problems += result.problems.length;
  }
  const { wholeSite: _claim, ...rest } = withDue(planned, results);
  return withMediaProblems({ ...rest, shards, counts }, "all", mediaProblems);
}

/** The earliest of `planned` and every group's due (see GroupResult.due). */
function earliest(planned: number | undefined, results: readonly GroupResult[]): number | undefined {
  let min = planned ?? Number.POSITIVE_INFINITY;
  for (const result of results) min = Math.min(min, result.due ?? Number.POSITIVE_INFINITY);
  return Number.isFinite(min) ? min : undefined;
}

/** The head with the main feed's next change over every article, as a rebuild plans it. */
function withDue(head: FeedIndex, results: readonly GroupResult[]): FeedIndex {
  const nextChange = earliest(head.nextChange, results);
  // In place, so the head serialises with its keys in the order a rebuild gives them.
  if (nextChange !== undefined) return { ...head, nextChange };
  const { nextChange: _none, ...rest } = head;
  return rest;
}

/** The archive pages as the reduce made them, as the archive family's part of the plan. */
function archiveFamily(archive: ArchiveOutcome): Family {
  return {
    name: "archive",
    due: () => false,
    plan: () => ({
      complete: true,
      files: [],
      known: new Map(),
      deletes: [],
      states: [],
      head: { archive: archive.refs },
      nextChange: archive.nextChange,
      listed: [],
      readWhole: false,
    }),
  };
}

async function groupResults(output: Storage, run: string, groups: number): Promise<GroupResult[]> {
  const results: GroupResult[] = [];
  for (let group = 0; group < groups; group++)
    results.push(await requireJson<GroupResult>(output, groupResultKey(run, group)));
  return results;
}

/** The media the shuffle published: every key, what it wrote and the problems. */
async function mediaOf(
  output: Storage,
  run: string,
): Promise<{ keys: string[]; written: string[]; problems: ArticleProblem[] }> {
  const out = { keys: [] as string[], written: [] as string[], problems: [] as ArticleProblem[] };
  const prefix = mediaPartKey(run, "");
  for (const key of await listKeys(output, prefix)) {
    const part = await requireJson<typeof out>(output, key);
    out.keys.push(...part.keys);
    out.written.push(...part.written);
    out.problems.push(...part.problems);
  }
  return out;
}

/**
 * Commits the head, conditional on the version read: another invocation that committed meanwhile
 * (an upload against the old state) is applied again after this commit, from its note.
 */
async function commit(
  output: Storage,
  head: FeedIndex,
  base: LoadedIndex,
  run: string,
  now: Date,
): Promise<number> {
  let etag = base.etag;
  for (let attempt = 1; ; attempt++) {
    try {
      await commitIndex(output, head, etag, now);
      return attempt - 1;
    } catch (error) {
      if (!(error instanceof PreconditionFailedError) || attempt >= MAX_COMMITS) throw error;
      await backoff(attempt);
      const object = await output.get(INDEX_KEY);
      const claim = object
        ? (JSON.parse(Buffer.from(object.body).toString("utf8")) as FeedIndex).wholeSite
        : undefined;
      if (claim && claim.run !== run)
        throw new Error(`run ${run} was superseded by run ${claim.run}: not committing`);
      etag = object?.etag;
    }
  }
}

interface ReportInput {
  readonly results: readonly GroupResult[];
  readonly planned: Awaited<ReturnType<typeof planToCompletion>>;
  readonly media: { written: string[]; problems: ArticleProblem[] };
  readonly archive: ArchiveOutcome;
  readonly written: { written: string[]; unchanged: string[] };
  readonly retries: number;
  readonly reapplied: number;
  readonly cleanup: string | undefined;
  readonly plan: GroupPlan;
  readonly open: string;
  readonly union: Catalog;
  readonly config: SiteConfig;
  readonly now: Date;
}

function report(input: ReportInput): PublishReport {
  const { results, planned, media, archive, written } = input;
  const seen = new Set<string>();
  const problems: ArticleProblem[] = [];
  for (const problem of [
    ...results.flatMap((result) => result.problems),
    ...planned.problems,
    ...media.problems,
  ]) {
    const id = `${problem.file}\u0000${problem.reason}`;
    if (!seen.has(id)) {
      seen.add(id);
      problems.push(problem);
    }
  }
  problems.sort((a, b) => comparePaths(a.file, b.file));
  const due = earliest(planned.nextChange?.getTime(), results);
  const next = due === undefined ? undefined : new Date(due);
  const withIds = Object.fromEntries(
    Object.entries(input.union).filter(([, entry]) => entry.id !== undefined),
  );
  const claimed = planFeed({ config: input.config, now: input.now, ...planInputs(withIds) }).chosen;
  const isPublic = results.reduce((sum, result) => sum + result.public, claimed.length);
  const archived = results.reduce(
    (sum, result) => sum + result.archived,
    claimed.filter((item) => monthOf(item.published.getTime()) < input.open).length,
  );
  const inFeedOpen = planned.head.rendered
    ? Object.values(planned.head.rendered).filter((item) => item.item.published.slice(0, 7) >= input.open)
        .length
    : 0;
  return {
    ...(input.cleanup ? { cleanup: input.cleanup } : {}),
    articles: input.plan.articles,
    read: input.plan.articles,
    published: isPublic,
    inFeed: planned.published,
    archived,
    waiting: Math.max(0, isPublic - archived - inFeedOpen),
    problems,
    // Held-back dates came through JSON: Dates again, as a rebuild reports them.
    held: results
      .flatMap((result) => result.held)
      .map((held) => (held.until === undefined ? held : { ...held, until: new Date(held.until) }))
      .sort((a, b) => comparePaths(a.file, b.file)),
    // As a rebuild lists them: media, then the plan's files (main feed first), then the pages.
    written: [...media.written, ...written.written, ...archive.written.sort(comparePaths)],
    unchanged: [...written.unchanged, ...archive.unchanged.sort(comparePaths)],
    retries: input.retries,
    ...(next ? { nextChange: next } : {}),
    tags: { outcomes: [] },
  };
}
