import { Feed } from "feed";
import type { FeedItem, FeedModel } from "../model.ts";
import { stripForbiddenChars } from "../text.ts";
import { withPaging, withStylesheet } from "./browser.ts";
import { itemLanguages, withLanguages } from "./item-language.ts";
import {
  episodeExtensions,
  podcastFeedOptions,
  rssDescription,
  rssEnclosure,
  withPodcastChannel,
} from "./podcast.ts";
import { forTextNode } from "./xml-js-text.ts";

const DC_NAMESPACE = "http://purl.org/dc/elements/1.1/";

/**
 * RSS 2.0 with content:encoded for the full text, description for the summary, dc:creator for
 * author names (RSS `<author>` must be an e-mail address) and atom:link rel="self".
 */
export function renderRss(model: FeedModel, stylesheet = "rss.xsl"): string {
  const feed = new Feed({
    title: forTextNode(model.title),
    description: forTextNode(model.description || model.title),
    link: model.homeUrl,
    id: model.homeUrl,
    language: forTextNode(model.language),
    updated: model.updated,
    generator: "feedpub",
    feedLinks: { rss: model.links.rss },
    // WebSub: rel="hub" beside rel="self", so subscribers know where to subscribe.
    ...(model.hub ? { hub: model.hub } : {}),
    ...podcastFeedOptions(model),
  });
  // feed declares xmlns:dc only when some item has content:encoded; without it, dc:creator would
  // use an unbound prefix, which namespace-aware readers (Python feedparser) reject.
  const dcDeclared = model.items.some((item) => item.contentHtml);
  for (const item of model.items) {
    feed.addItem({
      title: item.title,
      id: forTextNode(item.id),
      link: item.url,
      date: item.updated,
      published: item.published,
      description: rssDescription(item, model),
      // Absent for an item carried by its summary: description alone, no content:encoded.
      content: item.contentHtml,
      category: item.tags.map((tag) => ({ name: forTextNode(tag) })),
      // RSS has one enclosure per item: the first attached file, else the lead image (in a
      // podcast: the recording).
      ...(enclosureOf(item, model) ? { enclosure: enclosureOf(item, model) } : {}),
      extensions: [
        // feed writes item titles as CDATA and splits only the first "]]>"; a text node is
        // always safe and is what RSS readers expect for a plain-text title.
        { name: "title", objects: { _text: forTextNode(item.title) } },
        // xml-js writes an array as repeated elements: one dc:creator per author.
        {
          name: "dc:creator",
          objects: item.authors.map((a) => ({
            ...(dcDeclared ? {} : { _attributes: { "xmlns:dc": DC_NAMESPACE } }),
            _text: forTextNode(a.name),
          })) as unknown as Record<string, unknown>,
        },
        // A podcast's episode fields (itunes:duration, podcast:transcript, ...).
        ...episodeExtensions(item, model),
      ],
    });
  }
  // Items in another language than the channel's carry xml:lang (allowed on any XML element).
  const marked = withLanguages(feed.rss2(), "item", itemLanguages(model));
  // XML cannot carry control characters even escaped, and feed passes them through. Parsed
  // text is already clean; this also covers values that bypass the parsers (the config).
  return `${withStylesheet(withPaging(withPodcastChannel(stripForbiddenChars(marked), model), model, "rss"), stylesheet)}\n`;
}

function enclosureOf(
  item: FeedItem,
  model: FeedModel,
): { url: string; type: string; length: number } | undefined {
  const file = rssEnclosure(item, model);
  return file ? { url: file.url, type: file.type, length: file.length } : undefined;
}
