import { Parser } from "htmlparser2";
import { ArticleError } from "./errors.ts";
import { escapeHtml, stripForbiddenChars } from "./text.ts";

/** More elements than any real article has; bounds the HTML parser's worst case (deep nesting). */
export const MAX_ELEMENTS = 20_000;

/**
 * Deeper than this is refused while parsing. htmlparser2 looks for each close tag in its stack of
 * open elements, so 20,000 nested elements and a few hundred thousand stray close tags would
 * cost billions of steps; with the stack bounded, every tag costs at most this many.
 */
export const MAX_HTML_DEPTH = 128;

/** Counts open elements as htmlparser2 reports them (implied closes too) and refuses deep nesting. */
function depthGuard(): { open(): void; close(): void } {
  let depth = 0;
  return {
    open() {
      if (++depth > MAX_HTML_DEPTH)
        throw new ArticleError(`the HTML nests elements more than ${MAX_HTML_DEPTH} deep`);
    },
    close() {
      depth--;
    },
  };
}

function checkElementBudget(html: string): void {
  const count = html.match(/<[a-zA-Z]/g)?.length ?? 0;
  if (count > MAX_ELEMENTS) {
    throw new ArticleError(`the HTML has ${count} elements; articles are limited to ${MAX_ELEMENTS}`);
  }
}

/** Sanitised HTML and the start of its plain text (for summaries). */
export interface SanitizedHtml {
  readonly html: string;
  readonly text: string;
}

// Elements kept as they are (with the attributes allowed below).
const KEPT = new Set(
  (
    "a abbr b bdi bdo blockquote br caption cite code col colgroup dd del details dfn div dl dt em " +
    "figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q rp rt ruby s samp small " +
    "span strong sub summary sup table tbody td tfoot th thead time tr u ul var wbr audio video source picture"
  ).split(" "),
);
// Elements removed together with everything inside them: active content, forms, metadata.
const DROPPED = new Set(
  (
    "script style iframe frame frameset object embed applet form input button select option textarea " +
    "noscript template svg math head title meta link base param dialog portal canvas"
  ).split(" "),
);
const VOID = new Set(["br", "col", "hr", "img", "source", "wbr"]);
const BLOCK = new Set(
  "p div li dt dd h1 h2 h3 h4 h5 h6 blockquote pre tr td th br figcaption caption summary hr".split(" "),
);
const ATTRIBUTES: Record<string, readonly string[]> = {
  "*": ["title", "lang", "dir"],
  a: ["href"],
  img: ["src", "alt", "width", "height"],
  audio: ["src", "controls"],
  video: ["src", "controls", "poster", "width", "height"],
  source: ["src", "type"],
  blockquote: ["cite"],
  q: ["cite"],
  del: ["cite", "datetime"],
  ins: ["cite", "datetime"],
  time: ["datetime"],
  ol: ["start", "reversed", "type"],
  li: ["value"],
  td: ["colspan", "rowspan"],
  th: ["colspan", "rowspan", "scope"],
  col: ["span"],
  colgroup: ["span"],
};
const URL_ATTRIBUTES = new Set(["href", "src", "cite", "poster"]);
const TEXT_LIMIT = 2_000;

/**
 * Resolves a link found in content against the article's URL. Only http(s) (and mailto: for
 * links) survive; `javascript:`, `data:`, `file:` and the like are dropped. Browsers ignore
 * tabs and newlines inside URLs, so they are removed before the scheme is judged.
 */
export function safeUrl(value: string, base: string, allowMailto = false): string | undefined {
  const cleaned = value.replace(/[\u0000-\u001F\u007F]/g, "").trim();
  if (!cleaned) return undefined;
  let url: URL;
  try {
    url = new URL(cleaned, base);
  } catch {
    return undefined;
  }
  if (url.protocol === "http:" || url.protocol === "https:") return url.href;
  if (allowMailto && url.protocol === "mailto:") return url.href;
  return undefined;
}

/**
 * Rewrites untrusted HTML into a safe subset: allow-listed elements and attributes only, URLs
 * made absolute against `base`, entities decoded and re-escaped so that the result is also
 * well-formed XML text. Unknown elements are unwrapped (their text is kept); dangerous ones are
 * dropped with their content. The output never contains "]]>", so it is safe inside CDATA.
 */
export function sanitizeHtml(input: string, base: string): SanitizedHtml {
  checkElementBudget(input);
  let html = "";
  let text = "";
  const open: { name: string; kept: boolean }[] = [];
  let dropDepth = 0;
  const addText = (chunk: string) => {
    if (text.length < TEXT_LIMIT) text += chunk;
  };
  const guard = depthGuard();

  const parser = new Parser(
    {
      onopentag(name, attribs) {
        guard.open();
        if (dropDepth > 0 || DROPPED.has(name)) {
          dropDepth++;
          return;
        }
        const kept = KEPT.has(name);
        if (BLOCK.has(name)) addText(" ");
        if (!kept) {
          if (!VOID.has(name)) open.push({ name, kept });
          return;
        }
        let attrs = "";
        const allowed = [...(ATTRIBUTES["*"] ?? []), ...(ATTRIBUTES[name] ?? [])];
        for (const attr of allowed) {
          const raw = attribs[attr];
          if (raw === undefined) continue;
          let value: string | undefined = stripForbiddenChars(raw);
          if (URL_ATTRIBUTES.has(attr)) value = safeUrl(value, base, name === "a");
          if (value === undefined) continue;
          attrs += ` ${attr}="${escapeHtml(value)}"`;
        }
        if (name === "img" && !attrs.includes(' src="')) return;
        // The text becomes the summary, so alt text needs the same hygiene as any other text.
        if (name === "img" && attribs.alt) addText(stripForbiddenChars(attribs.alt));
        html += `<${name}${attrs}>`;
        if (!VOID.has(name)) open.push({ name, kept });
      },
      ontext(data) {
        if (dropDepth > 0) return;
        const clean = stripForbiddenChars(data);
        html += escapeHtml(clean);
        addText(clean);
      },
      onclosetag(name) {
        guard.close();
        if (dropDepth > 0) {
          dropDepth--;
          return;
        }
        if (VOID.has(name)) return;
        // htmlparser2 reports a close for every open element (implied ones too), innermost first.
        const index = open.findLastIndex((entry) => entry.name === name);
        if (index < 0) return;
        for (const entry of open.splice(index).reverse()) if (entry.kept) html += `</${entry.name}>`;
        if (BLOCK.has(name)) addText(" ");
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true, recognizeSelfClosing: true },
  );
  parser.write(input);
  parser.end();
  for (const entry of open.reverse()) if (entry.kept) html += `</${entry.name}>`;
  return { html, text };
}

/** Facts read from a whole HTML document: title, meta tags, language and the body's markup. */
export interface HtmlDocument {
  readonly title?: string;
  readonly h1?: string;
  readonly meta: Readonly<Record<string, string>>;
  readonly language?: string;
  readonly body: string;
}

/** Reads an HTML document's head without rendering anything; the body is kept as raw markup. */
export function readHtmlDocument(input: string): HtmlDocument {
  checkElementBudget(input);
  let title: string | undefined;
  let h1: string | undefined;
  let language: string | undefined;
  const meta: Record<string, string> = {};
  let capture: "title" | "h1" | undefined;
  let buffer = "";
  let bodyStart = -1;
  let bodyEnd = -1;
  const guard = depthGuard();
  const parser: Parser = new Parser(
    {
      onopentag(name, attribs) {
        guard.open();
        if (name === "html" && attribs.lang) language = attribs.lang;
        if (name === "title" && title === undefined) capture = "title";
        if (name === "h1" && h1 === undefined) capture = "h1";
        if (name === "body" && bodyStart < 0) bodyStart = parser.endIndex + 1;
        if (name === "meta") {
          const key = (attribs.name ?? attribs.property ?? attribs.itemprop ?? "").toLowerCase();
          if (key && attribs.content !== undefined && !(key in meta)) meta[key] = attribs.content;
        }
        if (name === "time" && attribs.datetime && !("time" in meta)) meta.time = attribs.datetime;
      },
      ontext(data) {
        if (capture) buffer += data;
      },
      onclosetag(name, isImplied) {
        guard.close();
        if (capture === name) {
          if (capture === "title") title = buffer;
          else h1 = buffer;
          capture = undefined;
          buffer = "";
        }
        if (name === "body" && !isImplied) bodyEnd = parser.startIndex;
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(input);
  parser.end();
  const body = bodyStart >= 0 ? input.slice(bodyStart, bodyEnd > bodyStart ? bodyEnd : undefined) : input;
  return {
    ...(title !== undefined ? { title } : {}),
    ...(h1 !== undefined ? { h1 } : {}),
    meta,
    ...(language ? { language } : {}),
    body,
  };
}
