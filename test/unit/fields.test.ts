import { describe, expect, it } from "vitest";
import { readFields } from "../../functions/core/fields.ts";
import { articleErrorOf, parseText } from "./support.ts";

const noLines = () => undefined;
const read = (data: Record<string, unknown>) => readFields(data, noLines);

describe("readFields: Hugo / Jekyll / JSON Feed names", () => {
  it("maps the primary names onto article fields", () => {
    const fields = read({
      title: "Hello",
      date: "2024-03-01T09:30:00Z",
      lastmod: "2024-03-02",
      publishDate: "2024-02-28",
      expiryDate: "2030-01-01",
      draft: false,
      tags: ["a", "b"],
      summary: "Short.",
      author: "Ann",
      id: "tag:example.org,2024:hello",
      slug: "hello-world",
      url: "/news/hello/",
      image: "cover.jpg",
      lang: "en-GB",
    });

    expect(fields).toEqual({
      title: "Hello",
      date: new Date("2024-03-01T09:30:00Z"),
      updated: new Date("2024-03-02T00:00:00Z"),
      publishDate: new Date("2024-02-28T00:00:00Z"),
      expiryDate: new Date("2030-01-01T00:00:00Z"),
      draft: false,
      tags: ["a", "b"],
      summary: "Short.",
      authors: [{ name: "Ann" }],
      id: "tag:example.org,2024:hello",
      slug: "hello-world",
      url: "/news/hello/",
      image: "cover.jpg",
      language: "en-GB",
    });
  });

  it.each([
    ["updated", "2024-03-02T00:00:00Z"],
    ["modified", "2024-03-02T00:00:00Z"],
    ["date_modified", "2024-03-02T00:00:00Z"],
    ["last_modified_at", "2024-03-02T00:00:00Z"],
  ])("reads the last-modified date from `%s`", (key, value) => {
    expect(read({ [key]: value }).updated).toEqual(new Date(value));
  });

  it.each([
    ["date_published", "date"],
    ["published_at", "date"],
    ["publishdate", "publishDate"],
    ["pubdate", "publishDate"],
    ["expirydate", "expiryDate"],
    ["unpublishdate", "expiryDate"],
  ] as const)("reads `%s` as %s", (key, field) => {
    expect(read({ [key]: "2024-05-06" })[field]).toEqual(new Date("2024-05-06T00:00:00Z"));
  });

  it.each([
    ["description", "From description."],
    ["excerpt", "From excerpt."],
  ])("reads the summary from `%s`", (key, value) => {
    expect(read({ [key]: value }).summary).toBe(value);
  });

  it("prefers `summary` over `description`", () => {
    expect(read({ description: "second", summary: "first" }).summary).toBe("first");
  });

  it.each([
    ["guid", "id", "abc"],
    ["permalink", "url", "/x/"],
    ["featured_image", "image", "pic.png"],
    ["banner_image", "image", "https://cdn.example.org/pic.png"],
    ["language", "language", "de"],
  ] as const)("reads `%s` as %s", (key, field, value) => {
    expect(read({ [key]: value })[field]).toBe(value);
  });

  it("merges tags, categories and keywords (lists or comma strings) without duplicates", () => {
    const fields = read({ tags: ["news", 2024], categories: "world, news", keywords: ["  spaced   out "] });

    expect(fields.tags).toEqual(["news", "2024", "world", "spaced out"]);
  });

  it("removes angle brackets and control characters from tag names", () => {
    expect(read({ tags: ["<b>bold</b>", "a\u0001b", "   "] }).tags).toEqual(["bbold/b", "ab"]);
  });

  it("marks drafts from `draft` and from Jekyll's `published: false`", () => {
    expect(read({ draft: true }).draft).toBe(true);
    expect(read({ draft: "true" }).draft).toBe(true);
    expect(read({ draft: "false" }).draft).toBe(false);
    expect(read({ published: false }).draft).toBe(true);
    expect(read({ published: true }).draft).toBeUndefined();
    expect(read({ draft: false, published: false }).draft).toBe(true);
    expect(read({}).draft).toBeUndefined();
  });

  it("reads authors as a name, as 'Name <email>', as objects and as lists of those", () => {
    expect(read({ author: "Ann" }).authors).toEqual([{ name: "Ann" }]);
    expect(read({ author: "Ann Lee <ann@example.org>" }).authors).toEqual([
      { name: "Ann Lee", email: "ann@example.org" },
    ]);
    expect(
      read({ author: { name: "Ann", email: "ann@example.org", url: "https://ann.example.org/" } }).authors,
    ).toEqual([{ name: "Ann", email: "ann@example.org", url: "https://ann.example.org/" }]);
    expect(read({ authors: ["Bob <bob@example.org>", { name: "Cy" }] }).authors).toEqual([
      { name: "Bob", email: "bob@example.org" },
      { name: "Cy" },
    ]);
  });

  it("prefers `authors` over `author`", () => {
    expect(read({ author: "One", authors: ["Two"] }).authors).toEqual([{ name: "Two" }]);
  });

  it("cleans text: control characters removed, white space collapsed, numbers accepted", () => {
    const fields = read({ title: "  Two\u0000 \n lines\u0007 ", summary: 42 });

    expect(fields.title).toBe("Two lines");
    expect(fields.summary).toBe("42");
  });

  it("ignores null and empty values", () => {
    expect(read({ title: null, summary: "   ", tags: null, author: null })).toEqual({});
  });
});

describe("readFields: wrong types name the field", () => {
  const cases: [string, unknown, RegExp][] = [
    ["title", ["x"], /^title: must be text, got a list$/],
    ["title", { a: 1 }, /^title: must be text, got a mapping$/],
    ["summary", true, /^summary: must be text, got boolean true$/],
    ["date", "next tuesday", /^date: must be a date like 2024-03-01/],
    ["date", "2024-02-30", /^date: is not a real date: "2024-02-30"$/],
    ["date", 20240301, /^date: must be a date/],
    ["lastmod", "yesterday", /^lastmod: must be a date/],
    ["updated", "2024-13-01", /^updated: is not a real date/],
    ["publishDate", "soon", /^publishDate: must be a date/],
    ["expiryDate", "never", /^expiryDate: must be a date/],
    ["draft", "yes", /^draft: must be true or false, got string "yes"$/],
    ["draft", 1, /^draft: must be true or false, got number 1$/],
    ["tags", { a: 1 }, /^tags: must be a list of names, got a mapping$/],
    ["tags", [["nested"]], /^tags: must be a list of names, found a list$/],
    ["categories", [true], /^categories: must be a list of names, found boolean true$/],
    ["author", 5, /^author: must be a name string or an object/],
    ["author", "", /^author: must not be empty$/],
    ["authors", [{ email: "a@b.org" }], /^authors: needs a non-empty `name`$/],
    ["authors", [{ name: "Ann", email: "not-mail" }], /^authors: `email` must be an email address$/],
    ["author", { name: "Ann", url: "ftp://x.org/" }, /^author: `url` must be an absolute http\(s\) URL$/],
    ["id", ["x"], /^id: must be text/],
    ["slug", "a/b", /^slug: must be a single path segment/],
    ["slug", "..", /^slug: must be a single path segment/],
    ["url", "javascript:alert(1)", /^url: must be a site path like \/news\/hello\/ or an http\(s\) URL/],
    ["url", "/a/../../etc/", /^url: must not contain "\.\."/],
    ["url", "//evil.example/x", /^url: must not contain .* start with "\/\/"/],
    ["permalink", "a\\b", /^permalink: must not contain/],
    ["image", "data:image/png;base64,AAAA", /^image: must be a relative path or an http\(s\) URL/],
    ["lang", "english please", /^lang: must be a language tag like "en"/],
    ["language", "en_US", /^language: must be a language tag/],
  ];

  it.each(cases)("%s = %j", (key, value, message) => {
    const error = articleErrorOf(() => readFields({ [key]: value }, (k) => (k === key ? 7 : undefined)));

    expect(error.message).toMatch(message);
    expect(error.line).toBe(7);
  });

  it("limits text length and the number of tags", () => {
    expect(articleErrorOf(() => read({ summary: "x".repeat(2001) })).message).toBe(
      "summary: is longer than 2000 characters",
    );
    expect(articleErrorOf(() => read({ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) })).message).toBe(
      "tags: names 21 tags, categories and keywords; an article may have at most 20",
    );
    // Twenty distinct names, however they are spread over the three fields and repeated.
    const twenty = Array.from({ length: 20 }, (_, i) => `t${i}`);
    expect(
      read({ tags: twenty, categories: twenty.slice(0, 10), keywords: [...twenty, ...twenty] }).tags,
    ).toEqual(twenty);
    expect(articleErrorOf(() => read({ categories: twenty, keywords: ["one more"] })).message).toBe(
      "categories: names 21 tags, categories and keywords; an article may have at most 20",
    );
    expect(articleErrorOf(() => read({ tags: ["x".repeat(201)] })).message).toBe(
      "tags: has an entry longer than 200 characters",
    );
  });
});

describe("fan-out and size caps: one article's feeds and messages stay bounded", () => {
  it("refuses more than 10 authors, whatever their form", () => {
    const names = Array.from({ length: 11 }, (_, i) => `Author ${i}`);
    expect(articleErrorOf(() => read({ authors: names })).message).toBe(
      "authors: names 11 authors; an article may name at most 10",
    );
    expect(articleErrorOf(() => read({ author: names.map((name) => ({ name })) })).message).toBe(
      "author: names 11 authors; an article may name at most 10",
    );
    expect(read({ authors: names.slice(0, 10) }).authors).toHaveLength(10);
  });

  it("refuses more than 10 attached files over all enclosure fields", () => {
    const files = Array.from({ length: 6 }, (_, i) => `ep${i}.mp3`);
    expect(articleErrorOf(() => read({ enclosure: files, audio: files })).message).toBe(
      "enclosure: names 12 files; an article may attach at most 10",
    );
    expect(articleErrorOf(() => read({ enclosure: ["x".repeat(2001)] })).message).toBe(
      "enclosure: has a url longer than 2000 characters",
    );
  });

  it("caps names, emails and urls of people", () => {
    expect(articleErrorOf(() => read({ author: "A".repeat(201) })).message).toBe(
      "author: the name is longer than 200 characters",
    );
    expect(articleErrorOf(() => read({ author: `Ann <${"a".repeat(250)}@example.com>` })).message).toBe(
      "author: the email address is longer than 254 characters",
    );
    expect(
      articleErrorOf(() => read({ author: { name: "Ann", url: `https://example.com/${"a".repeat(2000)}` } }))
        .message,
    ).toBe("author: `url` must be an absolute http(s) URL");
  });

  it("quotes at most 100 characters of a bad value, with control characters escaped", () => {
    const huge = `\u001b[2J${"x".repeat(900_000)}`;
    const message = articleErrorOf(() => read({ draft: huge })).message;
    expect(message.length).toBeLessThan(250);
    expect(message).toContain("\\u001b[2J");
    expect(message).not.toContain("\u001b");
    expect(message).toMatch(/\(and 899,904 more characters\)$/);
    const date = articleErrorOf(() => read({ date: `2024-01-01${" ".repeat(50_000)}x` })).message;
    expect(date.length).toBeLessThan(250);
    const big = articleErrorOf(() => read({ summary: "y".repeat(900_000) })).message;
    expect(big).toBe("summary: is longer than 2000 characters");
  });
});

describe("field errors point at the field's line in the file", () => {
  // The bad field sits on line 6 of the file, after a comment and a blank line.
  const yamlWith = (key: string, value: string) =>
    `---\n# A comment line\ntitle: Fine\n\nsummary: Fine too\n${key}: ${value}\nlang: en\n---\nBody.\n`;

  it.each([
    ["date", "not-a-date"],
    ["lastmod", "2024-99-01"],
    ["updated", "[2024]"],
    ["publishDate", "tomorrow"],
    ["expiryDate", "{a: 1}"],
    ["draft", "maybe"],
    ["tags", "{a: 1}"],
    ["categories", "[[x]]"],
    ["author", "{email: a@b.org}"],
    ["authors", "[{name: Ann, email: nope}]"],
    ["id", "[1, 2]"],
    ["slug", "a/b"],
    ["url", "javascript:alert(1)"],
    ["image", "javascript:alert(1)"],
  ])("YAML %s", (key, value) => {
    const error = articleErrorOf(() => parseText("posts/bad.md", yamlWith(key, value)));

    expect(error.message.startsWith(`${key}: `)).toBe(true);
    expect(error.line).toBe(6);
  });

  it("a wrong `title` type points at the title line", () => {
    const error = articleErrorOf(() => parseText("a.md", "---\n\n\ntitle: [a, b]\n---\n"));

    expect(error.message).toBe("title: must be text, got a list");
    expect(error.line).toBe(4);
  });

  it("a wrong `lang` points at its line even when it is the last field", () => {
    const error = articleErrorOf(() => parseText("a.md", "---\ntitle: T\nlang: not a tag\n---\n"));

    expect(error.message).toMatch(/^lang: /);
    expect(error.line).toBe(3);
  });

  it("TOML: a bad value points at its key line", () => {
    const text = '+++\n# comment\ntitle = "T"\n\ndraft = "perhaps"\n+++\nBody';

    const error = articleErrorOf(() => parseText("a.md", text));

    expect(error.message).toBe('draft: must be true or false, got string "perhaps"');
    expect(error.line).toBe(5);
  });

  it("TOML: a bad [[authors]] table points at its header line", () => {
    const text = '+++\ntitle = "T"\ntags = ["a"]\n\n[[authors]]\nname = "Ann"\nemail = "nope"\n+++\nBody';

    const error = articleErrorOf(() => parseText("a.md", text));

    expect(error.message).toBe("authors: `email` must be an email address");
    expect(error.line).toBe(5);
  });
});
