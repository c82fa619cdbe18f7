import { createHash } from "node:crypto";
import { Feed } from "feed";
import type { Person } from "../config.ts";
import type { FeedItem, FeedModel } from "../model.ts";
import { escapeHtml, stripForbiddenChars } from "../text.ts";
import { withPaging, withStylesheet } from "./browser.ts";
import { itemLanguages, withLanguages } from "./item-language.ts";
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
    // Each feed's own id (feed-id.ts); an archive page has the id of the feed it archives.
    id: forTextNode(model.id),
    link: model.homeUrl,
    language: model.language,
    updated: model.updated,
    generator: "feedpub",
    author: author(model.author),
    feedLinks: { atom: model.links.atom },
    // WebSub: rel="hub" beside rel="self", so subscribers know where to subscribe.
    ...(model.hub ? { hub: model.hub } : {}),
  });
  // feed writes Atom enclosures with a type guessed from the file name ("image/mp3") and at most
  // one per kind, so each item gets a placeholder that is then replaced by its real links. The
  // placeholder carries a hash of the items, which no article can contain (it would have to
  // contain its own hash).
  // Hashed only when some item has files: the items' text is megabytes in a big build.
  const nonce = model.items.some((item) => enclosuresOf(item).length)
    ? createHash("sha1")
        .update(JSON.stringify(model.items.map((item) => [item.id, item.contentHtml, item.summary])))
        .digest("hex")
    : "";
  const placeholder = (index: number) => `https://feedpub.invalid/${nonce}/${index}.x`;
  for (const [index, item] of model.items.entries()) {
    const files = enclosuresOf(item);
    feed.addItem({
      // feed accepts a bare URL here at runtime (its typings only list the object form).
      ...(files.length ? { enclosure: placeholder(index) as never } : {}),
      title: escapeHtml(item.title),
      id: item.id,
      link: item.url,
      date: item.updated,
      published: item.published,
      // An item without its full text is a summary and the (alternate) link, with no content.
      description: escapeHtml(item.summary),
      content: item.contentHtml,
      author: item.authors.map(author),
      category: item.tags.map((tag) => ({ term: tag })),
    });
  }
  // XML cannot carry control characters even escaped, and feed passes them through. Parsed
  // text is already clean; this also covers values that bypass the parsers (the config).
  const written = feed.atom1();
  const xml = !nonce
    ? written
    : written.replace(
        new RegExp(
          `<link rel="enclosure" href="https://feedpub\\.invalid/${nonce}/(\\d+)\\.x" type="image/x"/>`,
          "g",
        ),
        (_match, index: string) =>
          enclosuresOf(model.items[Number(index)] as FeedItem)
            .map(
              (file) =>
                `<link rel="enclosure" href="${escapeAttribute(file.url)}" type="${escapeAttribute(file.type)}"${file.length ? ` length="${file.length}"` : ""}/>`,
            )
            .join("\n            "),
      );
  // feed writes no language in Atom: the document declares the feed's on its root (RFC 4287 2),
  // and the entries in another language their own, which they inherit otherwise.
  const marked = withLanguages(withLanguages(xml, "feed", [model.language]), "entry", itemLanguages(model));
  return `${withStylesheet(withPaging(stripForbiddenChars(marked), model, "atom"), stylesheet)}\n`;
}

/** An item's files as Atom enclosure links: the lead image first, then the attachments. */
function enclosuresOf(item: FeedItem) {
  return [...(item.image ? [item.image] : []), ...(item.enclosures ?? [])];
}

function escapeAttribute(value: string): string {
  return escapeHtml(value).replace(/'/g, "&apos;");
}
