import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MAX_ARTICLE_BYTES, parseArticle, sourceKind } from "../../functions/core/parse.ts";
import { renderBody } from "../../functions/core/render-body.ts";
import { articleErrorOf, collapse, encode, paragraphTexts, parseText } from "./support.ts";

const SEED_URL = new URL("../../content/000_4dbd7126f40f73dd.txt", import.meta.url);

describe("sourceKind", () => {
  it.each([
    ["posts/a.md", "markdown"],
    ["posts/a.MARKDOWN", "markdown"],
    ["a.mdown", "markdown"],
    ["notes/a.txt", "text"],
    ["a.text", "text"],
    ["a.html", "html"],
    ["a.HTM", "html"],
    ["a.json", "json"],
  ])("%s is %s", (path, kind) => {
    expect(sourceKind(path)).toBe(kind);
  });

  it.each([
    "cover.jpg",
    "README",
    ".hidden.md",
    ".git/config.md",
    "posts/.drafts/a.md",
    "_drafts/a.md",
    "posts/_index.md",
    "posts/a.md~",
    "posts//a.md",
    ".md",
  ])("%s is not an article", (path) => {
    expect(sourceKind(path)).toBeUndefined();
  });
});

describe("parseArticle: Markdown with YAML front matter", () => {
  it("reads every supported field", () => {
    const text = [
      "---",
      "title: 'Border towns: a week on the road'",
      "date: 2026-11-10T08:30:00+09:00",
      "lastmod: 2026-11-12T10:00:00+09:00",
      "publishDate: 2026-11-10",
      "expiryDate: 2030-01-01",
      "draft: false",
      "description: Notes from a week along the river.",
      "categories: [reportage]",
      "tags: [travel, economy]",
      "authors:",
      "  - name: Min-ji Park",
      "    email: minji@news.example.org",
      "  - Tom Reyes <tom@news.example.org>",
      "  - Plain Name",
      "id: tag:news.example.org,2026:road-trip",
      "slug: road-trip",
      "url: /reports/road-trip/",
      "image: cover.jpg",
      "lang: en-GB",
      "---",
      "We drove the river road for a week.",
    ].join("\n");

    const article = parseText("posts/road-trip/index.md", text);

    expect(article).toEqual({
      path: "posts/road-trip/index.md",
      title: "Border towns: a week on the road",
      date: new Date("2026-11-09T23:30:00Z"),
      updated: new Date("2026-11-12T01:00:00Z"),
      publishDate: new Date("2026-11-10T00:00:00Z"),
      expiryDate: new Date("2030-01-01T00:00:00Z"),
      draft: false,
      summary: "Notes from a week along the river.",
      tags: ["travel", "economy", "reportage"],
      authors: [
        { name: "Min-ji Park", email: "minji@news.example.org" },
        { name: "Tom Reyes", email: "tom@news.example.org" },
        { name: "Plain Name" },
      ],
      id: "tag:news.example.org,2026:road-trip",
      slug: "road-trip",
      url: "/reports/road-trip/",
      image: "cover.jpg",
      language: "en-GB",
      format: "markdown",
      body: "We drove the river road for a week.",
      hash: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
  });

  it("reads `updated`, `summary` and a single `author` string", () => {
    const article = parseText(
      "a.md",
      "---\ntitle: T\nupdated: 2024-05-01\nsummary: S\nauthor: Ann <ann@example.org>\n---\n",
    );

    expect(article.updated).toEqual(new Date("2024-05-01T00:00:00Z"));
    expect(article.summary).toBe("S");
    expect(article.authors).toEqual([{ name: "Ann", email: "ann@example.org" }]);
  });

  it("marks `draft: true` and Jekyll's `published: false` as drafts", () => {
    expect(parseText("a.md", "---\ntitle: T\ndraft: true\n---\n").draft).toBe(true);
    expect(parseText("a.md", "---\ntitle: T\npublished: false\n---\n").draft).toBe(true);
    expect(parseText("a.md", "---\ntitle: T\npublished: true\n---\n").draft).toBe(false);
  });

  it("defaults: not a draft, no tags, no authors, no dates", () => {
    const article = parseText("a.md", "---\ntitle: Bare\n---\nText");

    expect(article).toMatchObject({ draft: false, tags: [], authors: [] });
    expect(article.date).toBeUndefined();
    expect(article.updated).toBeUndefined();
  });

  it("keeps a summary that ends in '...' and the fields after it", () => {
    const article = parseText("a.md", "---\ntitle: T\nsummary: To be continued...\ntags: [a]\n---\nBody");

    expect(article.summary).toBe("To be continued...");
    expect(article.tags).toEqual(["a"]);
    expect(article.body).toBe("Body");
  });
});

describe("parseArticle: Markdown with TOML front matter", () => {
  it("reads the same fields from +++ blocks", () => {
    const text = [
      "+++",
      'title = "Corrections policy"',
      "date = 2026-10-01T12:00:00Z",
      "lastmod = 2026-10-02",
      'slug = "corrections"',
      'tags = ["meta"]',
      'summary = "How we correct mistakes."',
      "draft = false",
      "",
      "[[authors]]",
      'name = "Ann"',
      'email = "ann@example.org"',
      "+++",
      "When we get something wrong we say so.",
    ].join("\n");

    const article = parseText("notes/toml.md", text);

    expect(article).toMatchObject({
      title: "Corrections policy",
      date: new Date("2026-10-01T12:00:00Z"),
      updated: new Date("2026-10-02T00:00:00Z"),
      slug: "corrections",
      tags: ["meta"],
      summary: "How we correct mistakes.",
      draft: false,
      authors: [{ name: "Ann", email: "ann@example.org" }],
      body: "When we get something wrong we say so.",
    });
  });
});

describe("parseArticle: Jekyll file names", () => {
  it("takes the date and slug from 2024-03-01-hello.md", () => {
    const article = parseText("posts/2024-03-01-hello.md", "---\ntitle: Hello\n---\nHi");

    expect(article.date).toEqual(new Date("2024-03-01T00:00:00Z"));
    expect(article.slug).toBe("hello");
  });

  it("lets the front matter override the file name's date and slug", () => {
    const article = parseText(
      "posts/2024-03-01-hello.md",
      "---\ntitle: Hello\ndate: 2024-03-05T10:00:00Z\nslug: greeting\n---\n",
    );

    expect(article.date).toEqual(new Date("2024-03-05T10:00:00Z"));
    expect(article.slug).toBe("greeting");
  });

  it("ignores file names whose date is not real", () => {
    const article = parseText("posts/2024-02-30-hello.md", "# Hello");

    expect(article.date).toBeUndefined();
    expect(article.slug).toBeUndefined();
  });
});

describe("parseArticle: title fallback to the first # heading", () => {
  it("uses the first level-1 heading when the front matter has no title", () => {
    const article = parseText(
      "a.md",
      "---\ntags: [x]\n---\nIntro\n\n## Not this\n\n# The Title\n\n# Later\n",
    );

    expect(article.title).toBe("The Title");
  });

  it("works without any front matter and strips closing hashes", () => {
    expect(parseText("a.md", "# Hello world ##\n\ntext").title).toBe("Hello world");
  });

  it("keeps a '#' that is part of the last word", () => {
    expect(parseText("a.md", "# Learn C#\n\ntext").title).toBe("Learn C#");
    expect(parseText("a.md", "# Learn C# #\n").title).toBe("Learn C#");
  });

  it("prefers the front matter title", () => {
    expect(parseText("a.md", "---\ntitle: From FM\n---\n# From heading\n").title).toBe("From FM");
  });

  it("fails with line 1 when there is neither", () => {
    const error = articleErrorOf(() => parseText("a.md", "---\ntags: [x]\n---\nNo heading here.\n"));

    expect(error.message).toMatch(/^no title: add `title: \.\.\.` to the front matter/);
    expect(error.line).toBe(1);
  });
});

describe("parseArticle: plain text", () => {
  it("the seed article: title from the first line and every paragraph in the rendered body", () => {
    const bytes = readFileSync(SEED_URL);
    const fileText = bytes.toString("utf8").replace(/\r\n?/g, "\n");
    const [titleBlock = "", ...blocks] = fileText.split(/\n\s*\n/);
    const expectedParagraphs = blocks.map(collapse).filter(Boolean);

    const article = parseArticle("000_4dbd7126f40f73dd.txt", bytes);
    const rendered = renderBody(article, "https://news.example.org/000_4dbd7126f40f73dd/");

    expect(article.title).toBe("N. Koreans criticize government calls for “self-reliance”");
    expect(collapse(titleBlock)).toBe(article.title);
    expect(article.format).toBe("text");
    expect(expectedParagraphs.length).toBeGreaterThan(10);
    expect(paragraphTexts(rendered.html)).toEqual(expectedParagraphs);
  });

  it("skips leading blank lines and keeps line breaks inside a paragraph", () => {
    const article = parseText("a.txt", "\n\n  Title line  \n\nOne\nTwo\n\nThree & <four>\n");

    expect(article.title).toBe("Title line");
    expect(renderBody(article, "https://x.example/").html).toBe(
      "<p>One<br>\nTwo</p>\n<p>Three &amp; &lt;four&gt;</p>",
    );
  });

  it("a text file with only a title has an empty body", () => {
    expect(parseText("a.txt", "Just a title").body).toBe("");
  });

  it("a text file of blank lines has no title", () => {
    const error = articleErrorOf(() => parseText("a.txt", "\n   \n\n"));

    expect(error.message).toBe("no title: the first line of a text article is its title");
  });
});

describe("parseArticle: HTML documents", () => {
  const page = (head: string, body: string, html = "<html>") =>
    `<!doctype html>\n${html}<head>${head}</head><body>${body}</body></html>`;

  it("reads title, meta description/author/keywords/published time and html lang", () => {
    const text = page(
      [
        "<title>Q&amp;A: the  year ahead</title>",
        '<meta name="description" content="What to expect.">',
        '<meta name="author" content="Ann Lee">',
        '<meta name="keywords" content="politics, economy, politics, <b>bold</b>">',
        '<meta property="article:published_time" content="2024-03-01T10:00:00+01:00">',
        '<meta property="article:modified_time" content="2024-03-02T10:00:00Z">',
      ].join(""),
      "<h1>Heading</h1><p>Body.</p>",
      '<html lang="de-AT">',
    );

    const article = parseText("a.html", text);

    expect(article).toMatchObject({
      title: "Q&A: the year ahead",
      summary: "What to expect.",
      authors: [{ name: "Ann Lee" }],
      tags: ["politics", "economy", "bbold/b"],
      date: new Date("2024-03-01T09:00:00Z"),
      updated: new Date("2024-03-02T10:00:00Z"),
      language: "de-AT",
      format: "html",
      body: "<h1>Heading</h1><p>Body.</p>",
    });
  });

  it("falls back to the first <h1>, including its nested markup's text", () => {
    const article = parseText("a.html", page("", "<h1>Head <em>line</em></h1><h1>Second</h1><p>x</p>"));

    expect(article.title).toBe("Head line");
  });

  it("reads og:description, <time datetime> and ignores an invalid lang", () => {
    const text = page(
      '<meta property="og:description" content="From OG.">',
      '<h1>T</h1><time datetime="2024-01-02">2 Jan</time>',
      '<html lang="not a tag">',
    );

    const article = parseText("a.html", text);

    expect(article.summary).toBe("From OG.");
    expect(article.date).toEqual(new Date("2024-01-02T00:00:00Z"));
    expect(article.language).toBeUndefined();
  });

  it("a fragment without <body> is the body itself", () => {
    const article = parseText("a.html", "<h1>Fragment</h1><p>Text</p>");

    expect(article.title).toBe("Fragment");
    expect(article.body).toBe("<h1>Fragment</h1><p>Text</p>");
  });

  it("reports a bad date meta tag and a page without any title", () => {
    expect(
      articleErrorOf(() => parseText("a.html", page('<meta name="date" content="soon">', "<h1>T</h1>")))
        .message,
    ).toMatch(/^<meta name="date"> must be a date/);
    expect(articleErrorOf(() => parseText("a.html", page("", "<p>no title</p>"))).message).toBe(
      "no title: add a <title> or an <h1>",
    );
  });
});

describe("parseArticle: JSON articles", () => {
  const base = {
    title: "From JSON",
    content_html: "<p>Hello</p>",
    tags: ["a", "b"],
    authors: [{ name: "Ann", url: "https://ann.example.org/" }],
    date_published: "2024-03-01T10:00:00Z",
    date_modified: "2024-03-02T10:00:00Z",
    summary: "S",
  };

  it("reads content_html, tags, authors and both dates", () => {
    const article = parseText("a.json", JSON.stringify(base, null, 2));

    expect(article).toMatchObject({
      title: "From JSON",
      format: "html",
      body: "<p>Hello</p>",
      tags: ["a", "b"],
      authors: [{ name: "Ann", url: "https://ann.example.org/" }],
      date: new Date("2024-03-01T10:00:00Z"),
      updated: new Date("2024-03-02T10:00:00Z"),
      summary: "S",
    });
  });

  it("reads content_text as plain text", () => {
    const { content_html: _html, ...rest } = base;

    const article = parseText("a.json", JSON.stringify({ ...rest, content_text: "Para one\n\nPara two" }));

    expect(article.format).toBe("text");
    expect(article.body).toBe("Para one\n\nPara two");
  });

  it("needs some content and says where content_html is when it has the wrong type", () => {
    const { content_html: _html, ...rest } = base;
    const text = JSON.stringify({ ...rest, content_html: 5 }, null, 2);

    const error = articleErrorOf(() => parseText("a.json", text));

    expect(error.message).toBe("needs content_html or content_text (a string)");
    expect(error.line).toBe(text.split("\n").findIndex((l) => l.includes('"content_html"')) + 1);
  });

  it("reports wrong field types with the field's line", () => {
    const text = JSON.stringify({ ...base, tags: "ok", date_published: "yesterday" }, null, 2);

    const error = articleErrorOf(() => parseText("a.json", text));

    expect(error.message).toMatch(/^date_published: must be a date/);
    expect(error.line).toBe(text.split("\n").findIndex((l) => l.includes('"date_published"')) + 1);
  });

  it.each([
    ["a trailing comma", '{\n  "title": "x",\n  "content_html": "<p>x</p>",\n}', 4],
    ["an unquoted value", '{\n  "title": "x",\n  "content_html": x\n}', 3],
    ["a stray token in a list", '{\n  "title": "x",\n  "tags": [1,,2],\n  "content_text": "y"\n}', 3],
    ["a missing colon", '{\n  "title" "x"\n}', 2],
    ["an unterminated string", '{\n  "title": "x\n}', 2],
    ["text after the object", '{\n  "title": "x"\n}\n{}', 4],
    ["a truncated file", '{\n  "title": "x",\n  "tags": [\n', 4],
  ])("invalid JSON (%s) is reported with its line", (_name, text, line) => {
    const error = articleErrorOf(() => parseText("a.json", text));

    expect(error.message).toMatch(/^not valid JSON: /);
    expect(error.line).toBe(line);
  });

  it("refuses JSON that is not an object", () => {
    expect(articleErrorOf(() => parseText("a.json", "[1, 2]")).message).toMatch(/must be an object/);
    expect(articleErrorOf(() => parseText("a.json", '"text"')).message).toMatch(/must be an object/);
  });
});

describe("parseArticle: bad files", () => {
  it("refuses files that are not articles", () => {
    expect(articleErrorOf(() => parseText("cover.jpg", "x")).message).toMatch(/^not an article file/);
  });

  it("refuses an empty file", () => {
    expect(articleErrorOf(() => parseArticle("a.md", new Uint8Array())).message).toBe("the file is empty");
  });

  it("refuses binary files (NUL bytes)", () => {
    const bytes = new Uint8Array([0x23, 0x20, 0x41, 0x00, 0x42]);

    expect(articleErrorOf(() => parseArticle("a.md", bytes)).message).toMatch(/binary/);
  });

  it("refuses invalid UTF-8", () => {
    const bytes = new Uint8Array([...encode("# Caf"), 0xe9, ...encode("\n")]);

    expect(articleErrorOf(() => parseArticle("a.md", bytes)).message).toMatch(/not valid UTF-8/);
  });

  it("refuses files over 1 MiB and accepts exactly 1 MiB", () => {
    const line = "# Big\n\n";
    const filler = (size: number) => encode(line + "a".repeat(size - line.length));

    expect(articleErrorOf(() => parseArticle("a.md", filler(MAX_ARTICLE_BYTES + 1))).message).toMatch(
      /limited to 1 MiB/,
    );
    expect(parseArticle("a.md", filler(MAX_ARTICLE_BYTES)).title).toBe("Big");
  });

  it("strips a UTF-8 BOM before reading front matter", () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...encode("---\ntitle: With BOM\n---\nBody")]);

    const article = parseArticle("a.md", bytes);

    expect(article.title).toBe("With BOM");
    expect(article.body).toBe("Body");
  });

  it("strips a BOM from the first line of a text article", () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...encode("Title\n\nBody")]);

    expect(parseArticle("a.txt", bytes).title).toBe("Title");
  });

  it.each([
    ["a.md", "---\ntitle: T\ndate: 2024-01-01\ntags: [a]\n---\nLine one\nLine two\n\n# H\n"],
    ["a.txt", "Title\n\nLine one\nLine two\n"],
    ["a.json", '{\n"title": "T",\n"content_text": "x"\n}'],
    ["a.html", "<html>\n<head><title>T</title></head>\n<body><p>x</p></body></html>"],
  ])("CRLF behaves like LF (%s)", (path, text) => {
    const { hash: _lfHash, ...lf } = parseText(path, text);
    const { hash: _crlfHash, ...crlf } = parseText(path, text.replace(/\n/g, "\r\n"));

    expect(crlf).toEqual(lf);
  });

  it("CRLF front matter errors still point at the right line", () => {
    const error = articleErrorOf(() => parseText("a.md", "---\r\ntitle: T\r\n\r\ndraft: often\r\n---\r\n"));

    expect(error.line).toBe(4);
  });

  it("the hash identifies the exact bytes", () => {
    const a = parseText("a.md", "# Same\n");
    const b = parseText("b.md", "# Same\n");
    const c = parseText("a.md", "# Same!\n");

    expect(a.hash).toBe(b.hash);
    expect(a.hash).not.toBe(c.hash);
  });
});
