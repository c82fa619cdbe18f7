/**
 * Browsers show `application/rss+xml` and `application/atom+xml` as plain text (or download them)
 * and apply a feed's XSLT stylesheet only to a generic XML type. A request that prefers HTML to
 * the feed's own type comes from a browser, so it gets the same bytes as `application/xml`; feed
 * readers, which ask for feed types or anything, keep the registered type. Responses then vary by
 * Accept. Preference follows RFC 9110 §12.5.1: the most specific range that matches a type gives
 * its q-value, q=0 means "not acceptable", and the higher q wins; on equal q, the type named by
 * the more specific range wins, then the one listed first (a tie of `*\/*` alone keeps the feed).
 * The CloudFront function in infra/ applies this same rule at the edge (tested for parity).
 */
export function negotiatedType(contentType: string, accept: string | undefined): string {
  if (!variesByAccept(contentType) || !accept) return contentType;
  const ranges = parseAccept(accept);
  const html = preference(ranges, "text", "html");
  const [type = "", subtype = ""] = (contentType.split(";")[0] ?? "").trim().toLowerCase().split("/");
  const feed = preference(ranges, type, subtype);
  return prefers(html, feed) ? "application/xml; charset=utf-8" : contentType;
}

/** Whether a response of this type depends on the Accept header (see negotiatedType). */
export function variesByAccept(contentType: string): boolean {
  return /^application\/(rss|atom)\+xml\b/i.test(contentType);
}

/** One media range of an Accept header: `*` for a wildcard, its weight and its place. */
export interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly q: number;
  readonly index: number;
}

/** RFC 9110 weight: 0 to 1 with at most three decimals. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * The media ranges of an Accept header, lower-cased. A malformed range (no `/`, a wildcard type
 * with a concrete subtype, a q that is not a weight) is dropped rather than guessed at.
 */
export function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const [index, element] of accept.split(",").entries()) {
    const [range = "", ...params] = element.split(";").map((part) => part.trim().toLowerCase());
    const [type = "", subtype = "", extra] = range.split("/");
    if (extra !== undefined || !TOKEN.test(type) || !TOKEN.test(subtype)) continue;
    if (type === "*" && subtype !== "*") continue;
    const weight = params.find((p) => /^q\s*=/.test(p))?.replace(/^q\s*=\s*/, "");
    if (weight !== undefined && !QVALUE.test(weight)) continue;
    ranges.push({ type, subtype, q: weight === undefined ? 1 : Number(weight), index });
  }
  return ranges;
}

/** How a request weighs one type: the q of the most specific range naming it, and that range. */
interface Preference {
  readonly q: number;
  readonly specificity: number;
  readonly index: number;
}

function preference(ranges: readonly MediaRange[], type: string, subtype: string): Preference {
  let best: Preference = { q: 0, specificity: -1, index: Number.POSITIVE_INFINITY };
  for (const range of ranges) {
    const specificity =
      range.type === type && range.subtype === subtype
        ? 2
        : range.type === type && range.subtype === "*"
          ? 1
          : range.type === "*"
            ? 0
            : -1;
    // The most specific match decides, even when its q is lower (`text/*, text/html;q=0`).
    if (specificity > best.specificity) best = { q: range.q, specificity, index: range.index };
  }
  return best;
}

/** Whether HTML wins over the feed type: higher q, else a more specific range, else listed first. */
function prefers(html: Preference, feed: Preference): boolean {
  if (html.q === 0 || html.q !== feed.q) return html.q > feed.q;
  if (html.specificity !== feed.specificity) return html.specificity > feed.specificity;
  return html.index < feed.index;
}

/**
 * The Content-Security-Policy of everything under feeds/: nothing may run or load but this
 * origin's own stylesheets, which is what the XSLT pages (script-src governs XSLT in Chromium)
 * and feed.css need. Item bodies are never rendered as markup in these pages.
 */
export const FEEDS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
