import type { FeedModel } from "../model.ts";
import { escapeHtml } from "../text.ts";

/**
 * The language to mark on each item (by index), where the article's differs from the feed's:
 * BCP 47 tags compare without regard to case ("en-GB" is "en-gb").
 */
export function itemLanguages(model: FeedModel): (string | undefined)[] {
  const feed = model.language.toLowerCase();
  return model.items.map((item) =>
    item.language && item.language.toLowerCase() !== feed ? item.language : undefined,
  );
}

/**
 * Adds `xml:lang` to the start tags of a document's elements of one name, the n-th getting the
 * n-th language (none where it is undefined): the items in another language than the feed
 * (`item` in RSS, `entry` in Atom), or Atom's root `feed`. `feed` writes no attributes on those
 * elements. An XML attribute is allowed on any element, and xml:lang is inherited by everything
 * inside it.
 *
 * The document is scanned once, left to right, jumping over CDATA sections, comments,
 * processing instructions and quoted attribute values, so that an item's text (which may well
 * contain "<item>" inside a CDATA section) is never taken for a tag; text outside those is
 * escaped by the writer and holds no "<". Linear in the document; it stops after the last
 * element to mark, and nothing is done when there is none.
 */
export function withLanguages(
  xml: string,
  element: "item" | "entry" | "feed",
  languages: readonly (string | undefined)[],
): string {
  const last = languages.findLastIndex(Boolean);
  if (last < 0) return xml;
  const out: string[] = [];
  let flushed = 0;
  let at = 0;
  let index = 0;
  while (index <= last) {
    const open = xml.indexOf("<", at);
    if (open < 0) break;
    const skip = skipped(xml, open);
    if (skip !== undefined) {
      at = skip;
      continue;
    }
    const close = tagEnd(xml, open);
    if (isStartOf(xml, open, element)) {
      const language = languages[index++];
      if (language) {
        const point = xml[close - 1] === "/" ? close - 1 : close;
        out.push(xml.slice(flushed, point), ` xml:lang="${escapeHtml(language)}"`);
        flushed = point;
      }
    }
    at = close + 1;
  }
  out.push(xml.slice(flushed));
  return out.join("");
}

const SECTIONS = [
  ["<![CDATA[", "]]>"],
  ["<!--", "-->"],
  ["<?", "?>"],
] as const;

/** Where a CDATA section, comment or processing instruction that starts at `open` ends. */
function skipped(xml: string, open: number): number | undefined {
  for (const [start, end] of SECTIONS) {
    if (!xml.startsWith(start, open)) continue;
    const found = xml.indexOf(end, open + start.length);
    return found < 0 ? xml.length : found + end.length;
  }
  return undefined;
}

/** The index of the ">" that closes the tag opened at `open`, past any quoted attribute value. */
function tagEnd(xml: string, open: number): number {
  let at = open + 1;
  while (at < xml.length) {
    const char = xml[at];
    if (char === ">") return at;
    if (char === '"' || char === "'") {
      const quote = xml.indexOf(char, at + 1);
      if (quote < 0) return xml.length;
      at = quote + 1;
    } else at++;
  }
  return xml.length;
}

/** Whether the tag at `open` is a start tag of `element` (not one whose name merely begins so). */
function isStartOf(xml: string, open: number, element: string): boolean {
  if (!xml.startsWith(element, open + 1)) return false;
  const next = xml[open + 1 + element.length];
  return next === ">" || next === "/" || next === " " || next === "\n" || next === "\t" || next === "\r";
}
