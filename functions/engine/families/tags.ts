import { facetsOf } from "../../core/facets.ts";
import { keyedFamily } from "./keyed.ts";

/** One feed per tag (categories and keywords count as tags), under feeds/tags/<slug>/. */
export const tagFeeds = keyedFamily({
  name: "tags",
  label: "Tag",
  feedsOf: (entry) => facetsOf(entry.tags, []),
});
