// The Lambda bundles alias "js-yaml" to this file (infra/feed-publisher.ts): only the loader is
// used, and js-yaml's own entry always carries the YAML writer too. Relative paths on purpose:
// the alias would remap "js-yaml/lib/…" back to this file.
exports.load = require("../node_modules/js-yaml/lib/loader.js").load;
exports.CORE_SCHEMA = require("../node_modules/js-yaml/lib/schema/core.js");
exports.Type = require("../node_modules/js-yaml/lib/type.js");
exports.YAMLException = require("../node_modules/js-yaml/lib/exception.js");
