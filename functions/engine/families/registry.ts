import { archivePages } from "./archive.ts";
import { authorFeeds } from "./authors.ts";
import type { Family } from "./family.ts";
import { languageFeeds } from "./languages.ts";
import { mainFeed } from "./main.ts";
import { sectionFeeds } from "./sections.ts";
import { tagFeeds } from "./tags.ts";

/**
 * The feed families, in the order the planner runs them: each sees what the ones before it
 * refused, and the main feed, last, links to the newest archive page and lists every feed on
 * the landing page. A new family is one file and one line here.
 */
export const FAMILIES: readonly Family[] = [
  archivePages,
  tagFeeds,
  authorFeeds,
  sectionFeeds,
  languageFeeds,
  mainFeed,
];
