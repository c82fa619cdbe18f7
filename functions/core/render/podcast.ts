import type { Enclosure } from "../media.ts";
import type { FeedItem, FeedModel } from "../model.ts";
import { PODCAST_DESCRIPTION_BYTES } from "../podcast-config.ts";
import { isPlayable } from "../podcast-fields.ts";
import { escapeHtml } from "../text.ts";
import { forTextNode } from "./xml-js-text.ts";

/**
 * The podcast parts of an RSS feed whose model has `podcast` (see podcast-config.ts): Apple's
 * `itunes:` namespace and the Podcasting 2.0 `podcast:` namespace, on the channel and on each
 * episode (an item with an audio or video file). rss.ts stays a plain RSS writer that calls these.
 * The `feed` package's own podcast option is not used: it writes Google Play tags (a directory
 * that closed), an `itunes:owner` without a name, and no episode fields.
 */

export const ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd";
export const PODCAST_NS = "https://podcastindex.org/namespace/1.0";
/** Apple asks for it in every podcast feed, even one whose items carry no content:encoded. */
const CONTENT_NS = "http://purl.org/rss/1.0/modules/content/";

/** Apple lists .m4a as audio/x-m4a (and some apps know only that), not IANA's audio/mp4. */
const APPLE_TYPES: Readonly<Record<string, string>> = { "audio/mp4": "audio/x-m4a" };

/** `feed` options for a podcast: the RSS `<image>` (readers without itunes: show it) and the copyright. */
export function podcastFeedOptions(model: FeedModel): { image?: string; copyright?: string } {
  const podcast = model.podcast;
  if (!podcast) return {};
  return {
    image: forTextNode(podcast.image),
    ...(podcast.copyright ? { copyright: forTextNode(podcast.copyright) } : {}),
  };
}

/**
 * The one file RSS carries for an item. In a podcast that is the episode's recording (its first
 * audio or video file): an app takes any enclosure for an episode, so an article without one
 * carries none there, its image staying in Atom, JSON Feed and the content. Elsewhere it is the
 * first attached file, else the lead image.
 */
export function rssEnclosure(item: FeedItem, model: FeedModel): Enclosure | undefined {
  if (!model.podcast) return item.enclosures?.[0] ?? item.image;
  const file = item.enclosures?.find((enclosure) => isPlayable(enclosure.type));
  return file ? { ...file, type: APPLE_TYPES[file.type] ?? file.type } : undefined;
}

/** An item's description (its plain-text summary as HTML), within Apple's 4,000 bytes in a podcast. */
export function rssDescription(item: FeedItem, model: FeedModel): string {
  const html = escapeHtml(item.summary);
  if (!model.podcast || Buffer.byteLength(html) <= PODCAST_DESCRIPTION_BYTES) return html;
  // Cut the text, not the HTML, so no entity is split; keep room for the ellipsis.
  let budget = PODCAST_DESCRIPTION_BYTES - 3;
  let end = 0;
  for (const char of item.summary) {
    budget -= Buffer.byteLength(escapeHtml(char));
    if (budget < 0) break;
    end += char.length;
  }
  const cut = item.summary.slice(0, end);
  const space = cut.lastIndexOf(" ");
  return `${escapeHtml((space > end * 0.8 ? cut.slice(0, space) : cut).trimEnd())}…`;
}

/** As `feed` types an extension; an array of objects is written as repeated elements. */
type Extension = { name: string; objects: Record<string, unknown> };

/**
 * An episode's item elements, as `feed` extensions (xml-js objects): the `itunes:` fields Apple
 * reads and the `podcast:` links. Only items whose enclosure is a recording are episodes.
 */
export function episodeExtensions(item: FeedItem, model: FeedModel): Extension[] {
  if (!model.podcast || !rssEnclosure(item, model)) return [];
  const episode = item.episode ?? {};
  const out: Extension[] = [];
  const text = (name: string, value: string | number | boolean | undefined) => {
    if (value !== undefined) out.push({ name, objects: { _text: forTextNode(String(value)) } });
  };
  // Apple recommends the duration in seconds.
  text("itunes:duration", episode.duration);
  text("itunes:episode", episode.episode);
  text("itunes:season", episode.season);
  text("itunes:episodeType", episode.episodeType);
  text("itunes:explicit", episode.explicit);
  // Episode artwork: the article's lead image, where it is a JPEG or PNG (Apple takes no other).
  if (item.image && /^image\/(jpeg|png)$/.test(item.image.type))
    out.push({ name: "itunes:image", objects: { _attributes: { href: attribute(item.image.url) } } });
  if (episode.transcripts?.length)
    out.push({
      name: "podcast:transcript",
      objects: episode.transcripts.map((link) => ({
        _attributes: {
          url: attribute(link.url),
          type: attribute(link.type),
          ...(link.language ? { language: attribute(link.language) } : {}),
          ...(link.captions ? { rel: "captions" } : {}),
        },
      })) as unknown as Record<string, unknown>,
    });
  if (episode.chapters)
    out.push({
      name: "podcast:chapters",
      objects: {
        _attributes: { url: attribute(episode.chapters.url), type: attribute(episode.chapters.type) },
      },
    });
  return out;
}

/**
 * The feed with its podcast namespaces declared on `<rss>` (where Apple looks for them) and the
 * channel's podcast fields written first in `<channel>`. Written here, not through `feed`, which
 * puts channel extensions after the items and cannot declare a namespace on the root.
 */
export function withPodcastChannel(xml: string, model: FeedModel): string {
  const podcast = model.podcast;
  if (!podcast) return xml;
  const open = xml.indexOf("<rss");
  const close = xml.indexOf(">", open);
  // The channel's start tag may carry attributes (xml:lang): its end is the first ">" after it.
  const channel = xml.slice(close).search(/<channel[\s>]/);
  const end = channel < 0 ? -1 : xml.indexOf(">", close + channel) + 1;
  if (open < 0 || close < 0 || end <= 0) return xml;
  const tag = xml.slice(open, close);
  const declared = (prefix: string) => tag.includes(` xmlns:${prefix}=`);
  const namespaces = [
    ["itunes", ITUNES_NS],
    ["podcast", PODCAST_NS],
    ["content", CONTENT_NS],
  ]
    .filter(([prefix]) => !declared(prefix as string))
    .map(([prefix, uri]) => ` xmlns:${prefix}="${uri}"`)
    .join("");
  const fields = channelFields(model)
    .map((line) => `\n        ${line}`)
    .join("");
  return `${xml.slice(0, close)}${namespaces}${xml.slice(close, end)}${fields}${xml.slice(end)}`;
}

/** The channel's `itunes:` and `podcast:` elements, one a line. */
function channelFields(model: FeedModel): string[] {
  const podcast = model.podcast;
  if (!podcast) return [];
  const element = (name: string, value: string) => `<${name}>${escapeHtml(value)}</${name}>`;
  const categories = podcast.categories.map(({ name, sub }) =>
    sub
      ? `<itunes:category text="${escapeHtml(name)}"><itunes:category text="${escapeHtml(sub)}"/></itunes:category>`
      : `<itunes:category text="${escapeHtml(name)}"/>`,
  );
  const owner = podcast.owner
    ? [
        `<itunes:owner>${element("itunes:name", podcast.owner.name)}${element("itunes:email", podcast.owner.email)}</itunes:owner>`,
      ]
    : [];
  const locked =
    podcast.locked === undefined
      ? []
      : [
          `<podcast:locked${podcast.owner ? ` owner="${escapeHtml(podcast.owner.email)}"` : ""}>${podcast.locked ? "yes" : "no"}</podcast:locked>`,
        ];
  return [
    `<itunes:image href="${escapeHtml(podcast.image)}"/>`,
    ...categories,
    element("itunes:explicit", String(podcast.explicit)),
    element("itunes:author", podcast.author),
    ...owner,
    element("itunes:type", podcast.type),
    element("podcast:guid", podcast.guid),
    ...locked,
  ];
}

/**
 * A value for an xml-js attribute: the writer escapes only the double quote (xml-js-text.ts),
 * so "&", "<" and ">" are escaped here.
 */
function attribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
