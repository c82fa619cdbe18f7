import { ArticleError } from "./errors.ts";

/**
 * Hand-written, single-pass scans of a Markdown body. Both run before (or instead of) any regex
 * or parser touches the text, so their cost is linear in the body whatever it holds.
 */

/** Deepest container nesting of one line that is handed to the Markdown parser. */
export const MAX_MARKDOWN_DEPTH = 32;
/** Most emphasis delimiter runs (`*`, `_`, `~`) in one paragraph the parser is given. */
export const MAX_DELIMITER_RUNS = 2_000;
/**
 * Limits on shapes for which marked's rules rescan the rest of a paragraph at every step
 * (measured: each of these, unbounded, took tens of seconds within 128 KiB):
 * - columns and cells of a table (every row is padded to the header's count);
 * - lines of one paragraph inside a list item (its setext-heading rule runs at each line);
 * - `<!` and `<?` openers in one paragraph (comments, CDATA, declarations: each looks for its
 *   closer to the end of the paragraph);
 * - the characters before an `@` (its e-mail autolink rule rescans the word at each character;
 *   an address is at most 254 characters long).
 */
export const MARKDOWN_SHAPE_LIMITS = {
  tableColumns: 64,
  tableCells: 20_000,
  listParagraphLines: 50,
  htmlOpeners: 100,
  wordBeforeAt: 254,
} as const;

const SPACE = 32;
const TAB = 9;
const NEWLINE = 10;

/**
 * The title of the first ATX heading of level 1 (`# Title`, `  # Title #`), as CommonMark reads
 * it: up to three spaces, `#`, at least one space or tab, the text, an optional closing run of
 * `#` after a space. Undefined when no line is such a heading.
 */
export function firstHeading(body: string): string | undefined {
  for (let start = 0; start < body.length; ) {
    let end = body.indexOf("\n", start);
    if (end < 0) end = body.length;
    const title = headingText(body, start, end);
    if (title !== undefined) return title;
    start = end + 1;
  }
  return undefined;
}

function isBlank(code: number): boolean {
  return code === SPACE || code === TAB;
}

function headingText(text: string, start: number, end: number): string | undefined {
  let i = start;
  while (i < start + 3 && text.charCodeAt(i) === SPACE) i++;
  if (text[i] !== "#") return undefined;
  let from = i + 1;
  if (from >= end || !isBlank(text.charCodeAt(from))) return undefined;
  while (from < end && isBlank(text.charCodeAt(from))) from++;
  let to = end;
  while (to > from && isBlank(text.charCodeAt(to - 1))) to--;
  // A closing sequence counts only after a space: "# Learn C#" keeps its "#".
  let hashes = to;
  while (hashes > from && text[hashes - 1] === "#") hashes--;
  if (hashes < to && hashes > from && isBlank(text.charCodeAt(hashes - 1))) {
    to = hashes;
    while (to > from && isBlank(text.charCodeAt(to - 1))) to--;
  }
  return to > from ? text.slice(from, to) : undefined;
}

/**
 * Refuses Markdown whose shape would make the parser's time or memory explode: containers
 * (block quotes, list items, indentation under a list marker) nested deeper than
 * MAX_MARKDOWN_DEPTH on one line, or more than MAX_DELIMITER_RUNS emphasis runs in one paragraph
 * (marked pairs them in quadratic time). `firstLine` is the body's line in the file.
 */
export function checkMarkdownShape(body: string, firstLine: number): void {
  let line = firstLine;
  let runs = 0;
  let runsLine = firstLine;
  // The fence a code block opened ("```", "~~~~"): no emphasis inside it.
  let fence = "";
  const paragraph = paragraphShape();
  for (let start = 0; start <= body.length; ) {
    let end = body.indexOf("\n", start);
    if (end < 0) end = body.length;
    const marker = fenceOf(body, start, end);
    if (fence && marker.startsWith(fence)) fence = "";
    else if (!fence && marker) fence = marker;
    const depth = lineDepth(body, start, end);
    if (depth > MAX_MARKDOWN_DEPTH) {
      throw new ArticleError(
        `Markdown nested ${depth} levels deep (block quotes, lists); articles are limited to ${MAX_MARKDOWN_DEPTH}`,
        line,
      );
    }
    const lineRuns = fence ? 0 : delimiterRuns(body, start, end);
    const blank = lineRuns === 0 && isBlankLine(body, start, end);
    if (!fence) paragraph.line(body, start, end, blank, depth, line);
    if (blank) runs = 0;
    else {
      if (runs === 0) runsLine = line;
      runs += lineRuns;
      if (runs > MAX_DELIMITER_RUNS) {
        throw new ArticleError(
          `a paragraph has more than ${MAX_DELIMITER_RUNS.toLocaleString("en-US")} emphasis marks (*, _ or ~ runs); split it or escape them`,
          runsLine,
        );
      }
    }
    if (end === body.length) break;
    start = end + 1;
    line++;
  }
}

/** The fence a line opens or closes (three or more backticks or tildes after up to three spaces), or "". */
function fenceOf(text: string, start: number, end: number): string {
  let i = start;
  while (i < start + 3 && text.charCodeAt(i) === SPACE) i++;
  const c = text[i];
  if (c !== "`" && c !== "~") return "";
  let j = i;
  while (j < end && text[j] === c) j++;
  return j - i >= 3 ? text.slice(i, j) : "";
}

function isBlankLine(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isBlank(text.charCodeAt(i))) return false;
  return true;
}

/**
 * Container markers at the start of a line: each `>`, each list marker (`-`, `*`, `+`, `1.`,
 * `1)` followed by a space), plus one level per two columns of indentation before a marker.
 */
function lineDepth(text: string, start: number, end: number): number {
  let depth = 0;
  let i = start;
  for (;;) {
    let columns = 0;
    while (i < end && isBlank(text.charCodeAt(i))) {
      columns += text.charCodeAt(i) === TAB ? 4 : 1;
      i++;
    }
    const marker = markerLength(text, i, end);
    if (marker === 0) return depth;
    depth += 1 + Math.floor(columns / 2);
    i += marker;
  }
}

function markerLength(text: string, i: number, end: number): number {
  const c = text[i];
  if (c === ">") return 1;
  const next = i + 1 < end ? text.charCodeAt(i + 1) : NEWLINE;
  if ((c === "-" || c === "*" || c === "+") && (isBlank(next) || i + 1 === end)) return 1;
  let j = i;
  while (j < end && j - i < 9 && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
  if (j > i && (text[j] === "." || text[j] === ")")) {
    const after = j + 1 < end ? text.charCodeAt(j + 1) : NEWLINE;
    if (isBlank(after) || j + 1 === end) return j + 1 - i;
  }
  return 0;
}

/** Maximal runs of one emphasis character (`**` is one run, `*_*` three). */
function delimiterRuns(text: string, start: number, end: number): number {
  let runs = 0;
  let previous = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    // "*", "_", "~"
    if ((c === 42 || c === 95 || c === 126) && c !== previous) runs++;
    previous = c;
  }
  return runs;
}

function refuse(line: number, reason: string): never {
  throw new ArticleError(reason, line);
}

/** Tracks the shapes of MARKDOWN_SHAPE_LIMITS line by line; throws at the first one over. */
function paragraphShape(): {
  line(text: string, start: number, end: number, blank: boolean, depth: number, line: number): void;
} {
  const limits = MARKDOWN_SHAPE_LIMITS;
  let openers = 0;
  let inList = false;
  let afterBlank = false;
  let listLines = 0;
  let tableColumns = 0;
  let tableRows = 0;
  return {
    line(text, start, end, blank, depth, line) {
      if (blank) {
        openers = 0;
        listLines = 0;
        tableColumns = 0;
        afterBlank = true;
        return;
      }
      const listItem = depth > 0 && isListItem(text, start, end);
      if (listItem) {
        inList = true;
        listLines = 0;
      } else {
        if (afterBlank && !isBlank(text.charCodeAt(start))) inList = false;
        if (inList && ++listLines > limits.listParagraphLines)
          refuse(
            line,
            `a list item has a paragraph of more than ${limits.listParagraphLines} lines; separate them with blank lines`,
          );
      }
      afterBlank = false;
      const columns = delimiterRowColumns(text, start, end);
      if (columns > limits.tableColumns)
        refuse(line, `a table has ${columns} columns; tables are limited to ${limits.tableColumns}`);
      if (columns > 0) {
        tableColumns = columns;
        tableRows = 1;
      } else if (tableColumns > 0 && ++tableRows * tableColumns > limits.tableCells)
        refuse(line, `a table has more than ${limits.tableCells.toLocaleString("en-US")} cells; split it`);
      openers += htmlOpeners(text, start, end);
      if (openers > limits.htmlOpeners)
        refuse(
          line,
          `a paragraph has more than ${limits.htmlOpeners} "<!" or "<?" (HTML comments, CDATA, declarations); close them or escape the "<"`,
        );
      const word = longestWordBeforeAt(text, start, end);
      if (word > limits.wordBeforeAt)
        refuse(
          line,
          `${word} characters run into an "@" (an e-mail address is at most ${limits.wordBeforeAt})`,
        );
    },
  };
}

/** Whether the line's first container marker is a list marker (not a block quote's ">"). */
function isListItem(text: string, start: number, end: number): boolean {
  let i = start;
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  return text[i] !== ">" && markerLength(text, i, end) > 0;
}

/** The cells of a table's delimiter row (`|---|:-:|`), or 0 for any other line. */
function delimiterRowColumns(text: string, start: number, end: number): number {
  let pipes = 0;
  let dashes = false;
  let cells = 0;
  let inCell = false;
  for (let i = start; i < end; i++) {
    const c = text[i];
    if (c === "|") {
      pipes++;
      inCell = false;
    } else if (c === "-" || c === ":") {
      if (c === "-") dashes = true;
      if (!inCell) cells++;
      inCell = true;
    } else if (!isBlank(text.charCodeAt(i))) return 0;
  }
  return pipes > 0 && dashes ? cells : 0;
}

function htmlOpeners(text: string, start: number, end: number): number {
  let count = 0;
  for (let i = start; i + 1 < end; i++)
    if (text.charCodeAt(i) === 60 && (text[i + 1] === "!" || text[i + 1] === "?")) count++;
  return count;
}

/** Characters an e-mail's local part may hold (GFM's autolink extension). */
const LOCAL_PART = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?_`{|}~-")
  LOCAL_PART[c.charCodeAt(0)] = 1;

/** The longest run of local-part characters directly before an "@" on the line. */
function longestWordBeforeAt(text: string, start: number, end: number): number {
  let run = 0;
  let longest = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 64) {
      if (run > longest) longest = run;
      run = 0;
    } else run = c < 128 && LOCAL_PART[c] === 1 ? run + 1 : 0;
  }
  return longest;
}
