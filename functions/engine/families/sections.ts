import { sectionsOf } from "../../core/sections.ts";
import { keyedFamily } from "./keyed.ts";

/** One feed per folder under content/, to the configured depth, under feeds/sections/<path>/. */
export const sectionFeeds = keyedFamily({
  name: "sections",
  label: "Section",
  feedsOf: (_entry, path, config) => sectionsOf(path, config.sectionDepth),
});
