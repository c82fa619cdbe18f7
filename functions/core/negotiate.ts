/**
 * Browsers show `application/rss+xml` and `application/atom+xml` as plain text (or download them)
 * and apply a feed's XSLT stylesheet only to a generic XML type. A request that accepts HTML comes
 * from a browser, so it gets the same bytes as `application/xml`; feed readers, which ask for
 * feed types or anything, keep the registered type. Responses then vary by Accept.
 * The CloudFront function in infra/ applies this same rule at the edge (tested for parity).
 */
export function negotiatedType(contentType: string, accept: string | undefined): string {
  const isFeed = /^application\/(rss|atom)\+xml\b/i.test(contentType);
  if (!isFeed || !accept || !/(^|[\s,])text\/html\b/i.test(accept)) return contentType;
  return "application/xml; charset=utf-8";
}

/** Whether a response of this type depends on the Accept header (see negotiatedType). */
export function variesByAccept(contentType: string): boolean {
  return /^application\/(rss|atom)\+xml\b/i.test(contentType);
}

/**
 * The Content-Security-Policy of everything under feeds/: nothing may run or load but this
 * origin's own stylesheets, which is what the XSLT pages (script-src governs XSLT in Chromium)
 * and feed.css need. Item bodies are never rendered as markup in these pages.
 */
export const FEEDS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
