import type { SiteConfig } from "../core/config.ts";
import type { ArticleProblem } from "../core/errors.ts";
import type { Storage } from "../storage/port.ts";
import { indexProblems } from "./state/entry.ts";
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

/** Reads the status report out of the private index and its catalog. */
export async function readStatus(output: Storage, config: SiteConfig): Promise<PublishStatus> {
  const { index, catalog, state } = await readCatalog(output, config);
  if (state === "missing" || state === "unreadable")
    return { published: false, articles: 0, inFeeds: 0, rejected: [] };
  return {
    published: true,
    articles: Object.keys(catalog).length,
    inFeeds: Object.keys(index.rendered).length,
    // Media problems are as the last run that looked at the file found them (a full rebuild
    // looks at every one; an upload only at its own, when it changes an article too).
    rejected: [...indexProblems(catalog), ...mediaProblemsOf(index)].sort((a, b) =>
      a.file < b.file ? -1 : a.file > b.file ? 1 : 0,
    ),
    ...(index.generatedAt ? { lastRegeneration: index.generatedAt } : {}),
  };
}
