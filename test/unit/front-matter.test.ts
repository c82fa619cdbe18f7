import { describe, expect, it } from "vitest";
import { ArticleError } from "../../functions/core/errors.ts";
import { loadYaml, splitFrontMatter, YamlError } from "../../functions/core/front-matter.ts";
import { articleErrorOf, errorOf } from "./support.ts";

describe("splitFrontMatter: YAML", () => {
  it("splits the mapping from the body and reports where the body starts", () => {
    const text = "---\ntitle: Hello\ntags: [a, b]\n---\nFirst line of body.\n";

    const fm = splitFrontMatter(text);

    expect(fm.data).toEqual({ title: "Hello", tags: ["a", "b"] });
    expect(fm.body).toBe("First line of body.\n");
    expect(fm.bodyLine).toBe(5);
  });

  it("locates each top-level key on its line in the file (the fence is line 1)", () => {
    const text = "---\n# a comment\ntitle: Hello\n\n'quoted key': 1\nauthors:\n  - Ann\n---\nbody";

    const fm = splitFrontMatter(text);

    expect(fm.lineOf("title")).toBe(3);
    expect(fm.lineOf("quoted key")).toBe(5);
    expect(fm.lineOf("authors")).toBe(6);
    expect(fm.lineOf("missing")).toBeUndefined();
  });

  it("accepts `...` as the closing fence and trailing blanks after fences", () => {
    const fm = splitFrontMatter("---  \ntitle: Dots\n... \nbody");

    expect(fm.data).toEqual({ title: "Dots" });
    expect(fm.body).toBe("body");
  });

  it("does not end the front matter at a value that ends in '...' or '---'", () => {
    const text = "---\ntitle: A\nsummary: Wait for it...\nnote: a---\ndate: 2024-01-01\n---\nbody";

    const fm = splitFrontMatter(text);

    expect(fm.data).toEqual({ title: "A", summary: "Wait for it...", note: "a---", date: "2024-01-01" });
    expect(fm.body).toBe("body");
  });

  it("treats an empty block as no fields", () => {
    const fm = splitFrontMatter("---\n---\n# Heading\n");

    expect(fm.data).toEqual({});
    expect(fm.body).toBe("# Heading\n");
  });

  it("keeps dates as text (core schema): no time-zone guessing by the YAML parser", () => {
    const fm = splitFrontMatter("---\ndate: 2024-03-01\nflag: yes\n---\n");

    expect(fm.data).toEqual({ date: "2024-03-01", flag: "yes" });
  });

  it("returns the whole text as body when there is no front matter", () => {
    const text = "# Just markdown\n\n---\n\nwith a rule";

    const fm = splitFrontMatter(text);

    expect(fm.data).toEqual({});
    expect(fm.body).toBe(text);
    expect(fm.bodyLine).toBe(1);
  });

  it("does not mistake a '----' thematic break for a fence", () => {
    expect(splitFrontMatter("----\ntext\n").data).toEqual({});
  });
});

describe("splitFrontMatter: TOML", () => {
  it("parses +++ blocks, including native dates and arrays", () => {
    const text = '+++\ntitle = "Corrections"\ndate = 2026-10-01T12:00:00Z\ntags = ["meta"]\n+++\nBody';

    const fm = splitFrontMatter(text);

    expect(fm.data.title).toBe("Corrections");
    expect(fm.data.date).toBeInstanceOf(Date);
    expect((fm.data.date as Date).toISOString()).toBe("2026-10-01T12:00:00.000Z");
    expect(fm.data.tags).toEqual(["meta"]);
    expect(fm.body).toBe("Body");
  });

  it("locates bare, quoted and table-header keys", () => {
    const text = [
      "+++",
      "# comment",
      'title = "T"',
      "'slug' = \"s\"",
      "",
      "[[authors]]",
      'name = "Ann"',
      "+++",
      "body",
    ].join("\n");

    const fm = splitFrontMatter(text);

    expect(fm.lineOf("title")).toBe(3);
    expect(fm.lineOf("slug")).toBe(4);
    expect(fm.lineOf("authors")).toBe(6);
    expect(fm.lineOf("name")).toBe(7);
    expect(fm.lineOf("tags")).toBeUndefined();
  });

  it("reports invalid TOML with its line", () => {
    const error = articleErrorOf(() => splitFrontMatter("+++\ntitle = 'ok'\ndate = = 3\n+++\n"));

    expect(error.message).toMatch(/^front matter is not valid TOML: /);
    expect(error.line).toBe(3);
  });

  it("reports a +++ block that is never closed", () => {
    const error = articleErrorOf(() => splitFrontMatter('+++\ntitle = "x"\nbody'));

    expect(error.message).toBe("front matter starts with +++ but has no closing +++ line");
    expect(error.line).toBe(1);
  });
});

describe("splitFrontMatter: broken YAML fails cleanly", () => {
  it.each([
    ["an unclosed flow list", "---\ntitle: ok\ntags: [a, b\n---\nbody", 3],
    ["a doubled colon", "---\ntitle: ok\n\nbad: : x\n---\n", 4],
    ["an unclosed quote", '---\ntitle: "unclosed\n---\n', 2],
  ])("reports %s with the line it is on", (_name, text, line) => {
    const error = articleErrorOf(() => splitFrontMatter(text));

    expect(error.message).toMatch(/^front matter is not valid YAML: \S/);
    expect(error.line).toBe(line);
  });

  // js-yaml marks where it noticed the error, often a line or more later (for an unclosed quote,
  // the end of the block); these are the lines a person reading the file points at.
  it.each([
    [
      "an unclosed flow list, fields after it",
      "---\ntitle: ok\ntags: [a, b\ndate: 2024-01-01\nauthor: x\n---\n",
      3,
    ],
    [
      "an unclosed flow mapping, fields after it",
      "---\ntitle: ok\nauthor: {name: x\ndate: 2024-01-01\n---\n",
      3,
    ],
    [
      "a list left open over two lines",
      "---\ntitle: ok\ntags: [a,\n  b\ndate: 2024-01-01\nslug: s\n---\n",
      3,
    ],
    ["an unclosed double quote, fields after it", '---\ntitle: "Hello\ndate: 2024-01-01\nslug: s\n---\n', 2],
    ["an unclosed single quote, fields after it", "---\ntitle: 'Hello\ndate: 2024-01-01\n---\n", 2],
    ["a line with no colon", "---\ntitle: ok\njust some words\ndate: 2024-01-01\nslug: s\n---\n", 3],
    ["a missing space after the colon", "---\ntitle:Hello\ndate: 2024-01-01\n---\n", 2],
    ["a key indented too deep", "---\ntitle: ok\ndate: 2024-01-01\n  tags: x\nslug: s\n---\n", 4],
    [
      "a nested key indented too little",
      "---\ntitle: ok\nauthor:\n  name: x\n email: y\ndate: 2024\n---\n",
      5,
    ],
    ["a list item out of line", "---\ntitle: ok\ntags:\n  - a\n - b\ndate: 2024\n---\n", 5],
    ["a tab in the indentation", "---\ntitle: ok\nauthor:\n\tname: x\ndate: 2024\n---\n", 4],
    ["an error after comments and blank lines", "---\n# a comment\n\ntitle: ok\ntags: [a\nslug: s\n---\n", 5],
    // A list that spans lines and closes is fine: the quote after it is what is wrong.
    ["an unclosed quote after a multi-line list", '---\ntags: [a,\n  b]\ntitle: "Hello\nslug: s\n---\n', 4],
  ])("reports %s on the line a person would point at", (_name, text, line) => {
    const error = articleErrorOf(() => splitFrontMatter(text));

    expect(error.message).toMatch(/^front matter is not valid YAML: \S/);
    expect(error.line).toBe(line);
  });

  it("gives loadYaml's line and column in the text it read (feedpub.config.yaml)", () => {
    const error = errorOf(() => loadYaml('title: ok\nurl: "https://example.org/\nlanguage: en\n'));

    expect(error).toBeInstanceOf(YamlError);
    expect([(error as YamlError).line, (error as YamlError).column]).toEqual([2, 1]);
  });

  it("reports front matter that is never closed", () => {
    const error = articleErrorOf(() => splitFrontMatter("---\ntitle: x\n\nThe body, no closing fence."));

    expect(error.message).toBe("front matter starts with --- but has no closing --- line");
    expect(error.line).toBe(1);
  });

  it("reports a lone opening fence", () => {
    expect(articleErrorOf(() => splitFrontMatter("---")).message).toMatch(/no closing ---/);
  });

  it("refuses duplicate keys and points at the second one", () => {
    const error = articleErrorOf(() => splitFrontMatter("---\ntitle: A\ndate: 2024-01-01\ntitle: B\n---\n"));

    expect(error.message).toMatch(/not valid YAML: .*unique/i);
    expect(error.line).toBe(4);
  });

  it("refuses a list or a scalar where fields are expected", () => {
    expect(articleErrorOf(() => splitFrontMatter("---\n- a\n- b\n---\n")).message).toBe(
      "front matter must be a mapping of fields (key: value)",
    );
    expect(articleErrorOf(() => splitFrontMatter("---\njust text\n---\n")).message).toMatch(/mapping/);
  });

  it("stops an exponential alias bomb ('billion laughs') with a clear message", () => {
    const levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    const text = `---\n${levels.join("\n")}\ntitle: boom\n---\nbody`;

    const error = errorOf(() => splitFrontMatter(text));

    expect(error).toBeInstanceOf(ArticleError);
    expect(error.message).toMatch(/^front matter is not usable YAML: .*alias/i);
  });

  it("allows a handful of ordinary aliases", () => {
    const fm = splitFrontMatter("---\nbase: &who Ann\nauthor: *who\n---\n");

    expect(fm.data.author).toBe("Ann");
  });

  it("never turns custom tags into code or objects: their values stay plain text", () => {
    const fm = splitFrontMatter('---\ntitle: !!js/function "function(){}"\ncount: !custom 5\n---\n');

    expect(fm.data).toEqual({ title: "function(){}", count: "5" });
  });
});
