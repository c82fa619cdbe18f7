import { planFeed } from "../core/build.ts";
import type { SiteConfig } from "../core/config.ts";
import type { ArticleProblem } from "../core/errors.ts";
import type { Storage } from "../storage/port.ts";
import { type Catalog, indexProblems, planInputs } from "./state/entry.ts";
import { mediaProblemsOf } from "./state/head.ts";
import { readCatalog } from "./store.ts";

/** What editors need to know: what was rejected and why, and when the feeds last changed. */
export interface PublishStatus {
  /** False when nothing has been published yet (no index). */
  readonly published: boolean;
  readonly articles: number;
  readonly inFeeds: number;
  readonly rejected: readonly ArticleProblem[];
  /** When the last regeneration that changed anything finished (ISO 8601). */
  readonly lastRegeneration?: string;
}

/**
 * The articles the feeds refuse for what only the whole catalog shows (a duplicate id): the
 * catalog does not record them, since the rebuild decides them at render time with planFeed over
 * the same entries, so they are decided here the same way.
 */
function planProblems(catalog: Catalog, config: SiteConfig, now: Date): readonly ArticleProblem[] {
  return planFeed({ config, now, ...planInputs(catalog) }).problems;
}

/** Reads the status report out of the private index and its catalog. */
export async function readStatus(
  output: Storage,
  config: SiteConfig,
  now = new Date(),
): Promise<PublishStatus> {
  const { index, catalog, state } = await readCatalog(output, config);
  if (state === "missing" || state === "unreadable")
    return { published: false, articles: 0, inFeeds: 0, rejected: [] };
  return {
    published: true,
    articles: Object.keys(catalog).length,
    inFeeds: Object.keys(index.rendered).length,
    // Media problems are as the last run that looked at the file found them (a full rebuild
    // looks at every one; an upload only at its own, when it changes an article too).
    rejected: [
      ...indexProblems(catalog),
      ...planProblems(catalog, config, now),
      ...mediaProblemsOf(index),
    ].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)),
    ...(index.generatedAt ? { lastRegeneration: index.generatedAt } : {}),
  };
}
