/**
 * Shared fixtures and small helpers for the unit tests. Every fixture is one base object that
 * tests spread and override, so each test shows only what matters to it.
 */
import { Parser } from "htmlparser2";
import type { Article } from "../../functions/core/article.ts";
import { parseConfig, type SiteConfig } from "../../functions/core/config.ts";
import { ArticleError } from "../../functions/core/errors.ts";
import type { FeedItem, FeedModel } from "../../functions/core/model.ts";
import { parseArticle } from "../../functions/core/parse.ts";

export const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Parses `text` as the article file at `path`. */
export const parseText = (path: string, text: string): Article => parseArticle(path, encode(text));

/** Runs `act` and returns the ArticleError it throws; fails the test if it throws nothing else. */
export function articleErrorOf(act: () => unknown): ArticleError {
  try {
    act();
  } catch (error) {
    if (error instanceof ArticleError) return error;
    throw error;
  }
  throw new Error("expected an ArticleError, but nothing was thrown");
}

/** Runs `act` and returns whatever Error it throws; fails the test if it throws nothing. */
export function errorOf(act: () => unknown): Error {
  try {
    act();
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error("expected an error, but nothing was thrown");
}

export const SITE: SiteConfig = parseConfig({
  title: "Example News",
  url: "https://news.example.org/",
  description: "Reports from the example newsroom.",
  language: "en",
  author: { name: "The Editors", email: "editors@news.example.org" },
  itemLimit: 10,
});

export const BASE_ARTICLE: Article = {
  path: "posts/base.md",
  title: "Base article",
  date: new Date("2024-03-01T09:00:00Z"),
  draft: false,
  tags: [],
  authors: [],
  format: "markdown",
  body: "Some *body* text.",
  hash: "hash-0",
};

export const BASE_ITEM: FeedItem = {
  id: "urn:uuid:00000000-0000-5000-8000-000000000001",
  url: "https://news.example.org/posts/base/",
  title: "Base item",
  published: new Date("2024-03-01T09:00:00Z"),
  updated: new Date("2024-03-02T10:30:00Z"),
  contentHtml: "<p>Body &amp; more.</p>",
  summary: "Body & more.",
  tags: ["news"],
  authors: [{ name: "Ann Author", email: "ann@news.example.org" }],
};

export const BASE_MODEL: FeedModel = {
  id: "https://news.example.org/",
  title: "Example News",
  description: "Reports from the example newsroom.",
  homeUrl: "https://news.example.org/",
  language: "en",
  author: { name: "The Editors", email: "editors@news.example.org" },
  updated: new Date("2024-03-02T10:30:00Z"),
  links: {
    rss: "https://news.example.org/feeds/rss.xml",
    atom: "https://news.example.org/feeds/atom.xml",
    json: "https://news.example.org/feeds/feed.json",
  },
  items: [BASE_ITEM],
};

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00A0" };

/** Decodes one level of the character references feed readers leave in HTML-typed fields. */
export function decodeEntities(html: string): string {
  return html.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|nbsp);/gi, (whole, ref: string) => {
    if (ref.startsWith("#x") || ref.startsWith("#X"))
      return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith("#")) return String.fromCodePoint(Number(ref.slice(1)));
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

export const collapse = (text: string): string => text.replace(/\s+/g, " ").trim();

/** The text of every <p> in `html`, entities decoded, <br> as a space, white space collapsed. */
export function paragraphTexts(html: string): string[] {
  const paragraphs: string[] = [];
  let current: string | undefined;
  const parser = new Parser(
    {
      onopentag(name) {
        if (name === "p") current = "";
        else if (name === "br" && current !== undefined) current += " ";
      },
      ontext(text) {
        if (current !== undefined) current += text;
      },
      onclosetag(name) {
        if (name === "p" && current !== undefined) {
          paragraphs.push(collapse(current));
          current = undefined;
        }
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  return paragraphs;
}
