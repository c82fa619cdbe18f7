/**
 * Hostile class: whatever else an uploader might try. Terminal escapes in fields (and in the
 * values an error message quotes back), single field values of 900 KB, lone surrogates, control
 * characters, wrong encodings, YAML alias bombs, entity bombs and Markdown's odder corners.
 */
import {
  type AdversarialCase,
  BODY,
  fill,
  front,
  html,
  json,
  md,
  q,
  single,
  words,
} from "./adversarial-gen.ts";

const ESCAPES =
  "\u001b[2J\u001b[H\u001b]0;owned\u0007\u001b[31mred\u001b[0m\u001b]8;;https://evil.example\u001b\\link\u001b]8;;\u001b\\";
const BIG = 900_000;
const h = (name: string, ext: AdversarialCase["ext"], description: string, make: AdversarialCase["make"]) =>
  single("hostile", name, ext, description, make);

function escapeCases(): AdversarialCase[] {
  return [
    h("escapes-fields", "md", "terminal escape sequences in title, author, tags and summary", () =>
      md(
        [
          `title: ${q(`Title ${ESCAPES}`)}`,
          `author: ${q(`Ann ${ESCAPES}`)}`,
          `tags: [${q(ESCAPES)}]`,
          `summary: ${q(ESCAPES)}`,
        ],
        BODY,
      ),
    ),
    h("escapes-body", "md", "terminal escape sequences throughout a 500 KB body", (rng) =>
      md(
        front("Escapes"),
        fill(rng, 500_000, (r) => `${words(r, 20)} ${ESCAPES}`),
      ),
    ),
    h("escapes-in-error", "md", "a bad date made of escape sequences (quoted back in the error)", () =>
      md(["title: Bad date", `date: ${q(ESCAPES.repeat(20))}`], BODY),
    ),
    h("escapes-html", "html", "escape sequences in an HTML title, meta tags and text", () =>
      html(
        `T ${ESCAPES}`,
        `<p>${ESCAPES}</p>`,
        `<meta name="author" content="${ESCAPES}"><meta name="keywords" content="${ESCAPES}">`,
      ),
    ),
    h("escapes-json", "json", "escape sequences in every JSON field", () =>
      json(`T ${ESCAPES}`, {
        content_text: ESCAPES,
        summary: ESCAPES,
        tags: [ESCAPES],
        authors: [{ name: ESCAPES }],
      }),
    ),
  ];
}

/** One field holding 900 KB. */
function bigFieldCases(): AdversarialCase[] {
  const text = (rng: () => number) => fill(rng, BIG, (r) => words(r, 40), " ");
  const field = (key: string, value: (rng: () => number) => string) =>
    h(`field-900k-${key}`, "md", `front matter ${key} of 900 KB`, (rng) =>
      md([`title: Big ${key}`, `${key}: ${q(value(rng))}`], BODY),
    );
  return [
    field("summary", text),
    field("id", text),
    field("slug", () => "s".repeat(BIG)),
    field("url", () => `/news/${"u".repeat(BIG)}/`),
    field("image", () => `https://example.org/${"i".repeat(BIG)}.png`),
    field("lang", () => `en-${"a".repeat(BIG)}`),
    field("date", text),
    field("enclosure", () => `https://example.org/${"e".repeat(BIG)}.mp3`),
    h("field-900k-title", "md", "title of 900 KB", (rng) => md([`title: ${q(text(rng))}`], BODY)),
    h("field-900k-tag", "md", "one tag of 900 KB", () =>
      md(front("Big tag", `tags: [${q("t".repeat(BIG))}]`), BODY),
    ),
    h("json-900k-text-node", "json", "content_html of one 900 KB text node", (rng) =>
      json("Big text", { content_html: `<p>${text(rng)}</p>` }),
    ),
    h("html-900k-description", "html", '<meta name="description"> of 900 KB', (rng) =>
      html("Big description", `<p>${BODY}</p>`, `<meta name="description" content="${text(rng)}">`),
    ),
    h("html-900k-title", "html", "<title> of 900 KB", (rng) => html(text(rng), `<p>${BODY}</p>`)),
    h("html-900k-lang", "html", "<html lang> of 900 KB", () =>
      html("Big lang", `<p>${BODY}</p>`, "", `en-${"a".repeat(BIG)}`),
    ),
    h(
      "txt-900k-first-line",
      "txt",
      "text article whose first line is 900 KB",
      (rng) => `${text(rng)}\n\n${BODY}\n`,
    ),
    h("md-900k-word", "md", "Markdown body of one 900 KB word", () => md(front("One word"), "w".repeat(BIG))),
    h("md-900k-href", "md", "a link whose href is 900 KB of javascript: split by tabs", () =>
      md(front("Big href"), `<a href="java\tscript:${"a\t".repeat(BIG / 2)}">x</a>`),
    ),
  ];
}

function characterCases(): AdversarialCase[] {
  const controls = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i))
    .filter((c) => c !== "\0")
    .join("");
  return [
    h(
      "lone-surrogates-json",
      "json",
      "JSON title and text of 100,000 lone surrogates (escaped)",
      () => `{"title": "x${"\\ud800".repeat(50_000)}", "content_text": "${"\\udc00a".repeat(100_000)}"}`,
    ),
    h("lone-surrogates-yaml", "md", "YAML title and summary of escaped lone surrogates", () =>
      md([`title: "x${"\\ud800".repeat(50_000)}"`, `summary: "${"\\udfff".repeat(50_000)}"`], BODY),
    ),
    h("surrogate-entities", "html", "HTML with 100,000 &#xD800; entities", () =>
      html("Entities", `<p>${"&#xD800;".repeat(100_000)}</p>`),
    ),
    h("control-body", "md", "Markdown body of 500,000 C0 control characters", () =>
      md(front("Controls"), controls.repeat(Math.floor(500_000 / controls.length))),
    ),
    h("control-title", "md", "title of every C0 control character around a word", () =>
      md([`title: ${q(`${controls}x${controls}`)}`], BODY),
    ),
    h(
      "cr-newlines",
      "md",
      "front matter and body with CR-only line ends, 500,000 of them",
      () => `---\rtitle: CR\r---\r${"a\r".repeat(250_000)}`,
    ),
    h("line-separators", "md", "no title; body of 300,000 U+2028 / U+2029 around headings", () =>
      md(["date: 2024-03-01"], `#\t${"\u2028# \u2029".repeat(100_000)}`),
    ),
    h(
      "bom-front-matter",
      "md",
      "a UTF-8 BOM before the front matter",
      () => `\ufeff${md(front("BOM"), BODY)}`,
    ),
    h("nul-byte", "md", "a NUL byte in the middle of an article", () => md(front("NUL"), `a\0b`)),
    h("invalid-utf8", "md", "Latin-1 bytes (invalid UTF-8) in the body", () =>
      Buffer.concat([Buffer.from(md(front("Latin-1"), "")), Buffer.from([0xe9, 0x74, 0xe9, 0x20, 0xff])]),
    ),
    h("utf16", "md", "the article saved as UTF-16 LE with a BOM", () =>
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(md(front("UTF-16"), BODY), "utf16le")]),
    ),
    h("overlong-utf8", "md", "overlong UTF-8 encodings of '/' and NUL", () =>
      Buffer.concat([
        Buffer.from(md(front("Overlong"), "")),
        Buffer.from([0xc0, 0xaf, 0xc0, 0x80, 0xe0, 0x80, 0xaf]),
      ]),
    ),
  ];
}

function yamlBombCases(): AdversarialCase[] {
  const laughs = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
  for (const [prev, next] of [..."abcdefgh"].map((c, i) => [c, "bcdefghi"[i]])) {
    laughs.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(", ")}]`);
  }
  return [
    h("yaml-billion-laughs", "md", "YAML billion laughs (10^9 values through 9 levels of aliases)", () =>
      md(front("Laughs", ...laughs, "tags: *i"), BODY),
    ),
    h("yaml-alias-chain", "md", "an alias chain 300 levels deep", () =>
      md(
        front(
          "Chain",
          "a0: &a0 [x]",
          ...Array.from({ length: 300 }, (_, i) => `a${i + 1}: &a${i + 1} [*a${i}]`),
        ),
        BODY,
      ),
    ),
    h(
      "yaml-alias-string-authors",
      "md",
      "one 1,000-character name as authors through 200,000 aliases",
      (rng) =>
        md(
          front(
            "Aliased authors",
            `name: &s ${q(fill(rng, 1_000, (r) => words(r, 20), " "))}`,
            `authors: [${Array(200_000).fill("*s").join(", ")}]`,
          ),
          BODY,
        ),
    ),
    h("yaml-alias-huge-name", "md", "a 500 KB name as authors through 1,000 aliases", (rng) =>
      md(
        front(
          "Aliased name",
          `name: &s ${q(fill(rng, 500_000, (r) => words(r, 20), " "))}`,
          `authors: [${Array(1_000).fill("*s").join(", ")}]`,
        ),
        BODY,
      ),
    ),
    h("yaml-alias-tags", "md", "100 tags reused as categories and keywords through aliases", () =>
      md(
        front(
          "Aliased tags",
          `tags: &t [${Array.from({ length: 100 }, (_, i) => `t${i}`).join(", ")}]`,
          "categories: *t",
          "keywords: *t",
        ),
        BODY,
      ),
    ),
    h("yaml-alias-mappings", "md", "499 authors, all one aliased mapping {name}", () =>
      md(
        front("Aliased people", "p: &p {name: Ann}", `authors: [${Array(499).fill("*p").join(", ")}]`),
        BODY,
      ),
    ),
    h("yaml-self-alias", "md", "an anchor whose list contains its own alias", () =>
      md(front("Self", "a: &a [x, *a]"), BODY),
    ),
  ];
}

/** Front matter that is large or odd in shape rather than in its aliases. */
function yamlShapeCases(): AdversarialCase[] {
  return [
    h("yaml-50k-keys", "md", "front matter with 50,000 unknown keys", () =>
      md(front("Keys", ...Array.from({ length: 50_000 }, (_, i) => `k${i}: v${i}`)), BODY),
    ),
    h("yaml-50k-anchors", "md", "25,000 anchors, each used once by an alias", () =>
      md(
        front("Anchors", ...Array.from({ length: 25_000 }, (_, i) => `k${i}: &a${i} v\nr${i}: *a${i}`)),
        BODY,
      ),
    ),
    h("yaml-merge-keys", "md", "1,000 merge keys (<<: *a) of a 500-key mapping", () =>
      md(
        front(
          "Merge",
          `base: &b {${Array.from({ length: 500 }, (_, i) => `k${i}: ${i}`).join(", ")}}`,
          ...Array.from({ length: 1_000 }, (_, i) => `m${i}: {<<: *b}`),
        ),
        BODY,
      ),
    ),
    h("yaml-custom-tags", "md", "10,000 values with custom and JS tags (!!js/function, !x)", () =>
      md(
        front(
          "Tags",
          ...Array.from({ length: 10_000 }, (_, i) =>
            i % 2 ? `f${i}: !x [${i}]` : `f${i}: !!js/function "function(){return ${i}}"`,
          ),
        ),
        BODY,
      ),
    ),
    h("yaml-duplicate-keys", "md", "the title key 20,000 times", () =>
      md(
        Array.from({ length: 20_000 }, (_, i) => `title: t${i}`),
        BODY,
      ),
    ),
  ];
}

function markupCases(): AdversarialCase[] {
  const m = (name: string, description: string, body: () => string) =>
    h(name, "md", description, () => md(front(name), body()));
  return [
    h("entity-amp", "html", "HTML text of 200,000 &amp; entities", () =>
      html("Amp", `<p>${"&amp;".repeat(200_000)}</p>`),
    ),
    h("entity-emoji", "html", "HTML text of 100,000 &#128512; entities", () =>
      html("Emoji", `<p>${"&#128512;".repeat(100_000)}</p>`),
    ),
    m("entity-nbsp", "Markdown of 150,000 &nbsp; entities", () => "&nbsp;".repeat(150_000)),
    m(
      "reference-links",
      "50,000 link reference definitions and uses",
      () =>
        `${Array.from({ length: 25_000 }, (_, i) => `[r${i}]`).join(" ")}\n\n${Array.from({ length: 25_000 }, (_, i) => `[r${i}]: /r/${i}`).join("\n")}`,
    ),
    m(
      "footnotes",
      "20,000 footnote-like references and definitions",
      () =>
        `${Array.from({ length: 20_000 }, (_, i) => `a[^${i}]`).join(" ")}\n\n${Array.from({ length: 20_000 }, (_, i) => `[^${i}]: n`).join("\n")}`,
    ),
    m("table-wide", "a GFM table of 1,000 columns and 100 rows", () => {
      const row = `|${" x |".repeat(1_000)}`;
      return [row, `|${"---|".repeat(1_000)}`, ...Array(100).fill(row)].join("\n");
    }),
    m("table-long", "a GFM table of 3 columns and 40,000 rows", () =>
      ["| a | b | c |", "|---|---|---|", ...Array(40_000).fill("| x | y | z |")].join("\n"),
    ),
    m(
      "table-pipes",
      "a table header and a row of 500,000 pipes",
      () => `| a |\n|---|\n${"|".repeat(500_000)}`,
    ),
    m("autolink-www", "100,000 www. autolinks on one line", () => "www.a ".repeat(100_000)),
    m("autolink-dots", 'an autolink "http://a" + ".a" × 300,000', () => `http://a${".a".repeat(300_000)}`),
    m("strong-unclosed", '"**a" × 100,000, never closed', () => "**a".repeat(100_000)),
    m("backtick-ladder", "code spans of 1 to 1,400 backticks, none closed", () =>
      Array.from({ length: 1_400 }, (_, i) => `${"`".repeat(i + 1)}a`).join(" "),
    ),
    m("comment-unclosed", '"<!--" then 900 KB, never closed', () => `<!--${"a -- b ".repeat(BIG / 8)}`),
    m("cdata-unclosed", '"<![CDATA[" then 900 KB, never closed', () => `<![CDATA[${"]] ".repeat(BIG / 3)}`),
    m("setext", "100,000 setext headings (text / ===)", () => "a\n===\n".repeat(100_000)),
    m("strike", '"~~" × 300,000', () => "~~".repeat(300_000)),
    m("tabs", "900,000 tabs before a word", () => `${"\t".repeat(BIG)}x`),
    m("blank-lines", "300,000 blank lines", () => `a${"\n".repeat(300_000)}b`),
    m(
      "attributes",
      "one element with 60,000 attributes",
      () => `<p ${Array.from({ length: 60_000 }, (_, i) => `a${i}=1`).join(" ")}>x</p>`,
    ),
    m("images", "19,000 images with 40-character URLs", () =>
      Array.from({ length: 19_000 }, (_, i) => `![i](https://example.org/img/${i}.png)`).join(" "),
    ),
    m("relative-links", "20,000 relative links to resolve", () =>
      Array.from({ length: 20_000 }, (_, i) => `[l](../a/${i}/)`).join(" "),
    ),
  ];
}

export function hostileCases(): AdversarialCase[] {
  return [
    ...escapeCases(),
    ...bigFieldCases(),
    ...characterCases(),
    ...yamlBombCases(),
    ...yamlShapeCases(),
    ...markupCases(),
  ];
}
