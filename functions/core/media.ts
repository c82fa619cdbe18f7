/**
 * Media beside articles: images, audio and video uploaded under content/ are published under
 * feeds/media/ with the same path, so a feed can point at them with absolute URLs. Only these
 * types are published, each with a fixed Content-Type (never the uploader's): no SVG, HTML or
 * script can reach the public prefix this way.
 */
const MEDIA_TYPES: Readonly<Record<string, string>> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  aac: "audio/aac",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  opus: "audio/opus",
  wav: "audio/wav",
  flac: "audio/flac",
  mp4: "video/mp4",
  m4v: "video/mp4",
  webm: "video/webm",
  mov: "video/quicktime",
};

/** Where published media live, under the output root. */
export const MEDIA_PREFIX = "feeds/media/";
/** Larger files are not copied (a Lambda copies through memory); link them with an absolute URL. */
export const MAX_MEDIA_BYTES = 100 * 1024 * 1024;

/** The Content-Type of a publishable media file, or undefined for anything else. */
export function mediaType(path: string): string | undefined {
  const segments = path.split("/");
  if (segments.some((s) => s === "" || s.startsWith(".") || s === "_drafts")) return undefined;
  const name = segments[segments.length - 1] ?? "";
  const dot = name.lastIndexOf(".");
  return dot > 0 ? MEDIA_TYPES[name.slice(dot + 1).toLowerCase()] : undefined;
}

/** A file attached to an item: RSS enclosure, Atom link rel="enclosure", JSON Feed attachment. */
export interface Enclosure {
  readonly url: string;
  readonly type: string;
  /** Bytes; 0 when unknown (an external URL given without a length). */
  readonly length: number;
}

/** How an article refers to a file: a path relative to it (or to content/ with a leading "/"), or a URL. */
export interface MediaRef {
  readonly ref: string;
  readonly type?: string;
  readonly length?: number;
}

/**
 * The content key a relative reference points at, from the article's own path; undefined when
 * it is a URL or would leave content/.
 */
export function mediaKeyOf(articlePath: string, ref: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) || ref.startsWith("//")) return undefined;
  const base = ref.startsWith("/") ? [] : articlePath.split("/").slice(0, -1);
  const parts = [...base];
  for (const segment of ref.split(/[?#]/)[0]?.split("/") ?? []) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(segment);
  }
  return parts.length ? parts.join("/") : undefined;
}

/** The guessed type of a URL or path from its extension, for references that give none. */
export function guessType(ref: string): string {
  const path = ref.split(/[?#]/)[0] ?? "";
  return mediaType(path.slice(path.lastIndexOf("/") + 1)) ?? "application/octet-stream";
}

/**
 * Resolves a reference into an enclosure: a local media file (published under feedsUrl/media/,
 * with its real type and size, if it exists), or an http(s) URL with the type and length the
 * article gives. Undefined when the local file is missing or not a media type.
 */
export function resolveEnclosure(
  articlePath: string,
  media: MediaRef,
  feedsUrl: string,
  sizeOf: (key: string) => number | undefined,
): Enclosure | undefined {
  const key = mediaKeyOf(articlePath, media.ref);
  if (key !== undefined) {
    const type = mediaType(key);
    const size = sizeOf(key);
    if (!type || size === undefined) return undefined;
    const url = new URL(key.split("/").map(encodeURIComponent).join("/"), new URL("media/", feedsUrl)).href;
    return { url, type, length: size };
  }
  try {
    const url = new URL(media.ref);
    if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
    return { url: url.href, type: media.type ?? guessType(url.pathname), length: media.length ?? 0 };
  } catch {
    return undefined;
  }
}

/** What an article names that feeds resolve against the content folder. */
export interface MediaNames {
  readonly path: string;
  readonly image?: string;
  readonly enclosures?: readonly MediaRef[];
}

/**
 * Warnings for the local files an article names that feeds cannot publish: missing from the
 * content folder, or there but not an image, audio or video file. Either way the feeds would
 * carry a link on the site to a file feedpub never published, with length 0. Not errors: the
 * site may host such files itself. URLs (http, https, //host) are not checked.
 */
export function mediaWarnings(
  article: MediaNames,
  exists: (key: string) => boolean,
  folder = "content/",
): { file: string; reason: string }[] {
  const named = [
    ...(article.image ? [{ field: "image", ref: article.image }] : []),
    ...(article.enclosures ?? []).map((media) => ({ field: "enclosure", ref: media.ref })),
  ];
  const warnings: { file: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const { field, ref } of named) {
    const key = mediaKeyOf(article.path, ref);
    if (key === undefined || seen.has(`${field} ${key}`)) continue;
    seen.add(`${field} ${key}`);
    const reason = !exists(key)
      ? `is not in ${folder}`
      : !mediaType(key)
        ? "is not an image, audio or video file that feedpub publishes"
        : undefined;
    if (reason)
      warnings.push({
        file: article.path,
        // A short quote: the reference comes from the uploader and may be long.
        reason: `${field} ${ref.length > 200 ? `${ref.slice(0, 200)}…` : ref} ${reason} (feeds would link to a missing file)`,
      });
  }
  return warnings;
}
