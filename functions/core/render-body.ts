import { Marked } from "marked";
import type { Article } from "./article.ts";
import { type SanitizedHtml, sanitizeHtml } from "./html.ts";
import { escapeHtml } from "./text.ts";

// One parser for the process; GitHub-flavoured Markdown like Hugo's goldmark. Raw HTML is
// allowed through Markdown because the sanitiser below decides what survives.
const markdown = new Marked({ gfm: true, breaks: false, async: false });

/** Plain text: blank-line separated blocks become paragraphs; line breaks inside a block are kept. */
export function textToHtml(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((block) =>
      block
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean)
        .map(escapeHtml)
        .join("<br>\n"),
    )
    .filter(Boolean)
    .map((block) => `<p>${block}</p>`)
    .join("\n");
}

/**
 * Renders an article's body to safe HTML with absolute URLs, resolved against `articleUrl`.
 * Only called for articles that will appear in a feed.
 */
export function renderBody(article: Pick<Article, "format" | "body">, articleUrl: string): SanitizedHtml {
  const html =
    article.format === "markdown"
      ? (markdown.parse(article.body) as string)
      : article.format === "text"
        ? textToHtml(article.body)
        : article.body;
  return sanitizeHtml(html, articleUrl);
}
