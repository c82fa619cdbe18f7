/**
 * Regex class: inputs that make naive regular expressions backtrack (long runs of one character
 * before a character that makes the match fail, runs of whitespace inside values and fences).
 */
import {
  type AdversarialCase,
  BODY,
  family,
  front,
  html,
  json,
  MIB,
  md,
  NEAR_MIB,
  n,
  single,
} from "./adversarial-gen.ts";

const sp = (count: number) => " ".repeat(count);
const tabs = (count: number) => "\t".repeat(count);

/** Characters Markdown, HTML or a slugger give a meaning to, in long runs (by name, for the case ids). */
const RUN_CHARS: Readonly<Record<string, string>> = {
  dash: "-",
  star: "*",
  underscore: "_",
  bracket: "[",
  lt: "<",
  backtick: "`",
  backslash: "\\",
  amp: "&",
  hash: "#",
};
const RUN_NAMES = Object.keys(RUN_CHARS);
const ch = (name: string) => RUN_CHARS[name] as string;

function authorCases(): AdversarialCase[] {
  return [
    ...family(
      "regex",
      "author-spaces",
      "md",
      [1_000, 2_000, 5_000, 20_000, 100_000],
      (k) => `author: "<${n(k)} spaces>x" (a person parser's \\s* … \\s*< backtracks)`,
      (k) => md(front("Spaces before a name", `author: "${sp(k)}x"`), BODY),
    ),
    ...family(
      "regex",
      "author-lt",
      "md",
      [1_000, 10_000, 100_000],
      (k) => `author: "a <<<…>" with ${n(k)} "<"`,
      (k) => md(front("Angle brackets", `author: "a ${"<".repeat(k)}>"`), BODY),
    ),
    ...family(
      "regex",
      "author-at",
      "md",
      [1_000, 10_000, 100_000],
      (k) => `author: "Name <a@a@a@…" with ${n(k)} "@" and no closing ">"`,
      (k) => md(front("At signs", `author: "Name <${"a@".repeat(k)}a"`), BODY),
    ),
    ...family(
      "regex",
      "author-name-spaces-email",
      "md",
      [5_000, 100_000],
      (k) => `author: "Ann<${n(k)} spaces><ann@example.com>"`,
      (k) => md(front("Spaces before an email", `author: "Ann${sp(k)}<ann@example.com>"`), BODY),
    ),
    single(
      "regex",
      "author-spaces-email",
      "md",
      'author: "<100,000 spaces><a@b.c> x" (no name, junk after the email)',
      () => md(front("Spaces then an email", `author: "${sp(100_000)}<a@b.c> x"`), BODY),
    ),
  ];
}

function headingCases(): AdversarialCase[] {
  return [
    ...headingSpaces(),
    ...family(
      "regex",
      "heading-spaces-x",
      "md",
      [10_000, 60_000, 200_000],
      (k) => `no title; body "# a" + ${n(k)} spaces + "x" (a heading regex that fails at every space)`,
      (k) => `# a${sp(k)}x\n`,
    ),
    single(
      "regex",
      "heading-tabs-hash",
      "md",
      'no title; body "# a" + 30,000 " \\t" + "#x"',
      () => `# a${" \t".repeat(30_000)}#x\n`,
    ),
  ];
}

function headingSpaces(): AdversarialCase[] {
  return family(
    "regex",
    "heading-spaces",
    "md",
    [10_000, 60_000, 200_000, NEAR_MIB],
    (k) => `Markdown body "# a" + ${n(k)} spaces and a newline, no front-matter title`,
    (k) => `# a${sp(k)}\n`,
  );
}

function runCases(): AdversarialCase[] {
  const runs = (
    name: string,
    describe: (char: string) => string,
    make: (char: string, name: string) => string,
  ) =>
    family(
      "regex",
      name,
      "md",
      RUN_NAMES,
      (key) => describe(ch(key)),
      (key) => make(ch(key), key),
    );
  return [
    ...runs(
      "title-run",
      (c) => `title of 1,990 "${c}"`,
      (c) => md(front(c.repeat(1_990)), BODY),
    ),
    ...runs(
      "heading-run",
      (c) => `no title; body "# " + 300,000 "${c}"`,
      (c) => md(["date: 2024-03-01"], `# ${c.repeat(300_000)}`),
    ),
    ...runs(
      "body-run",
      (c) => `body: one line of 500,000 "${c}"`,
      (c, name) => md(front(`Run of ${name}`), c.repeat(500_000)),
    ),
    ...runs(
      "body-spaced-run",
      (c) => `body: "${c} " × 250,000 on one line`,
      (c, name) => md(front(`Spaced run of ${name}`), `${c} `.repeat(250_000)),
    ),
  ];
}

function whitespaceValueCases(): AdversarialCase[] {
  const big = 900_000;
  return [
    single("regex", "summary-spaces", "md", `summary: "a<${n(big)} spaces>b"`, () =>
      md(front("Spacious summary", `summary: "a${sp(big)}b"`), BODY),
    ),
    single("regex", "title-tabs", "md", `title: "a<${n(big)} tabs>b"`, () =>
      md([`title: "a${tabs(big)}b"`, "date: 2024-03-01"], BODY),
    ),
    single("regex", "tags-spaces", "md", `tags: "a,<${n(big)} spaces>,b" (a comma-separated text)`, () =>
      md(front("Spacious tags", `tags: "a,${sp(big)},b"`), BODY),
    ),
    ...family(
      "regex",
      "key-spaces",
      "md",
      [100_000, big],
      (k) => `front matter "title<${n(k)} spaces>: x"`,
      (k) => md([`title${sp(k)}: x`, "date: 2024-03-01"], BODY),
    ),
    single("regex", "plain-trailing-spaces", "md", `plain value "title: a<${n(big)} spaces>"`, () =>
      md([`title: a${sp(big)}`, "date: 2024-03-01"], BODY),
    ),
    single("regex", "nbsp-title", "md", "title of 300,000 NBSP around one word", () =>
      md([`title: "${"\u00a0".repeat(150_000)}x${"\u00a0".repeat(150_000)}"`], BODY),
    ),
  ];
}

function dateCases(): AdversarialCase[] {
  const params = [1_000, 100_000, 900_000];
  return [
    ...family(
      "regex",
      "date-plain-spaces",
      "md",
      params,
      (k) => `date: 2024-01-01<${n(k)} spaces> (plain)`,
      (k) => md([`title: Dated`, `date: 2024-01-01${sp(k)}`], BODY),
    ),
    ...family(
      "regex",
      "date-quoted-spaces",
      "md",
      params,
      (k) => `date: "2024-01-01<${n(k)} spaces>x" (quoted, junk at the end)`,
      (k) => md([`title: Dated`, `date: "2024-01-01${sp(k)}x"`], BODY),
    ),
    single("regex", "date-time-spaces", "md", 'date: "2024-01-01T09:30:00<900,000 spaces>x"', () =>
      md([`title: Dated`, `date: "2024-01-01T09:30:00${sp(900_000)}x"`], BODY),
    ),
    single("regex", "json-date-spaces", "json", 'date_published: "2024-01-01<900,000 spaces>"', () =>
      JSON.stringify({ title: "Dated", date_published: `2024-01-01${sp(900_000)}`, content_text: BODY }),
    ),
    single("regex", "html-date-spaces", "html", "article:published_time of 2024-01-01 + 900,000 spaces", () =>
      html(
        "Dated",
        `<p>${BODY}</p>`,
        `<meta property="article:published_time" content="2024-01-01T09:30:00${sp(900_000)}Z">`,
      ),
    ),
  ];
}

function fenceCases(): AdversarialCase[] {
  const big = 900_000;
  const c = (name: string, description: string, text: () => string) =>
    single("regex", `fence-${name}`, "md", description, text);
  return [
    c(
      "yaml-open-spaces",
      `"---" + ${n(big)} spaces, then front matter`,
      () => `---${sp(big)}\ntitle: x\n---\n${BODY}\n`,
    ),
    c("yaml-close-tabs", `closing "---" + ${n(big)} tabs`, () => `---\ntitle: x\n---${tabs(big)}\n${BODY}\n`),
    c("yaml-unclosed-spaces", `"---" then ${n(big)} spaces, never closed`, () => `---\n${sp(big)}`),
    c(
      "yaml-unclosed-newlines",
      `"---" then ${n(big)} newlines, never closed`,
      () => `---\n${"\n".repeat(big)}`,
    ),
    c("yaml-no-newline", `"---" + ${n(big)} spaces and nothing else`, () => `---${sp(big)}`),
    c(
      "toml-open-spaces",
      `"+++" + ${n(big)} spaces, then TOML`,
      () => `+++${sp(big)}\ntitle = "x"\n+++\n${BODY}\n`,
    ),
    c(
      "toml-close-tabs",
      `closing "+++" + ${n(big)} tabs`,
      () => `+++\ntitle = "x"\n+++${tabs(big)}\n${BODY}\n`,
    ),
    c("toml-unclosed-spaces", `"+++" then ${n(big)} spaces, never closed`, () => `+++\n${sp(big)}`),
    c(
      "toml-value-spaces",
      `TOML 'title = "x"' + ${n(big)} spaces + a comment`,
      () => `+++\ntitle = "x"${sp(big)}# note\n+++\n${BODY}\n`,
    ),
    c(
      "toml-key-spaces",
      `TOML "title<${n(big)} spaces>= x"`,
      () => `+++\ntitle${sp(big)}= "x"\n+++\n${BODY}\n`,
    ),
    c(
      "toml-error-spaces",
      `TOML with an error after a line of ${n(big)} spaces`,
      () => `+++\ntitle = "x"\n${sp(big)}\nauthor = [1, {]\n+++\n${BODY}\n`,
    ),
  ];
}

function otherCases(): AdversarialCase[] {
  return [
    single(
      "regex",
      "error-line-lookup",
      "md",
      "a bad `author` after 50,000 other keys (the line lookup)",
      () => md([...Array.from({ length: 50_000 }, (_, i) => `k${i}: v`), "title: x", "author: [1, 2]"], BODY),
    ),
    single(
      "regex",
      "anchor-ladder-error",
      "md",
      "a key line of 100,000 `!a ` tags, then an error on it",
      () => md([`title: x`, `${"!a ".repeat(100_000)}author: [[1]]`], BODY),
    ),
    single("regex", "lang-ladder", "md", "lang: en-abcdefgh-… (200 subtags) + !", () =>
      md(front("Language", `lang: "en${"-abcdefgh".repeat(200)}!"`), BODY),
    ),
    single(
      "regex",
      "txt-leading-space",
      "txt",
      `text article: ${n(NEAR_MIB)} spaces and newlines, then a title`,
      () => `${" \n".repeat(NEAR_MIB / 2)}Title\n\n${BODY}\n`,
    ),
    single(
      "regex",
      "txt-blank-blocks",
      "txt",
      "text article: title, then 500,000 \\n + space pairs",
      () => `Title\n${"\n ".repeat(500_000)}\n${BODY}\n`,
    ),
    single(
      "regex",
      "json-error-late",
      "json",
      "JSON with a syntax error after 1 MiB of nested whitespace",
      () => `{"title": "x", "content_text": "y", "z": [${" \n".repeat(MIB / 2 - 100)}}`,
    ),
    single(
      "regex",
      "json-string-escapes",
      "json",
      "content_text of 300,000 escaped quotes and backslashes",
      () => json("Escapes", { content_text: '\\"'.repeat(150_000) }),
    ),
  ];
}

export function regexCases(): AdversarialCase[] {
  return [
    ...authorCases(),
    ...headingCases(),
    ...runCases(),
    ...whitespaceValueCases(),
    ...dateCases(),
    ...fenceCases(),
    ...otherCases(),
  ];
}
