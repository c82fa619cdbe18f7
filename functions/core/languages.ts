/**
 * Language feeds: one per language the articles are written in (an article's `lang`, else the
 * site's), under feeds/lang/<tag>/. Tags are compared case-insensitively (BCP 47), so "en-GB" and
 * "en-gb" share a feed; the folder is the lower-case tag.
 */

/** The tag in its canonical case ("zh-Hant-TW"), or as written (lower-cased) if ICU refuses it. */
export function canonicalLanguage(tag: string): string {
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? tag.toLowerCase();
  } catch {
    return tag.toLowerCase();
  }
}

export function languageKey(tag: string): string {
  return `lang/${canonicalLanguage(tag).toLowerCase()}`;
}

/**
 * A language's name for the landing page and the feed title: in its own language, with the
 * site's name for it when that differs ("한국어 (Korean)"); the tag itself when ICU has no name.
 */
export function languageName(tag: string, siteLanguage: string): string {
  const canonical = canonicalLanguage(tag);
  const own = displayName(canonical, canonical);
  const site = displayName(canonical, siteLanguage);
  if (!own && !site) return canonical;
  if (!own || !site || own === site) return own ?? site ?? canonical;
  return `${own} (${site})`;
}

function displayName(tag: string, inLanguage: string): string | undefined {
  try {
    const name = new Intl.DisplayNames([inLanguage], { type: "language", fallback: "none" }).of(tag);
    return name && name !== tag ? name : undefined;
  } catch {
    return undefined;
  }
}
