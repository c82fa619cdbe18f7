/**
 * Workarounds for how the `feed` package (through xml-js) writes values, checked against its
 * 6.0.0 output:
 * - plain text nodes first turn every "&amp;" back into "&" and then escape, so a literal
 *   "&amp;" in a title would be lost: escaping "&" beforehand keeps it;
 * - attributes escape only the double quote, and feed pre-escapes "&" itself, so values put in
 *   attributes (category terms) must not contain "<" (the parser strips it from tags);
 * - CDATA sections only split the first "]]>", so CDATA values must not contain it: sanitised
 *   HTML and HTML-escaped text never do.
 */
export function forTextNode(value: string): string {
  return value.replace(/&/g, "&amp;");
}
