/**
 * The engine's public face: what handlers, the CLI and tests call. Everything behind it is laid
 * out in ARCHITECTURE.md: the planner (planner.ts) and its families (families/), the state
 * codecs (state/), and the runners that load, write and commit (apply.ts, rebuild.ts).
 */
export { type ApplyReport, applyChanges } from "./apply.ts";
export { type ArticleCache, parseOrProblem, readArticle } from "./observe.ts";
export { type PublishOptions, type PublishReport, publishAll } from "./rebuild.ts";
export { INDEX_KEY } from "./state/head.ts";
export { CATALOG_PREFIX } from "./state/shards.ts";
export { readCatalog } from "./store.ts";
export { CONTENT_PREFIX, FEED_CACHE_CONTROL, type Stores } from "./stores.ts";
export { MAP_REDUCE_MIN, publishSite, type SiteOptions } from "./whole/site.ts";
