import type { Person } from "../config.ts";
import type { FeedItem, FeedModel } from "../model.ts";

function author(person: Person): Record<string, string> {
  return { name: person.name, ...(person.url ? { url: person.url } : {}) };
}

/** The item's first audio or video attachment, if any. */
function recordingOf(item: FeedItem) {
  return item.enclosures?.find((file) => file.type.startsWith("audio/") || file.type.startsWith("video/"));
}

/**
 * JSON Feed 1.1, written directly: the `feed` package emits 1.0 (singular `author`, no
 * `language`) and can leave out the `id` and content that 1.1 requires.
 */
export function renderJsonFeed(model: FeedModel): string {
  const document = {
    version: "https://jsonfeed.org/version/1.1",
    title: model.title,
    home_page_url: model.homeUrl,
    feed_url: model.links.json,
    ...(model.description ? { description: model.description } : {}),
    language: model.language,
    authors: [author(model.author)],
    ...(model.hub ? { hubs: [{ type: "WebSub", url: model.hub }] } : {}),
    // Paging: the next (older) page, for the feed and for each archive page alike.
    ...(model.paging?.prevArchive ? { next_url: model.paging.prevArchive.json } : {}),
    items: model.items.map((item) => ({
      id: item.id,
      url: item.url,
      title: item.title,
      // JSON Feed 1.1 requires content_html or content_text. An item carried by its summary (or
      // an empty article, which has no full text either) has no HTML to give: its content is the
      // summary again, as plain text, the least the spec allows that still reads as something in
      // readers that show only the content; as text it cannot be taken for the article's HTML,
      // which only the feed's full copy carries. RSS and Atom likewise write no content for them.
      ...(item.contentHtml ? { content_html: item.contentHtml } : { content_text: item.summary }),
      ...(item.summary ? { summary: item.summary } : {}),
      ...(item.image ? { image: item.image.url } : {}),
      ...(item.enclosures?.length
        ? {
            attachments: item.enclosures.map((file) => ({
              url: file.url,
              mime_type: file.type,
              ...(file.length ? { size_in_bytes: file.length } : {}),
              // An episode's length belongs to its recording: the first audio or video file.
              ...(file === recordingOf(item) && item.episode?.duration
                ? { duration_in_seconds: item.episode.duration }
                : {}),
            })),
          }
        : {}),
      date_published: item.published.toISOString(),
      date_modified: item.updated.toISOString(),
      authors: item.authors.map(author),
      ...(item.tags.length ? { tags: item.tags } : {}),
      // Whenever the article gives one: JSON Feed 1.1 lets an item state its own language.
      ...(item.language ? { language: item.language } : {}),
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
