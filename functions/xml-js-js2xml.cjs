// The Lambda bundles alias "xml-js" to this file (infra/feed-publisher.ts): feed only calls js2xml, so sax stays out.
exports.js2xml = require("../node_modules/xml-js/lib/js2xml.js"); // not "xml-js/lib/…": the alias would remap it here
