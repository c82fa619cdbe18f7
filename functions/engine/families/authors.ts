import { facetsOf } from "../../core/facets.ts";
import { keyedFamily } from "./keyed.ts";

/** One feed per author an article names, under feeds/authors/<slug>/. */
export const authorFeeds = keyedFamily({
  name: "authors",
  label: "Author",
  feedsOf: (entry) => facetsOf([], entry.authors),
});
