import type { PlanEntry } from "./build.ts";
import type { SiteConfig } from "./config.ts";
import type { ArticleProblem } from "./errors.ts";
import { quote } from "./text.ts";
import { articleId } from "./urls.ts";

/**
 * Settles who owns an id, over entries in path order. An id derived from a path belongs to that
 * path's article; an id written in front matter belongs to the first article (by path) that
 * writes it, unless it is another article's derived id. Returns the refused claims by path.
 * Derived ids (a hash each) are only computed when some written id could be one of them.
 */
export function idClaims(entries: readonly PlanEntry[], config: SiteConfig): Map<string, ArticleProblem> {
  const refused = new Map<string, ArticleProblem>();
  const written = entries.filter((entry) => entry.id);
  if (written.length === 0) return refused;
  const claims = written.map((entry) => ({ entry, id: articleId(entry, config) }));
  // Readers compare ids as text, but a UUID is the same UUID in capitals.
  const uuidKey = (id: string) => (/^urn:uuid:/i.test(id) ? id.toLowerCase() : id);
  const derived = new Map<string, string>();
  // A written id that is not a URI is hashed apart from paths ("id:" against "path:").
  if (written.some((entry) => /^urn:uuid:/i.test(entry.id ?? "")))
    for (const entry of entries) if (!entry.id) derived.set(articleId(entry, config), entry.path);
  const owners = new Map<string, string>();
  for (const { entry, id } of claims) {
    const key = uuidKey(id);
    const owner = derived.get(key) ?? owners.get(key);
    if (owner && owner !== entry.path) {
      const reason = derived.has(key)
        ? `duplicate id ${quote(id)}: it is the id ${owner} has from its file path; give this article an id of its own`
        : `duplicate id ${quote(id)}: ${owner} already uses it`;
      refused.set(entry.path, { file: entry.path, reason });
      continue;
    }
    owners.set(key, entry.path);
  }
  return refused;
}
