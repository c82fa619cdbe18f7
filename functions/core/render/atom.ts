import { Feed } from "feed";
import type { Person } from "../config.ts";
import type { FeedModel } from "../model.ts";
import { escapeHtml, stripForbiddenChars } from "../text.ts";
import { withStylesheet } from "./browser.ts";
import { forTextNode } from "./xml-js-text.ts";

function author(person: Person) {
  return {
    name: forTextNode(person.name),
    ...(person.email ? { email: forTextNode(person.email) } : {}),
    ...(person.url ? { link: person.url } : {}),
  };
}

/**
 * Atom 1.0 (RFC 4287). feed marks entry titles and summaries type="html", so the plain text is
 * HTML-escaped first: a title "Q&A <live>" then reads back as exactly that.
 */
export function renderAtom(model: FeedModel, stylesheet = "atom.xsl"): string {
  const feed = new Feed({
    title: forTextNode(model.title),
    ...(model.description ? { description: forTextNode(model.description) } : {}),
    id: forTextNode(model.homeUrl),
    link: model.homeUrl,
    language: model.language,
    updated: model.updated,
    generator: "feedpub",
    author: author(model.author),
    feedLinks: { atom: model.links.atom },
    // WebSub: rel="hub" beside rel="self", so subscribers know where to subscribe.
    ...(model.hub ? { hub: model.hub } : {}),
  });
  for (const item of model.items) {
    feed.addItem({
      title: escapeHtml(item.title),
      id: item.id,
      link: item.url,
      date: item.updated,
      published: item.published,
      description: escapeHtml(item.summary),
      content: item.contentHtml,
      author: item.authors.map(author),
      category: item.tags.map((tag) => ({ term: tag })),
    });
  }
  // XML cannot carry control characters even escaped, and feed passes them through. Parsed
  // text is already clean; this also covers values that bypass the parsers (the config).
  return `${withStylesheet(stripForbiddenChars(feed.atom1()), stylesheet)}\n`;
}
