import type { Article } from "../core/article.ts";
import type { ArticleProblem } from "../core/errors.ts";
import { mediaWarnings } from "../core/media.ts";
import type { ArticleCache } from "../engine/publish.ts";
import type { Storage } from "../storage/port.ts";

/** Warnings for the local media files the articles name that are not in the listed keys. */
export function articleWarnings(
  articles: Iterable<Article>,
  keys: ReadonlySet<string>,
  folder: string,
): ArticleProblem[] {
  const warnings: ArticleProblem[] = [];
  for (const article of articles) warnings.push(...mediaWarnings(article, (key) => keys.has(key), folder));
  return warnings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/**
 * The same warnings after a build, for the articles it parsed (all of them on a first build or
 * with --force; those new or changed since otherwise): the build keeps no media names in its
 * state, and reading every unchanged article again would cost an incremental build its speed.
 * One more listing of the folder gives what exists now.
 */
export async function builtWarnings(
  content: Storage,
  cache: ArticleCache,
  folder: string,
): Promise<ArticleProblem[]> {
  const keys = new Set<string>();
  const articles: Article[] = [];
  for await (const info of content.list()) {
    keys.add(info.key);
    const cached = cache.get(info.key);
    if (cached && cached.etag === info.etag && !("reason" in cached.read.result))
      articles.push(cached.read.result);
  }
  return articleWarnings(articles, keys, folder);
}
