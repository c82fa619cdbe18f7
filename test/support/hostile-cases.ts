/**
 * One article per way a single file used to take a whole build down (each reproduced on the code
 * before the robustness issue): names the storage refuses, slugs cut inside a surrogate pair,
 * inputs that made regexes backtrack, unbounded fan-out, deep Markdown, an id takeover and
 * terminal escapes. Each case says what must happen to it: published (with its title) or
 * reported (a pattern for its reason). Shared by the CLI tests and the handler tests on moto.
 */
import { nameUuid } from "../../functions/core/urls.ts";

export const HOSTILE_SITE_URL = "https://hostile.example.org/";

export interface HostileCase {
  readonly body: string | Uint8Array;
  /** Published under this title, or reported with a reason matching this pattern. */
  readonly outcome: { readonly published: string } | { readonly reported: RegExp };
}

const ASTRAL = "\u{20000}"; // CJK Extension B: two UTF-16 units
const ADLAM = "\u{1E900}\u{1E901}\u{1E902}"; // Adlam letters, astral too

/** The id an article at `path` gets from its path on HOSTILE_SITE_URL. */
export function derivedId(path: string): string {
  return `urn:uuid:${nameUuid(`${HOSTILE_SITE_URL}\u0000path:${path}`)}`;
}

const article = (title: string, extra = "", body = "Body.\n") =>
  `---\ntitle: ${JSON.stringify(title)}\ndate: 2024-02-01T00:00:00Z\n${extra}---\n${body}`;

/** Good articles beside the hostile ones: every one must be published, whatever the others do. */
export const GOOD_CASES: Record<string, HostileCase> = {
  "good/one.md": { body: article("Good one", "tags: [news]\n"), outcome: { published: "Good one" } },
  "good/two.txt": { body: "Good two\n\nPlain text.\n", outcome: { published: "Good two" } },
  "good/victim.md": { body: article("Victim keeps its id"), outcome: { published: "Victim keeps its id" } },
  "good/z-victim.md": { body: article("Second victim"), outcome: { published: "Second victim" } },
};

export const HOSTILE_CASES: Record<string, HostileCase> = {
  // 1. Names the storage port refuses: reported by their name, never the build's failure.
  "names/back\\slash.md": {
    body: article("Backslash"),
    outcome: { reported: /file name cannot be published/ },
  },
  "names/tab\tname.md": { body: article("Tab"), outcome: { reported: /backslash or control character/ } },
  "names/new\nline.md": { body: article("Newline"), outcome: { reported: /backslash or control character/ } },
  "names/esc\u001b[2Jname.md": { body: article("Escape"), outcome: { reported: /control character/ } },
  // 2. Slugs of astral letters longer than the slug limit: cut between code points.
  "slugs/astral-tag.md": {
    body: article(
      "Astral tag",
      `tags: [${JSON.stringify(`a${ASTRAL.repeat(40)}`)}]\nauthor: ${JSON.stringify(`b${ADLAM.repeat(14)}`)}\n`,
    ),
    outcome: { published: "Astral tag" },
  },
  // 3. Inputs that made the person and heading regexes backtrack (cubic and quadratic).
  "regex/author-spaces.md": {
    body: article("Author of spaces", `author: ${JSON.stringify(`${" ".repeat(5000)}x`)}\n`),
    outcome: { published: "Author of spaces" },
  },
  "regex/author-padded.md": {
    body: article(
      "Padded author",
      `author: ${JSON.stringify(`${" ".repeat(3000)}Ann${" ".repeat(3000)}<ann@x.example>`)}\n`,
    ),
    outcome: { published: "Padded author" },
  },
  "regex/author-brackets.md": {
    body: article("Author of brackets", `author: ${JSON.stringify(`a ${"<".repeat(5000)}b@c>`)}\n`),
    outcome: { reported: /author: the name is longer than 200 characters/ },
  },
  "regex/email-ats.md": {
    body: article("Email of ats", `author: ${JSON.stringify(`Ann <${"a@".repeat(100)}>`)}\n`),
    outcome: { published: "Email of ats" },
  },
  "regex/heading-spaces.md": {
    body: `# Heading of spaces${" ".repeat(200_000)}\n\nBody.\n`,
    outcome: { published: "Heading of spaces" },
  },
  // 4. Fan-out: bounded by the limits, refused with the count.
  "fanout/authors.json": {
    body: JSON.stringify({
      title: "Two thousand authors",
      content_text: "x",
      authors: Array.from({ length: 2000 }, (_, i) => ({ name: `Author ${i}` })),
    }),
    outcome: { reported: /authors: names 2000 authors; an article may name at most 10/ },
  },
  "fanout/tags.md": {
    body: article("Many tags", `tags: [${Array.from({ length: 300 }, (_, i) => `t${i}`).join(", ")}]\n`),
    outcome: { reported: /tags: names 300 tags, categories and keywords; an article may have at most 20/ },
  },
  // 5. Deep Markdown, refused before the parser sees it.
  "nesting/blockquotes.md": {
    body: article("Blockquote ladder", "", `Intro.\n\n${">".repeat(1000)} deep\n`),
    outcome: { reported: /Markdown nested 1000 levels deep/ },
  },
  "nesting/lists.md": {
    body: article(
      "List ladder",
      "",
      Array.from({ length: 1000 }, (_, i) => `${"  ".repeat(i)}- level ${i}`).join("\n"),
    ),
    outcome: { reported: /Markdown nested \d+ levels deep/ },
  },
  "nesting/emphasis.md": {
    body: article("Emphasis storm", "", `${"a**".repeat(100_000)}\n`),
    outcome: { reported: /more than 2,000 emphasis marks/ },
  },
  // 6. Id takeover: a derived id belongs to its own article, whichever path sorts first.
  "good/a-thief.md": {
    body: article("Thief before", `id: ${derivedId("good/victim.md")}\n`),
    outcome: { reported: /duplicate id .*: it is the id good\/victim\.md has from its file path/ },
  },
  "good/zz-thief.md": {
    body: article(
      "Thief after",
      `id: ${derivedId("good/z-victim.md").toUpperCase().replace("URN:UUID:", "urn:uuid:")}\n`,
    ),
    outcome: { reported: /duplicate id .*: it is the id good\/z-victim\.md has from its file path/ },
  },
  // 7. Terminal escapes and a huge invalid value: quoted briefly, escaped.
  "values/escapes.md": {
    body: article("Escapes", `draft: "\\e[2J\\e]0;pwned\\aOK"\n`),
    outcome: { reported: /draft: must be true or false, got string "\\u001b\[2J\\u001b\]0;pwned\\u0007OK"/ },
  },
  "values/huge.md": {
    body: article("Huge value", `lang: ${"x".repeat(60_000)}\n`),
    outcome: { reported: /lang: is longer than 2000 characters$/ },
  },
  "values/huge-front-matter.md": {
    body: article("Huge front matter", `lang: ${"x".repeat(900_000)}\n`),
    outcome: { reported: /the front matter is 900,0\d\d characters; it is limited to 65,536/ },
  },
};

export const ALL_CASES: Record<string, HostileCase> = { ...GOOD_CASES, ...HOSTILE_CASES };

/** Titles that must be in the main feed. */
export function publishedTitles(cases: Record<string, HostileCase> = ALL_CASES): string[] {
  return Object.values(cases)
    .flatMap((c) => ("published" in c.outcome ? [c.outcome.published] : []))
    .sort();
}

/** Paths that must be reported, with their pattern. */
export function reportedCases(cases: Record<string, HostileCase> = ALL_CASES): [string, RegExp][] {
  return Object.entries(cases).flatMap(([path, c]) =>
    "reported" in c.outcome ? [[path, c.outcome.reported]] : [],
  );
}
