/**
 * Language feeds: one per language the articles are written in (an article's `lang`, else the
 * site's), under feeds/lang/<tag>/. Tags are compared case-insensitively (BCP 47), so "en-GB" and
 * "en-gb" share a feed; the folder is the lower-case tag.
 */

/**
 * The tag in BCP 47's conventional case ("zh-Hant-TW"): case only, never ICU's alias mapping
 * ("iw" stays "iw"), so a feed's folder, and with it its URL and id, cannot move when a Node
 * release ships other locale data.
 */
export function canonicalLanguage(tag: string): string {
  return tag
    .split("-")
    .map((part, i) => {
      if (i === 0) return part.toLowerCase();
      if (part.length === 4 && /^[A-Za-z]{4}$/.test(part))
        return part[0]?.toUpperCase() + part.slice(1).toLowerCase();
      if (part.length === 2 && /^[A-Za-z]{2}$/.test(part)) return part.toUpperCase();
      return part.toLowerCase();
    })
    .join("-");
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
