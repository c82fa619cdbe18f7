import { archiveFileKeys } from "../../core/archive.ts";
import type { SiteConfig } from "../../core/config.ts";
import type { Storage } from "../../storage/port.ts";
import { forEachLimited, READ_CONCURRENCY } from "../concurrency.ts";
import { monthEndOf, renderArchivePage } from "../families/archive.ts";
import { fileBytes, fileEtag } from "../file-bytes.ts";
import { mediaSizesOf } from "../media-sync.ts";
import { Needs, type OutputFile } from "../needs.ts";
import { fetchArticle } from "../observe.ts";
import type { Sources } from "../render.ts";
import { feedRef } from "../state/feed-state.ts";
import type { ArchiveRefs, FeedIndex } from "../state/head.ts";
import { putState } from "../store.ts";
import { FEED_CACHE_CONTROL, type Stores } from "../stores.ts";
import { monthMembers, monthParts } from "./merge.ts";

export interface ArchiveOutcome {
  readonly refs: ArchiveRefs;
  readonly nextChange: number;
  readonly written: string[];
  readonly unchanged: string[];
  /** The files of pages the old head had and this run has not. */
  readonly deletes: string[];
}

const MD5_ETAG = /^"[0-9a-f]{32}"$/;
/**
 * Archive pages made at once by the reduce: memory holds this many pages, and no more of the
 * groups' parts than MONTH_BYTES_AT_ONCE (a page takes a few times its parts' bytes to render).
 */
const MONTHS_AT_ONCE = 4;
const MONTH_BYTES_AT_ONCE = 48 * 1024 * 1024;

/**
 * Every archive page of the run, one month at a time (so memory holds one page): its members
 * over all groups, rendered from the items the groups rendered, written where the bytes differ
 * from what feeds/ holds, with its state object. The page before each is the month before it
 * among those with a page, as the archive family links them.
 */
export async function writeArchive(
  stores: Stores,
  input: {
    config: SiteConfig;
    now: Date;
    run: string;
    open: string;
    base: FeedIndex;
    published: { feeds: ReadonlyMap<string, string> };
  },
): Promise<ArchiveOutcome> {
  const { config, now } = input;
  const months = await monthParts(stores.output, input.run);
  const refs = new Map<string, ReturnType<typeof feedRef>>();
  const written: string[] = [];
  const unchanged: string[] = [];
  let nextChange = monthEndOf(input.open);
  const sorted = [...months];
  // Months in parallel, a few at a time (each holds one page): a page's link to the page before
  // it is known from the list of months, not from rendering that page.
  const largest = Math.max(1, ...sorted.map(([, parts]) => parts.bytes));
  const atOnce = Math.max(1, Math.min(MONTHS_AT_ONCE, Math.floor(MONTH_BYTES_AT_ONCE / largest)));
  await forEachLimited(sorted, atOnce, async ([month, { keys }], i) => {
    const before = sorted[i - 1]?.[0];
    const { members, rendered } = await monthMembers(stores.output, keys);
    const page = await renderLoading(stores.content, (sources) =>
      renderArchivePage({ config, now, month, before, members, rendered }, sources, true),
    );
    await forEachLimited(page.files, READ_CONCURRENCY, async (file) => {
      if (await writeIfChanged(stores.output, file, input.published.feeds)) written.push(file.key);
      else unchanged.push(file.key);
    });
    await putState(stores.output, page.serialized);
    const due = page.outcome.plan.nextChange?.getTime();
    refs.set(month, feedRef(month, page.serialized.name, due));
    if (due !== undefined) nextChange = Math.min(nextChange, due);
  });
  const pages = Object.fromEntries([...refs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const deletes = Object.keys(input.base.archive?.pages ?? {})
    .filter((month) => !(month in pages))
    .flatMap((month) => archiveFileKeys(month));
  return { refs: { open: input.open, pages }, nextChange, written, unchanged, deletes };
}

/** Renders with what is at hand, loading what is missing (an item the groups could not reuse) and again. */
async function renderLoading<T>(content: Storage, render: (sources: Sources) => T | undefined): Promise<T> {
  const articles = new Map();
  const sizes = new Map<string, number>();
  for (let round = 1; round <= 4; round++) {
    const needs = new Needs();
    const made = render({
      articles,
      mediaSize: (key) => sizes.get(key),
      mediaListed: false,
      memo: new Map(),
      needs,
    });
    if (made !== undefined) return made;
    await Promise.all([
      forEachLimited([...needs.articles], READ_CONCURRENCY, async (path) => {
        articles.set(path, await fetchArticle(content, path));
      }),
      mediaSizesOf(content, needs.media, sizes),
    ]);
  }
  throw new Error("an archive page kept needing more articles");
}

/** Writes a feed file unless the stored one (as listed) has the same bytes; true when written. */
export async function writeIfChanged(
  output: Storage,
  file: OutputFile,
  stored: ReadonlyMap<string, string>,
): Promise<boolean> {
  let current = stored.get(file.key);
  if (current !== undefined && !MD5_ETAG.test(current)) current = (await output.head(file.key))?.etag;
  if (current === fileEtag(file)) return false;
  await output.put(file.key, fileBytes(file), {
    contentType: file.contentType,
    cacheControl: FEED_CACHE_CONTROL,
  });
  return true;
}
