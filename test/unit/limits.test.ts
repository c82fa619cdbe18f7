import { describe, expect, it } from "vitest";
import { buildFeed } from "../../functions/core/build.ts";
import { parseConfig } from "../../functions/core/config.ts";
import { ArticleError } from "../../functions/core/errors.ts";
import { MAX_ELEMENTS, sanitizeHtml } from "../../functions/core/html.ts";
import { MAX_TITLE_LENGTH, parseArticle } from "../../functions/core/parse.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const config = parseConfig({ title: "Site", url: "https://example.org/" });

describe("size limits on hostile articles", () => {
  it("refuses HTML with more elements than any article has, naming the limit", () => {
    const nested = `${"<div>".repeat(MAX_ELEMENTS + 1)}x`;
    expect(() => sanitizeHtml(nested, "https://example.org/a/")).toThrow(ArticleError);
    expect(() => sanitizeHtml(nested, "https://example.org/a/")).toThrow(
      /20001 elements; articles are limited to 20000/,
    );
    expect(() => parseArticle("deep.html", encode(`<title>t</title>${nested}`))).toThrow(/elements/);
  });

  it("accepts HTML just under the element limit", () => {
    const flat = "<p>x</p>".repeat(MAX_ELEMENTS);
    expect(sanitizeHtml(flat, "https://example.org/").html).toContain("<p>x</p>");
  });

  it("reports a Markdown body over the element limit as a problem and publishes the rest", () => {
    const good = parseArticle("good.md", encode("---\ntitle: Good\ndate: 2024-01-01\n---\nfine"));
    const bad = parseArticle(
      "bad.md",
      encode(`---\ntitle: Bad\ndate: 2024-01-02\n---\n${"<i>".repeat(MAX_ELEMENTS + 5)}`),
    );
    const result = buildFeed({
      config,
      articles: [good, bad],
      seen: {},
      now: new Date("2025-01-01T00:00:00Z"),
    });
    expect(result.feed.items.map((item) => item.title)).toEqual(["Good"]);
    expect(result.problems).toEqual([{ file: "bad.md", reason: expect.stringMatching(/limited to 20000/) }]);
  });

  it("cuts a text article's overlong first line to a title of at most 300 characters", () => {
    const line = "word ".repeat(400).trim();
    const article = parseArticle("long.txt", encode(`${line}\n\nbody`));
    expect(article.title.length).toBeLessThanOrEqual(MAX_TITLE_LENGTH);
    expect(article.title.endsWith("…")).toBe(true);
    expect(line.startsWith(article.title.slice(0, -1))).toBe(true);
  });
});
