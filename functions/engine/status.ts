import { type HeldBack, planFeed } from "../core/build.ts";
import type { SiteConfig } from "../core/config.ts";
import type { ArticleProblem } from "../core/errors.ts";
import type { Storage } from "../storage/port.ts";
import { type Catalog, comparePaths, indexProblems, planInputs } from "./state/entry.ts";
import { mediaProblemsOf } from "./state/head.ts";
import { readCatalog } from "./store.ts";

/** What editors need to know: what was rejected and why, and when the feeds last changed. */
export interface PublishStatus {
  /** False when nothing has been published yet (no index). */
  readonly published: boolean;
  readonly articles: number;
  readonly inFeeds: number;
  readonly rejected: readonly ArticleProblem[];
  /** Every article's outcome, in path order: what its S3 tags say (see tagging.ts). */
  readonly files: readonly FileOutcome[];
  /** When the last regeneration that changed anything finished (ISO 8601). */
  readonly lastRegeneration?: string;
}

/** Where an article stands: public, held back by its own dates or draft flag, or refused. */
export type ArticleStatus = "published" | "held" | "rejected";

/** An article's status and why, in words that fit an S3 tag value as they are. */
export interface ArticleOutcome {
  readonly status: ArticleStatus;
  readonly reason: string;
}

export interface FileOutcome extends ArticleOutcome {
  readonly file: string;
}

/**
 * Published means public: in the main feed, or (older than its newest items) in the tag, author
 * and archive feeds. The reason does not say which, on purpose: it would change for an article
 * that no upload touched whenever a newer one pushes it out of the main feed, and each such
 * change would cost the upload two more requests to retag it.
 */
export const PUBLISHED_REASON = "public: in the feeds or archive pages";
/** S3 counts a tag value's length in Unicode characters. */
const MAX_TAG_VALUE = 256;

/**
 * The text as an S3 tag value: S3 allows letters, digits, spaces and `+ - = . _ : / @` only, so
 * quotation marks are dropped and every run of other characters (commas, brackets, control
 * characters) becomes one space; at most 256 characters. `feedpub status --files` prints the
 * same text, so both read alike.
 */
export function tagText(text: string): string {
  const safe = text
    .normalize("NFC")
    .replace(/["'`\u2018\u2019\u201c\u201d\u00ab\u00bb]/g, "")
    .replace(/[^\p{L}\p{N} _.:/=+@-]+/gu, " ")
    .replace(/ {2,}/g, " ")
    .trim();
  const points = Array.from(safe);
  return points.length <= MAX_TAG_VALUE ? safe : points.slice(0, MAX_TAG_VALUE).join("").trimEnd();
}

/** An instant to the second (feedpub's dates have no finer meaning for an editor). */
function instant(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function heldReason(held: HeldBack): string {
  if (held.reason === "draft") return "draft";
  const when = held.until ? ` ${instant(held.until)}` : "";
  return held.reason === "scheduled" ? `scheduled until${when}` : `expired since${when}`;
}

function rejectedReason(problem: ArticleProblem): string {
  return `${problem.line !== undefined ? `line ${problem.line}: ` : ""}${problem.reason}`;
}

/**
 * The one definition of every article's outcome, behind both the object tags and `feedpub
 * status`: refused by its own problem or by a clash the catalog shows (a duplicate id, decided
 * by planFeed as the feeds decide it), held back (draft, scheduled, expired), or published.
 * Pure: the catalog (or the part of it a run holds), the settings and the clock.
 */
export function judgeCatalog(
  catalog: Catalog,
  config: SiteConfig,
  now: Date,
): { problems: ArticleProblem[]; outcomes: Map<string, ArticleOutcome> } {
  const plan = planFeed({ config, now, ...planInputs(catalog) });
  const problems = [...indexProblems(catalog), ...plan.problems].sort((a, b) => comparePaths(a.file, b.file));
  const outcomes = new Map<string, ArticleOutcome>();
  for (const problem of problems)
    outcomes.set(problem.file, { status: "rejected", reason: tagText(rejectedReason(problem)) });
  for (const held of plan.held)
    outcomes.set(held.file, { status: "held", reason: tagText(heldReason(held)) });
  for (const path of Object.keys(catalog).sort(comparePaths))
    if (!outcomes.has(path)) outcomes.set(path, { status: "published", reason: PUBLISHED_REASON });
  return { problems, outcomes };
}

/** Reads the status report out of the private index and its catalog. */
export async function readStatus(
  output: Storage,
  config: SiteConfig,
  now = new Date(),
): Promise<PublishStatus> {
  const { index, catalog, state } = await readCatalog(output, config);
  if (state === "missing" || state === "unreadable")
    return { published: false, articles: 0, inFeeds: 0, rejected: [], files: [] };
  const { problems, outcomes } = judgeCatalog(catalog, config, now);
  return {
    published: true,
    articles: Object.keys(catalog).length,
    inFeeds: Object.keys(index.rendered).length,
    // Media problems are as the last run that looked at the file found them (a full rebuild
    // looks at every one; an upload only at its own, when it changes an article too).
    rejected: [...problems, ...mediaProblemsOf(index)].sort((a, b) => comparePaths(a.file, b.file)),
    files: [...outcomes]
      .map(([file, outcome]) => ({ file, ...outcome }))
      .sort((a, b) => comparePaths(a.file, b.file)),
    ...(index.generatedAt ? { lastRegeneration: index.generatedAt } : {}),
  };
}
