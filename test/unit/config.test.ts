import { describe, expect, it } from "vitest";
import { DEFAULT_ITEM_LIMIT, parseConfig, parsePerson } from "../../functions/core/config.ts";
import { ConfigError } from "../../functions/core/errors.ts";
import { errorOf } from "./support.ts";

const BASE = { title: "Daily Digest", url: "https://news.example.org/" };

function problemsOf(raw: unknown): readonly string[] {
  const error = errorOf(() => parseConfig(raw, "feedpub.config.yaml"));
  if (!(error instanceof ConfigError)) throw error;
  return error.problems;
}

describe("parseConfig: defaults", () => {
  it("fills in every optional setting", () => {
    const config = parseConfig(BASE);

    expect(config).toEqual({
      title: "Daily Digest",
      url: "https://news.example.org/",
      feedsUrl: "https://news.example.org/feeds/",
      description: "",
      language: "en",
      itemLimit: 50,
      permalink: "/:path/",
      sectionDepth: 1,
      languageFeeds: "auto",
    });
    expect(DEFAULT_ITEM_LIMIT).toBe(50);
  });

  it("reads sectionFeeds and languageFeeds, naming a bad value", () => {
    expect(parseConfig({ ...BASE, sectionFeeds: false }).sectionDepth).toBe(0);
    expect(parseConfig({ ...BASE, sectionFeeds: { depth: 3 } }).sectionDepth).toBe(3);
    expect(parseConfig({ ...BASE, languageFeeds: true }).languageFeeds).toBe("all");
    expect(parseConfig({ ...BASE, languageFeeds: false }).languageFeeds).toBe("none");
    expect(() => parseConfig({ ...BASE, sectionFeeds: { depth: 5 } })).toThrow(
      /sectionFeeds: must be true, false/,
    );
    expect(() => parseConfig({ ...BASE, sectionFeeds: { depth: 1.5 } })).toThrow(/sectionFeeds/);
    expect(() => parseConfig({ ...BASE, languageFeeds: "yes" })).toThrow(
      /languageFeeds: must be auto, true or false/,
    );
  });

  it("adds the trailing slash to url and feedsUrl and derives feedsUrl from url", () => {
    expect(parseConfig({ ...BASE, url: "https://example.org/blog" })).toMatchObject({
      url: "https://example.org/blog/",
      feedsUrl: "https://example.org/blog/feeds/",
    });
    expect(parseConfig({ ...BASE, feedsUrl: "https://cdn.example.net/site/feeds" }).feedsUrl).toBe(
      "https://cdn.example.net/site/feeds/",
    );
  });

  it("drops a query or fragment from the site URL", () => {
    expect(parseConfig({ ...BASE, url: "https://example.org/blog/?utm=1#top" }).url).toBe(
      "https://example.org/blog/",
    );
  });

  it("trims strings and keeps every valid setting", () => {
    const config = parseConfig({
      ...BASE,
      title: "  Spaced  ",
      description: "About us.",
      language: "en-GB",
      author: "The Editors <editors@news.example.org>",
      itemLimit: 1000,
      permalink: "/:year/:slug/",
    });

    expect(config).toMatchObject({
      title: "Spaced",
      description: "About us.",
      language: "en-GB",
      author: { name: "The Editors", email: "editors@news.example.org" },
      itemLimit: 1000,
      permalink: "/:year/:slug/",
    });
  });

  it("treats null as not set", () => {
    expect(parseConfig({ ...BASE, author: null, itemLimit: null, description: null })).toMatchObject({
      itemLimit: 50,
      description: "",
    });
  });
});

describe("parseConfig: every field is validated, naming the field", () => {
  it.each([
    ["title missing", { url: BASE.url }, /^title: is required$/],
    ["title blank", { ...BASE, title: "   " }, /^title: must be a non-empty string, got " {3}"$/],
    ["title not text", { ...BASE, title: 5 }, /^title: must be a non-empty string, got 5$/],
    ["url missing", { title: "T" }, /^url: is required$/],
    ["url relative", { ...BASE, url: "/blog/" }, /^url: must be an absolute http\(s\) URL, got "\/blog\/"$/],
    ["url not http", { ...BASE, url: "ftp://example.org/" }, /^url: must be an absolute http\(s\) URL/],
    ["url not text", { ...BASE, url: ["https://x.org/"] }, /^url: must be a non-empty string/],
    ["feedsUrl relative", { ...BASE, feedsUrl: "feeds/" }, /^feedsUrl: must be an absolute http\(s\) URL/],
    ["feedsUrl javascript", { ...BASE, feedsUrl: "javascript:alert(1)" }, /^feedsUrl: must be an absolute/],
    ["feedsUrl not text", { ...BASE, feedsUrl: 1 }, /^feedsUrl: must be a string, got 1$/],
    ["description not text", { ...BASE, description: ["a"] }, /^description: must be a string/],
    ["language invalid", { ...BASE, language: "en_US" }, /^language: must be a language tag like "en"/],
    ["language empty", { ...BASE, language: "" }, /^language: must be a language tag/],
    ["author empty", { ...BASE, author: "" }, /^author: must not be empty$/],
    [
      "author bad email",
      { ...BASE, author: { name: "Ed", email: "nope" } },
      /^author: `email` must be an email/,
    ],
    ["author bad url", { ...BASE, author: { name: "Ed", url: "/me" } }, /^author: `url` must be an absolute/],
    ["author no name", { ...BASE, author: { email: "ed@x.org" } }, /^author: needs a non-empty `name`$/],
    ["author list", { ...BASE, author: ["Ed"] }, /^author: must be a name string or an object/],
    [
      "itemLimit zero",
      { ...BASE, itemLimit: 0 },
      /^itemLimit: must be a whole number from 1 to 1000, got 0$/,
    ],
    ["itemLimit too big", { ...BASE, itemLimit: 1001 }, /^itemLimit: must be a whole number/],
    ["itemLimit fraction", { ...BASE, itemLimit: 2.5 }, /^itemLimit: must be a whole number/],
    [
      "itemLimit text",
      { ...BASE, itemLimit: "50" },
      /^itemLimit: must be a whole number from 1 to 1000, got "50"$/,
    ],
    ["permalink relative", { ...BASE, permalink: ":path/" }, /^permalink: must start with "\/"/],
    [
      "permalink no slug",
      { ...BASE, permalink: "/:year/:month/" },
      /^permalink: must contain :path or :slug/,
    ],
    ["permalink query", { ...BASE, permalink: "/:slug/?x=1" }, /^permalink: must be a plain path/],
    ["permalink dot segment", { ...BASE, permalink: "/../:slug/" }, /^permalink: must be a plain path/],
    ["permalink backslash", { ...BASE, permalink: "/:slug\\x" }, /^permalink: must be a plain path/],
    ["unknown setting", { ...BASE, itemlimit: 5 }, /^itemlimit: unknown setting \(known: title, url, /],
  ])("%s", (_name, raw, message) => {
    const problems = problemsOf(raw);

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it("reports every bad field at once, in one error that names the source", () => {
    const error = errorOf(() => parseConfig({ url: "nope", itemLimit: -1, language: "??" }, "site.yaml"));

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.split(":")[0])).toEqual([
      "title",
      "url",
      "language",
      "itemLimit",
    ]);
    expect(error.message).toMatch(/^site\.yaml: invalid configuration\n {2}- title: is required\n/);
  });

  it.each([null, undefined, "title: x", 42, ["a"]])("refuses %j as a whole", (raw) => {
    expect(problemsOf(raw)).toEqual(["the file must hold a mapping of settings (title, url, ...)"]);
  });
});

describe("parsePerson", () => {
  it.each([
    ["Ann", { name: "Ann" }],
    ["  Ann Lee  ", { name: "Ann Lee" }],
    ["Ann Lee <ann@example.org>", { name: "Ann Lee", email: "ann@example.org" }],
    ["<ann@example.org>", { name: "<ann@example.org>" }],
    [
      { name: " Ann ", email: "ann@example.org" },
      { name: "Ann", email: "ann@example.org" },
    ],
    [
      { name: "Ann", url: "https://ann.example.org/" },
      { name: "Ann", url: "https://ann.example.org/" },
    ],
  ])("reads %j", (input, expected) => {
    expect(parsePerson(input)).toEqual(expected);
  });

  it.each([
    ["", "must not be empty"],
    [{ name: "" }, "needs a non-empty `name`"],
    [{ name: "A", email: "a b@c.d" }, "`email` must be an email address"],
    [{ name: "A", url: "javascript:x" }, "`url` must be an absolute http(s) URL"],
    [7, 'must be a name string or an object like {name: "Ann", email: "ann@example.com"}'],
  ])("refuses %j", (input, reason) => {
    expect(parsePerson(input)).toBe(reason);
  });
});
