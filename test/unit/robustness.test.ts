import { describe, expect, it } from "vitest";
import { FULL_TEXT_LIMIT, planFeed, toFeedItem } from "../../functions/core/build.ts";
import { parseConfig, parsePerson } from "../../functions/core/config.ts";
import { ArticleError } from "../../functions/core/errors.ts";
import { slugify } from "../../functions/core/facets.ts";
import { MAX_HTML_DEPTH, sanitizeHtml } from "../../functions/core/html.ts";
import {
  checkMarkdownShape,
  firstHeading,
  MARKDOWN_SHAPE_LIMITS,
  MAX_DELIMITER_RUNS,
  MAX_MARKDOWN_DEPTH,
} from "../../functions/core/markdown-scan.ts";
import { parseArticle } from "../../functions/core/parse.ts";
import { renderAtom } from "../../functions/core/render/atom.ts";
import { renderJsonFeed } from "../../functions/core/render/json-feed.ts";
import { cutUtf16, escapeControls, quote, truncateWords } from "../../functions/core/text.ts";
import { articleId } from "../../functions/core/urls.ts";
import { InvalidKeyError } from "../../functions/storage/errors.ts";
import { checkKey } from "../../functions/storage/keys.ts";

const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const md = (text: string) => new TextEncoder().encode(text);

function lineOfError(run: () => unknown): { message: string; line?: number } {
  try {
    run();
  } catch (error) {
    if (error instanceof ArticleError)
      return { message: error.message, ...(error.line ? { line: error.line } : {}) };
    throw error;
  }
  throw new Error("expected an ArticleError");
}

describe("text is cut on code points, never inside a surrogate pair", () => {
  it("cutUtf16 drops a high surrogate left at the cut", () => {
    expect(cutUtf16("a\u{20000}", 2)).toBe("a");
    expect(cutUtf16("a\u{20000}", 3)).toBe("a\u{20000}");
    expect(cutUtf16("ab", 5)).toBe("ab");
  });

  it("slugs of astral names longer than the slug limit are well-formed", () => {
    for (const name of [
      `a${"\u{20000}".repeat(40)}`,
      "\u{1E900}".repeat(40),
      `x${"\u{1F600}a".repeat(30)}`,
    ]) {
      const slug = slugify(name);
      expect(slug).not.toMatch(LONE);
      expect(slug.length).toBeLessThanOrEqual(60);
      expect(() => encodeURIComponent(slug)).not.toThrow();
    }
  });

  it("titles cut at 300 characters keep whole code points", () => {
    const title = `a${"\u{20000}".repeat(400)}`;
    const cut = truncateWords(title, 300);
    expect(cut).not.toMatch(LONE);
    expect(cut.endsWith("…")).toBe(true);
    const article = parseArticle("a.md", md(`---\ntitle: ${title}\n---\nx\n`));
    expect(article.title).not.toMatch(LONE);
  });
});

describe("messages quote values briefly and escape control characters", () => {
  it("quote keeps 100 characters, says how many more, escapes C0, C1 and DEL", () => {
    expect(quote("plain")).toBe('"plain"');
    expect(quote(`${"x".repeat(150)}`)).toBe(`"${"x".repeat(100)}" (and 50 more characters)`);
    expect(quote("\u001b[2J\u009b\u007f\n")).toBe('"\\u001b[2J\\u009b\\u007f\\n"');
  });

  it("escapeControls leaves text alone and makes every control visible", () => {
    expect(escapeControls("café \u{20000} <ok>")).toBe("café \u{20000} <ok>");
    expect(escapeControls("a\tb\nc\u001b]0;title\u0007")).toBe("a\\u0009b\\u000ac\\u001b]0;title\\u0007");
  });
});

describe("storage keys are checked as S3 counts them", () => {
  const reason = (key: string) => {
    try {
      checkKey(key);
      return undefined;
    } catch (error) {
      return (error as InvalidKeyError).reason;
    }
  };

  it("counts UTF-8 bytes, not UTF-16 units", () => {
    expect(reason("a".repeat(1024))).toBeUndefined();
    expect(reason("é".repeat(512))).toBeUndefined();
    expect(reason(`${"é".repeat(512)}x`)).toBe("longer than 1024 bytes of UTF-8");
    expect(reason("\u{20000}".repeat(257))).toBe("longer than 1024 bytes of UTF-8");
  });

  it("refuses lone surrogates, backslashes and control characters", () => {
    expect(reason("a\uD840b")).toBe("contains a lone UTF-16 surrogate");
    expect(reason("a\\b")).toBe("contains a backslash or control character");
    expect(reason("a\tb")).toBe("contains a backslash or control character");
    expect(() => checkKey("a\uD840")).toThrow(InvalidKeyError);
  });
});

describe("people are parsed by hand, in linear time", () => {
  it("reads Name <email> as before", () => {
    expect(parsePerson("Ann Smith <ann@example.com>")).toEqual({
      name: "Ann Smith",
      email: "ann@example.com",
    });
    expect(parsePerson("  Ann   <ann@example.com>  ")).toEqual({ name: "Ann", email: "ann@example.com" });
    expect(parsePerson("<ann@example.com>")).toEqual({ name: "<ann@example.com>" });
    expect(parsePerson("Ann <not an email>")).toEqual({ name: "Ann <not an email>" });
    expect(parsePerson("Ann <a@b> <c@d>")).toEqual({ name: "Ann <a@b> <c@d>" });
    expect(parsePerson("Ann <@b>")).toEqual({ name: "Ann <@b>" });
  });

  it("answers at once for the inputs that made the regex backtrack", () => {
    // Timed by the suite's timeout only: the old regex took minutes for these.
    expect(parsePerson(`${" ".repeat(100_000)}x`)).toEqual({ name: "x" });
    expect(parsePerson(`${" ".repeat(50_000)}Ann${" ".repeat(50_000)}<ann@x.example>`)).toEqual({
      name: "Ann",
      email: "ann@x.example",
    });
    expect(parsePerson(`A <${"a@".repeat(50_000)}>`)).toBe("the email address is longer than 254 characters");
  });

  it("normalises a person's URL once, so Atom and JSON Feed carry the same one", () => {
    const person = parsePerson({ name: "Ann", url: "HTTPS://Example.COM/a b/é" });
    expect(person).toEqual({ name: "Ann", url: "https://example.com/a%20b/%C3%A9" });
    const config = parseConfig({ title: "T", url: "https://t.example/" });
    const model = {
      id: config.url,
      title: "T",
      description: "",
      homeUrl: config.url,
      language: "en",
      author: person as { name: string; url: string },
      updated: new Date(0),
      links: { rss: `${config.url}rss.xml`, atom: `${config.url}atom.xml`, json: `${config.url}feed.json` },
      items: [],
    };
    const json = JSON.parse(renderJsonFeed(model)) as { authors: { url: string }[] };
    expect(json.authors[0]?.url).toBe("https://example.com/a%20b/%C3%A9");
    expect(renderAtom(model, "atom.xsl")).toContain("<uri>https://example.com/a%20b/%C3%A9</uri>");
  });
});

describe("the heading-title fallback is a single pass", () => {
  it("reads ATX level-1 headings as CommonMark does", () => {
    expect(firstHeading("# Title")).toBe("Title");
    expect(firstHeading("text\n   #   Spaced   ##  \nmore")).toBe("Spaced");
    expect(firstHeading("# Learn C#")).toBe("Learn C#");
    expect(firstHeading("# ###")).toBe("###");
    expect(firstHeading("    # four spaces is code\n#nospace\n## two\n# real")).toBe("real");
    expect(firstHeading("no heading")).toBeUndefined();
  });

  it("takes the title after a megabyte of trailing spaces at once", () => {
    expect(firstHeading(`# a${" ".repeat(1_000_000)}`)).toBe("a");
    expect(parseArticle("x.md", md(`# a${" \t".repeat(400_000)}\n\nbody`)).title).toBe("a");
  });
});

describe("Markdown shape limits, checked before the parser", () => {
  it("refuses containers nested deeper than the limit, naming the line", () => {
    const ok = `${"> ".repeat(MAX_MARKDOWN_DEPTH)}x`;
    expect(() => checkMarkdownShape(ok, 1)).not.toThrow();
    const deep = lineOfError(() => checkMarkdownShape(`a\n\n${">".repeat(MAX_MARKDOWN_DEPTH + 1)} x`, 5));
    expect(deep).toEqual({
      message: `Markdown nested ${MAX_MARKDOWN_DEPTH + 1} levels deep (block quotes, lists); articles are limited to ${MAX_MARKDOWN_DEPTH}`,
      line: 7,
    });
    const dashes = lineOfError(() => checkMarkdownShape(`${"- ".repeat(40)}x`, 1));
    expect(dashes.message).toMatch(/nested 40 levels/);
    const indented = Array.from({ length: 40 }, (_, i) => `${"  ".repeat(i)}- item`).join("\n");
    expect(lineOfError(() => checkMarkdownShape(indented, 1)).message).toMatch(/nested \d+ levels/);
  });

  it("leaves ordinary Markdown alone: code indentation, numbered lists, rules", () => {
    const ordinary = [
      "1. one",
      "   - nested",
      "     - deeper",
      "",
      "```yaml",
      `${" ".repeat(80)}deep: code`,
      "```",
      "---",
      "* * *",
      `${"word ".repeat(2000)}`,
    ].join("\n");
    expect(() => checkMarkdownShape(ordinary, 1)).not.toThrow();
  });

  it("counts emphasis runs per paragraph, not inside fenced code", () => {
    const many = "*a* ".repeat(MAX_DELIMITER_RUNS / 2 + 1);
    expect(lineOfError(() => checkMarkdownShape(`intro\n\n${many}`, 3))).toEqual({
      message: "a paragraph has more than 2,000 emphasis marks (*, _ or ~ runs); split it or escape them",
      line: 5,
    });
    const split = `${"*a* ".repeat(600)}\n\n${"*a* ".repeat(600)}`;
    expect(() => checkMarkdownShape(split, 1)).not.toThrow();
    const fenced = `\`\`\`\n${"snake_case_name ".repeat(3000)}\n\`\`\``;
    expect(() => checkMarkdownShape(fenced, 1)).not.toThrow();
    // `**` is one run.
    expect(() => checkMarkdownShape("**bold** ".repeat(900), 1)).not.toThrow();
  });

  it("is applied by the parser, with the line in the file", () => {
    const error = lineOfError(() =>
      parseArticle("deep.md", md(`---\ntitle: T\n---\nok\n${">".repeat(100)} x\n`)),
    );
    expect(error.line).toBe(5);
  });
});

describe("an id belongs to its own article", () => {
  const config = parseConfig({ title: "T", url: "https://ids.example/" });
  const now = new Date("2025-01-01T00:00:00Z");
  const entry = (path: string, id?: string) => ({
    path,
    hash: path,
    draft: false,
    date: new Date("2024-06-01T00:00:00Z"),
    ...(id ? { id } : {}),
  });
  const plan = (entries: ReturnType<typeof entry>[]) => planFeed({ config, now, seen: {}, entries });

  it("refuses a written id equal to another article's derived one, whichever path comes first", () => {
    for (const thief of ["a-thief.md", "z-thief.md"]) {
      const stolen = articleId({ path: "m-victim.md" }, config);
      const result = plan([
        entry("m-victim.md"),
        entry(thief, stolen.toUpperCase().replace("URN:UUID:", "urn:uuid:")),
      ]);
      expect(result.chosen.map((c) => c.path)).toEqual(["m-victim.md"]);
      expect(result.problems).toEqual([
        {
          file: thief,
          reason: `duplicate id ${JSON.stringify(stolen.toUpperCase().replace("URN:UUID:", "urn:uuid:"))}: it is the id m-victim.md has from its file path; give this article an id of its own`,
        },
      ]);
    }
  });

  it("still settles written ids by path, and lets an article pin its own derived id", () => {
    const own = articleId({ path: "old-name.md" }, config);
    const result = plan([
      entry("new-name.md", own),
      entry("other.md", "tag:x,2024:a"),
      entry("p.md", "tag:x,2024:a"),
    ]);
    expect(result.chosen.map((c) => c.path).sort()).toEqual(["new-name.md", "other.md"]);
    expect(result.problems.map((p) => p.file)).toEqual(["p.md"]);
  });
});

describe("HTML nesting and meta fields are bounded", () => {
  it("refuses HTML nested deeper than the limit, in articles and in Markdown bodies", () => {
    const deep = `${"<span>".repeat(MAX_HTML_DEPTH + 1)}x`;
    expect(() => sanitizeHtml(deep, "https://x.example/")).toThrow(
      `the HTML nests elements more than ${MAX_HTML_DEPTH} deep`,
    );
    const ok = `${"<span>".repeat(MAX_HTML_DEPTH - 2)}x`;
    expect(sanitizeHtml(ok, "https://x.example/").text).toBe("x");
    const page = `<html><head><title>T</title></head><body>${"<div>".repeat(5000)}${"</b>".repeat(100_000)}</body></html>`;
    expect(() => parseArticle("deep.html", md(page))).toThrow(/nests elements more than 128 deep/);
  });

  it("implied closes and void elements do not count as nesting", () => {
    const flat = `${"<p>para<br><img src=a.png>".repeat(5000)}${"<li>item".repeat(5000)}`;
    expect(() => sanitizeHtml(flat, "https://x.example/")).not.toThrow();
  });

  it("caps <meta> keywords, description and author as front matter is capped", () => {
    const head = (meta: string) => md(`<html><head><title>T</title>${meta}</head><body>x</body></html>`);
    const keywords = Array.from({ length: 21 }, (_, i) => `k${i}`).join(",");
    expect(() => parseArticle("a.html", head(`<meta name="keywords" content="${keywords}">`))).toThrow(
      '<meta name="keywords"> names 21 tags; an article may have at most 20',
    );
    expect(() => parseArticle("a.html", head(`<meta name="author" content="${"a".repeat(201)}">`))).toThrow(
      '<meta name="author"> is longer than 200 characters',
    );
    expect(() =>
      parseArticle("a.html", head(`<meta name="description" content="${"d".repeat(2001)}">`)),
    ).toThrow('<meta name="description"> is longer than 2000 characters');
  });
});

describe("very long bodies are carried by their summary", () => {
  const config = parseConfig({ title: "T", url: "https://long.example/" });
  const chosen = {
    path: "long.md",
    id: "urn:uuid:0",
    published: new Date("2024-01-01T00:00:00Z"),
    updated: new Date("2024-01-01T00:00:00Z"),
  };
  const paragraph = "Words of an ordinary paragraph, with *emphasis* and a [link](https://x.example/).";

  it("renders full text up to FULL_TEXT_LIMIT, and only a summary beyond it", () => {
    const short = parseArticle("long.md", md(`---\ntitle: Short\n---\n${`${paragraph}\n\n`.repeat(1000)}`));
    expect(short.body.length).toBeLessThan(FULL_TEXT_LIMIT);
    const shortItem = toFeedItem(short, chosen, config);
    expect(shortItem.contentHtml).toContain("<em>emphasis</em>");

    const long = parseArticle("long.md", md(`---\ntitle: Long\n---\n${`${paragraph}\n\n`.repeat(5000)}`));
    expect(long.body.length).toBeGreaterThan(FULL_TEXT_LIMIT);
    const item = toFeedItem(long, chosen, config);
    // Carried by its summary alone: no content, so no reader takes it for the whole article.
    expect(item.contentHtml).toBeUndefined();
    // The same summary as the full render would give: taken from the start of the text.
    expect(item.summary).toBe(shortItem.summary);
    expect(item.summary.length).toBeLessThanOrEqual(300);
  });

  it("an author's summary is kept, and the body past the limit is never rendered", () => {
    const body = `${paragraph}\n\n`.repeat(4000) + "<div>".repeat(30_000);
    const article = parseArticle("long.md", md(`---\ntitle: Long\nsummary: Given.\n---\n${body}`));
    // 30,000 elements would be refused by the sanitiser if the tail were rendered.
    const item = toFeedItem(article, chosen, config);
    expect(item.contentHtml).toBeUndefined();
    expect(item.summary).toBe("Given.");
  });
});

describe("front matter and JSON structure are bounded before their parsers run", () => {
  it("refuses front matter over 64 KiB, YAML or TOML, on line 1", () => {
    const keys = Array.from({ length: 8000 }, (_, i) => `k${i}: v`).join("\n");
    expect(lineOfError(() => parseArticle("a.md", md(`---\ntitle: T\n${keys}\n---\nbody\n`)))).toEqual({
      message: `the front matter is ${(keys.length + 9).toLocaleString("en-US")} characters; it is limited to 65,536 (put long text in the body)`,
      line: 1,
    });
    const toml = Array.from({ length: 8000 }, (_, i) => `k${i} = "v"`).join("\n");
    expect(
      lineOfError(() => parseArticle("a.md", md(`+++\ntitle = "T"\n${toml}\n+++\nbody\n`))).message,
    ).toMatch(/^the front matter is [\d,]+ characters; it is limited to 65,536/);
    expect(parseArticle("a.md", md(`---\ntitle: T\nsummary: ${"s".repeat(1900)}\n---\nbody\n`)).title).toBe(
      "T",
    );
  });

  it("refuses JSON nested deeper than 64, counting only brackets outside strings", () => {
    const deep = `{"title": "T", "content_text": "x", "extra": ${"[".repeat(65)}${"]".repeat(65)}}`;
    expect(lineOfError(() => parseArticle("a.json", md(deep))).message).toBe(
      "the JSON nests arrays or objects more than 64 deep",
    );
    const inString = `{"title": "T", "content_text": "${"[".repeat(5000)}\\" {{{"}`;
    expect(parseArticle("a.json", md(inString)).body).toBe(`${"[".repeat(5000)}" {{{`);
  });
});

describe("Markdown shapes marked rescans are bounded before it runs", () => {
  const shape = (body: string) => {
    try {
      checkMarkdownShape(body, 1);
      return "ok";
    } catch (error) {
      return (error as Error).message;
    }
  };
  const limits = MARKDOWN_SHAPE_LIMITS;

  it("tables: at most 64 columns and 20,000 cells", () => {
    const table = (columns: number, rows: number) =>
      `${"|a".repeat(columns)}|\n${"|-".repeat(columns)}|\n${"|b|\n".repeat(rows)}`;
    expect(shape(table(64, 10))).toBe("ok");
    expect(shape(table(65, 1))).toBe("a table has 65 columns; tables are limited to 64");
    expect(shape(table(64, 400))).toBe("a table has more than 20,000 cells; split it");
    expect(shape(`${table(64, 300)}\n${table(64, 300)}`)).toBe("ok");
    expect(shape("a | b\n--|--\n---\n- - -")).toBe("ok");
  });

  it("list items: a paragraph of at most 50 lines", () => {
    const item = (lines: number, indent = "") => `- a\n${`${indent}b\n`.repeat(lines)}`;
    expect(shape(item(limits.listParagraphLines))).toBe("ok");
    expect(shape(item(limits.listParagraphLines + 1, "  "))).toBe(
      "a list item has a paragraph of more than 50 lines; separate them with blank lines",
    );
    expect(shape(`${item(40)}\n  ${"b\n  ".repeat(40)}`)).toBe("ok");
    // A paragraph after the list is not the list's.
    expect(shape(`${item(10)}\nplain\n${"text\n".repeat(500)}`)).toBe("ok");
  });

  it("at most 100 '<!' or '<?' a paragraph, and no word over 254 characters before an '@'", () => {
    expect(shape(`a ${"<!-- x --> ".repeat(100)}`)).toBe("ok");
    expect(shape(`a ${"<!--".repeat(101)}`)).toMatch(/^a paragraph has more than 100 "<!" or "<\?"/);
    expect(shape(`${"<?x\n\n".repeat(500)}`)).toBe("ok");
    expect(shape(`mail ${"a".repeat(254)}@example.com`)).toBe("ok");
    expect(shape(`x ${"a.".repeat(200)}@`)).toBe(
      '400 characters run into an "@" (an e-mail address is at most 254)',
    );
  });
});
