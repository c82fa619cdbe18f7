/**
 * Nesting class: structures thousands of levels deep, which recursive parsers and renderers
 * (Markdown, the HTML sanitiser, JSON and YAML readers) walk level by level.
 */
import { type AdversarialCase, BODY, family, front, html, json, md, n, single } from "./adversarial-gen.ts";

const article = (title: string, body: string) => md(front(title), body);

function quoteAndListCases(): AdversarialCase[] {
  return [
    ...family(
      "nesting",
      "blockquote-ladder",
      "md",
      [1_000, 5_000, 20_000, 100_000],
      (k) => `Markdown ">>>>…" ${n(k)} deep on one line`,
      (k) => article("Quotes", `${">".repeat(k)} deep`),
    ),
    ...family(
      "nesting",
      "blockquote-spaced",
      "md",
      [1_000, 5_000, 20_000, 100_000],
      (k) => `Markdown "> > > …" ${n(k)} deep on one line`,
      (k) => article("Spaced quotes", `${"> ".repeat(k)}deep`),
    ),
    ...family(
      "nesting",
      "list-indent-spaces",
      "md",
      [200, 500, 1_000],
      (k) => `a list nested ${n(k)} levels by indentation (2 spaces a level)`,
      (k) => article("Indented list", Array.from({ length: k }, (_, i) => `${"  ".repeat(i)}- a`).join("\n")),
    ),
    ...family(
      "nesting",
      "list-indent-tabs",
      "md",
      [1_000, 1_400],
      (k) => `a list nested ${n(k)} levels by indentation (a tab a level)`,
      (k) => article("Tabbed list", Array.from({ length: k }, (_, i) => `${"\t".repeat(i)}- a`).join("\n")),
    ),
    ...family(
      "nesting",
      "list-dashes",
      "md",
      [1_000, 5_000, 20_000, 100_000],
      (k) => `"- - - - …" ${n(k)} list markers on one line`,
      (k) => article("Dashes", `${"- ".repeat(k)}a`),
    ),
    ...family(
      "nesting",
      "list-ordered",
      "md",
      [1_000, 20_000],
      (k) => `"1. 1. 1. …" ${n(k)} ordered list markers on one line`,
      (k) => article("Numbers", `${"1. ".repeat(k)}a`),
    ),
  ];
}

function inlineCases(): AdversarialCase[] {
  return [
    ...family(
      "nesting",
      "emphasis",
      "md",
      [1_000, 10_000, 100_000],
      (k) => `nested emphasis "*_*_…x…_*_*", ${n(k)} delimiters each side`,
      (k) => article("Emphasis", `${"*_".repeat(k / 2)}x${"_*".repeat(k / 2)}`),
    ),
    ...family(
      "nesting",
      "emphasis-unclosed",
      "md",
      [10_000, 300_000],
      (k) => `"*_*_…" ${n(k)} opening delimiters, never closed`,
      (k) => article("Open emphasis", `${"*_".repeat(k / 2)}x`),
    ),
    ...family(
      "nesting",
      "brackets",
      "md",
      [1_000, 10_000, 100_000, 500_000],
      (k) => `"[[[[…" ${n(k)} open brackets`,
      (k) => article("Brackets", `${"[".repeat(k)}x`),
    ),
    ...family(
      "nesting",
      "links",
      "md",
      [1_000, 10_000, 50_000],
      (k) => `links nested ${n(k)} deep: "[[[…a](u)](u)…"`,
      (k) => article("Links", `${"[".repeat(k)}a${"](u)".repeat(k)}`),
    ),
    single("nesting", "images", "md", '"![![![…" 100,000 deep', () =>
      article("Images", `${"![".repeat(100_000)}x`),
    ),
  ];
}

function markdownHtmlCases(): AdversarialCase[] {
  return [
    ...family(
      "nesting",
      "md-divs",
      "md",
      [1_000, 5_000, 19_000, 25_000],
      (k) => `raw HTML in Markdown: "<div>" × ${n(k)}, never closed`,
      (k) => article("Divs", `<div>\n${"<div>".repeat(k)}x`),
    ),
    single("nesting", "md-divs-closed", "md", "raw HTML in Markdown: 19,000 nested <div>…</div>", () =>
      article("Closed divs", `<div>${"<div>".repeat(19_000)}x${"</div>".repeat(19_001)}`),
    ),
    single("nesting", "md-spans", "md", 'a paragraph "a <span>" × 19,000, never closed', () =>
      article("Spans", "a <span>".repeat(19_000)),
    ),
  ];
}

/** HTML articles: every element pattern a hostile page might nest. */
function htmlCases(): AdversarialCase[] {
  const page = (body: string) => html("Deep", body);
  const nested = (name: string, description: string, open: string, close: string, count = 19_999) =>
    single("nesting", `html-${name}`, "html", description, () =>
      page(`${open.repeat(count)}x${close.repeat(count)}`),
    );
  return [
    ...family(
      "nesting",
      "html-divs",
      "html",
      [1_000, 5_000, 10_000, 19_990, 20_001, 50_000, 150_000],
      (k) => `HTML article: <div> nested ${n(k)} deep, never closed (limit 20,000 elements)`,
      (k) => page("<div>".repeat(k)),
    ),
    nested("divs-closed", "HTML article: 19,990 nested <div>…</div>", "<div>", "</div>", 19_990),
    nested("b-i", "HTML article: <b><i> alternating, 19,990 deep", "<b><i>", "</i></b>", 9_995),
    nested("unknown", "HTML article: 19,990 nested unknown <x-a> elements", "<x-a>", "</x-a>", 19_990),
    nested("upper", "HTML article: 19,990 nested <DIV> in capitals", "<DIV>", "</DIV>", 19_990),
    nested("links", "HTML article: 19,990 nested <a href>", '<a href="/x">', "</a>", 19_990),
    nested(
      "tables",
      "HTML article: tables nested 6,660 deep",
      "<table><tr><td>",
      "</td></tr></table>",
      6_660,
    ),
    nested(
      "dropped",
      "HTML article: 19,990 nested <script> (dropped with their content)",
      "<script>",
      "</script>",
      19_990,
    ),
    single("nesting", "html-li", "html", "HTML article: 19,990 <li> without end tags (implied closes)", () =>
      page(`<ul>${"<li>x".repeat(19_990)}</ul>`),
    ),
    single("nesting", "html-p", "html", "HTML article: 19,990 <p> without end tags", () =>
      page("<p>x".repeat(19_990)),
    ),
    single(
      "nesting",
      "html-mismatched",
      "html",
      "HTML article: 19,990 open <span>, then 140,000 stray </div>",
      () => page(`${"<span>".repeat(19_990)}x${"</div>".repeat(140_000)}`),
    ),
    single("nesting", "json-html-divs", "json", "JSON article: content_html of 19,990 nested <div>", () =>
      json("Deep JSON HTML", { content_html: "<div>".repeat(19_990) }),
    ),
  ];
}

function dataCases(): AdversarialCase[] {
  const deep = (k: number) => `${"[".repeat(k)}${"]".repeat(k)}`;
  return [
    ...family(
      "nesting",
      "json-arrays",
      "json",
      [1_000, 10_000, 100_000, 500_000],
      (k) => `JSON article with an unknown field of arrays nested ${n(k)} deep`,
      (k) => `{"title": "Arrays", "content_text": "${BODY}", "extra": ${deep(k)}}`,
    ),
    single(
      "nesting",
      "json-arrays-unclosed",
      "json",
      "JSON article: 1,000,000 '[' never closed (a syntax error)",
      () => `{"title": "x", "content_text": "y", "extra": ${"[".repeat(1_000_000)}`,
    ),
    single(
      "nesting",
      "json-objects",
      "json",
      'JSON article: {"a":{"a":…}} 100,000 deep',
      () =>
        `{"title": "Objects", "content_text": "${BODY}", "extra": ${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}}`,
    ),
    single(
      "nesting",
      "json-deep-tags",
      "json",
      "JSON article: tags is an array nested 100,000 deep",
      () => `{"title": "Tags", "content_text": "${BODY}", "tags": ${deep(100_000)}}`,
    ),
    single(
      "nesting",
      "json-deep-author",
      "json",
      "JSON article: an author url nested 100,000 deep",
      () =>
        `{"title": "Author", "content_text": "${BODY}", "authors": [{"name": "A", "url": ${deep(100_000)}}]}`,
    ),
    ...family(
      "nesting",
      "yaml-flow",
      "md",
      [1_000, 10_000, 100_000],
      (k) => `YAML front matter: tags: [[[…]]] ${n(k)} deep`,
      (k) => md(front("Flow", `tags: ${deep(k)}`), BODY),
    ),
    single("nesting", "yaml-flow-maps", "md", "YAML front matter: {a: {a: …}} 10,000 deep", () =>
      md(front("Maps", `extra: ${"{a: ".repeat(10_000)}1${"}".repeat(10_000)}`), BODY),
    ),
    single("nesting", "yaml-block", "md", "YAML front matter: block mappings nested 1,000 deep", () =>
      md(front("Block", ...Array.from({ length: 1_000 }, (_, i) => `${" ".repeat(i)}k${i}:`), "x: 1"), BODY),
    ),
    ...family(
      "nesting",
      "toml-arrays",
      "md",
      [1_000, 100_000],
      (k) => `TOML front matter: extra = [[[…]]] ${n(k)} deep`,
      (k) => `+++\ntitle = "TOML"\nextra = ${deep(k)}\n+++\n${BODY}\n`,
    ),
    single(
      "nesting",
      "toml-tables",
      "md",
      "TOML front matter: inline tables {a = {a = …}} 10,000 deep",
      () => `+++\ntitle = "TOML"\nextra = ${"{a = ".repeat(10_000)}1${" }".repeat(10_000)}\n+++\n${BODY}\n`,
    ),
  ];
}

export function nestingCases(): AdversarialCase[] {
  return [...quoteAndListCases(), ...inlineCases(), ...markdownHtmlCases(), ...htmlCases(), ...dataCases()];
}
