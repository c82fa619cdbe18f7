import { slugify } from "./facets.ts";

/**
 * Section feeds, as Hugo makes one per section: the folders an article sits in under content/,
 * from the top down to `depth` levels. "world/asia/seoul-report.md" at depth 2 is in the sections
 * "world" and "world/asia"; a file at the top of content/ is in none. Each folder name is
 * slugged like a tag, so the feed paths are safe whatever the uploader named the folders.
 */
export interface Section {
  /** "sections/world/asia": the feed's folder under feeds/ and its key in the head. */
  readonly key: string;
  /** The folders as written: "world/asia". */
  readonly name: string;
}

export function sectionsOf(path: string, depth: number): Section[] {
  const folders = path.split("/").slice(0, -1);
  const out: Section[] = [];
  for (let level = 1; level <= Math.min(depth, folders.length); level++) {
    const written = folders.slice(0, level);
    out.push({ key: `sections/${written.map(slugify).join("/")}`, name: written.join("/") });
  }
  return out;
}
