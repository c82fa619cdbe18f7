import { createHash } from "node:crypto";
import { cutUtf16 } from "./text.ts";

/**
 * Per-tag and per-author feeds ("facets"). Each facet is a feed of its own under a predictable
 * path, feeds/tags/<slug>/ or feeds/authors/<slug>/, holding the newest articles with that tag or
 * by that author. Tags that differ only in case, accents or punctuation share a slug, and so a feed.
 */
export type FacetKind = "tags" | "authors";

export interface Facet {
  /** "tags/<slug>" or "authors/<slug>": the feed's folder under feeds/ and its key in the index. */
  readonly key: string;
  readonly kind: FacetKind;
  /** The tag or author name as first written. */
  readonly name: string;
}

const MAX_SLUG = 60;

/**
 * A URL- and file-safe slug: lower case, accents dropped, letters and digits of any script kept,
 * everything else a single "-". A name with nothing left (say, only emoji) gets a short hash.
 */
export function slugify(name: string): string {
  const full = name
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "");
  // Cut on a code point, never inside a surrogate pair (astral letters: CJK Extension B, Adlam).
  const slug = cutUtf16(full, MAX_SLUG).replace(/-+$/, "");
  return slug || `x${createHash("sha1").update(name).digest("hex").slice(0, 8)}`;
}

export function facetKey(kind: FacetKind, name: string): string {
  return `${kind}/${slugify(name)}`;
}

/** The facets an article belongs to, from its tags and the authors it names. */
export function facetsOf(tags: readonly string[] = [], authors: readonly string[] = []): Facet[] {
  const out = new Map<string, Facet>();
  for (const name of tags) {
    const key = facetKey("tags", name);
    if (!out.has(key)) out.set(key, { key, kind: "tags", name });
  }
  for (const name of authors) {
    const key = facetKey("authors", name);
    if (!out.has(key)) out.set(key, { key, kind: "authors", name });
  }
  return [...out.values()];
}

/** Where a facet's files live, relative to feeds/. */
export function facetFolder(key: string): string {
  return `${key}/`;
}
