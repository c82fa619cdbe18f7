import { canonicalLanguage, languageKey, languageName } from "../../core/languages.ts";
import { keyedFamily } from "./keyed.ts";

/**
 * One feed per language the articles are written in, under feeds/lang/<tag>/: an article's own
 * `lang`, else the site's (whose feed is made only with `languageFeeds: true`). Each feed declares its language (RSS language, Atom xml:lang, JSON
 * Feed language) and is listed on the landing page by the language's name.
 */
export const languageFeeds = keyedFamily({
  name: "lang",
  label: "Language",
  feedsOf: (entry, _path, config) => {
    if (config.languageFeeds === "none") return [];
    const tag = canonicalLanguage(entry.language ?? config.language);
    const key = languageKey(tag);
    // By default the site's own language has no feed of its own: the main feed is mostly it,
    // and a single-language site would pay for a copy of its feed on every upload.
    if (config.languageFeeds === "auto" && key === languageKey(config.language)) return [];
    return [{ key, name: tag }];
  },
  display: (name, config) => languageName(name, config.language),
  language: (name) => name,
});
