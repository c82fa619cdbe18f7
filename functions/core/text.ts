/**
 * Text hygiene shared by every parser and renderer. XML 1.0 cannot carry most C0 controls,
 * lone surrogates or U+FFFE/U+FFFF even as character references, so they are removed at entry.
 */
const XML_FORBIDDEN =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The same without the surrogate checks, for text known to be well-formed UTF-16. */
const XML_FORBIDDEN_BMP = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]/;
const XML_FORBIDDEN_BMP_ALL = new RegExp(XML_FORBIDDEN_BMP.source, "g");

/** Removes characters that XML 1.0 forbids (and DEL, which is never wanted in text). */
export function stripForbiddenChars(text: string): string {
  // Whole feeds pass through here: the lookarounds for lone surrogates cost ten times a plain
  // class, so they run only on text that has one (isWellFormed is native and linear).
  if ((text as { isWellFormed?: () => boolean }).isWellFormed?.() === true)
    return XML_FORBIDDEN_BMP.test(text) ? text.replace(XML_FORBIDDEN_BMP_ALL, "") : text;
  return text.replace(XML_FORBIDDEN, "");
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Decodes UTF-8 strictly (a BOM is dropped); returns undefined for invalid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** CRLF and lone CR become LF. */
export function normalizeNewlines(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
};

/** Escapes text for HTML or XML content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** Collapses runs of white space (including NBSP) to single spaces and trims. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/**
 * Shortens text to at most `max` characters at a word boundary. A cut that falls at the end of a
 * sentence keeps the sentence's own punctuation and nothing more (`end.…` reads as a typo); a cut
 * inside a sentence gets an ellipsis, in place of any comma or dash it would follow.
 */
export function truncateWords(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = cutUtf16(text, max - 1);
  const space = cut.lastIndexOf(" ");
  const kept = (space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd();
  // Only at a word's end (`example.` of `example.com` is not a sentence); CJK has no spaces.
  if (WIDE_SENTENCE_END.test(kept) || (SENTENCE_END.test(kept) && /\s/.test(text.charAt(kept.length))))
    return kept;
  return `${kept.replace(DANGLING, "")}…`;
}

/** Sentence-final punctuation, possibly inside closing quotes or brackets. */
const SENTENCE_END = /[.!?…]["'”’»)\]]*$/u;
const WIDE_SENTENCE_END = /[。！？]["'”’」』）]*$/u;
/** What an ellipsis replaces at the end of a cut: it would otherwise read `word,…` or `word.…`. */
const DANGLING = /[\s,;:.…–—-]+$/u;

/**
 * The first `max` UTF-16 units of `text`, one fewer when the cut would split a surrogate pair:
 * a lone surrogate is not text (XML forbids it, encodeURIComponent throws on it).
 */
export function cutUtf16(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/** Longest excerpt of a user's value that a message quotes. */
export const QUOTE_LIMIT = 100;

/**
 * A user's value as a message quotes it: JSON-style double quotes, control characters (terminal
 * escape sequences included) written as escapes, and at most QUOTE_LIMIT characters of it, so a
 * 900 KB value costs a message (and the state that keeps it) a hundred characters.
 */
export function quote(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  const excerpt = cutUtf16(text, QUOTE_LIMIT);
  const more = text.length - excerpt.length;
  // JSON.stringify escapes C0 controls, quotes, backslashes and lone surrogates; the rest here.
  const quoted = JSON.stringify(excerpt).replace(/[\u007F-\u009F\u2028\u2029]/g, hexEscape);
  return `${quoted}${more > 0 ? ` (and ${more.toLocaleString("en-US")} more characters)` : ""}`;
}

/**
 * C0 and C1 controls, DEL and lone surrogates as visible escapes (\u001b...): text that reaches a
 * terminal or a log can then neither move the cursor, clear the screen nor retitle the window.
 * Tabs and newlines are escaped too, so one problem is always one line.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, hexEscape);
}

function hexEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

const CONTROLS =
  /[\u0000-\u001F\u007F-\u009F\u2028\u2029]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** 1-based line number of a character offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
