import { guessType, type MediaRef } from "./media.ts";
import { quote, stripForbiddenChars } from "./text.ts";

/**
 * An episode's own fields, from the front matter of an article that attaches an audio or video
 * file. In an Article the link urls are as written (a path relative to the article, or an
 * http(s) URL); in a FeedItem they are absolute (resolveEpisode). Plain JSON values only: items
 * are cached as JSON in the feed state.
 */
export interface Episode {
  /** Length of the recording in whole seconds. */
  readonly duration?: number;
  readonly episode?: number;
  readonly season?: number;
  readonly episodeType?: "full" | "trailer" | "bonus";
  readonly explicit?: boolean;
  /** `podcast:transcript`: transcripts and closed captions. */
  readonly transcripts?: readonly EpisodeLink[];
  /** `podcast:chapters`: a chapters file (JSON chapters by default). */
  readonly chapters?: EpisodeLink;
}

export interface EpisodeLink {
  readonly url: string;
  readonly type: string;
  readonly language?: string;
  /** rel="captions": the file is closed captions, with time codes. */
  readonly captions?: true;
}

type Fail = (key: string, reason: string) => never;

/** Longest recording accepted: 99:59:59. */
export const MAX_DURATION_SECONDS = 99 * 3600 + 59 * 60 + 59;
/** Highest episode or season number accepted. */
export const MAX_EPISODE_NUMBER = 999_999;
/** Most transcripts one episode may link (one per format and language, in practice two or three). */
export const MAX_TRANSCRIPTS = 5;
const MAX_LINK_LENGTH = 2000;

/** The type of a transcript given by its file name alone (the namespace's own examples). */
const TRANSCRIPT_TYPES: Readonly<Record<string, string>> = {
  vtt: "text/vtt",
  srt: "application/x-subrip",
  html: "text/html",
  htm: "text/html",
  txt: "text/plain",
  json: "application/json",
};
/** The namespace's preferred chapters format. */
export const JSON_CHAPTERS = "application/json+chapters";

/** Whether a reference is audio or video: the files that make an article an episode. */
export function isPlayable(type: string): boolean {
  return type.startsWith("audio/") || type.startsWith("video/");
}

/**
 * Reads the episode fields (Hugo / Jekyll podcast themes' names): `duration` (seconds, "MM:SS"
 * or "HH:MM:SS"), `episode`, `season`, `episodeType` / `episode_type`, `explicit`, `transcript`
 * / `transcripts` and `chapters`. Only an article that attaches an audio or video file is an
 * episode: elsewhere these names may mean anything and are left alone. A bad value fails with
 * the field's name, as every other front-matter field does.
 */
export function readEpisode(
  data: Record<string, unknown>,
  enclosures: readonly MediaRef[],
  fail: Fail,
): Episode | undefined {
  if (!enclosures.some((media) => isPlayable(media.type ?? guessType(media.ref)))) return undefined;
  const set = (key: string) => data[key] !== undefined && data[key] !== null;
  const duration = set("duration") ? readDuration(data.duration, fail) : undefined;
  const episode = set("episode") ? readNumber(data.episode, "episode", fail) : undefined;
  const season = set("season") ? readNumber(data.season, "season", fail) : undefined;
  const typeKey = set("episodeType") ? "episodeType" : "episode_type";
  const episodeType = set(typeKey) ? readEpisodeType(data[typeKey], typeKey, fail) : undefined;
  const explicit = set("explicit") ? readBoolean(data.explicit, "explicit", fail) : undefined;
  const transcriptKey = set("transcripts") ? "transcripts" : "transcript";
  const transcripts = set(transcriptKey) ? readTranscripts(data[transcriptKey], transcriptKey, fail) : [];
  const chapters = set("chapters")
    ? readLink(data.chapters, "chapters", fail, () => JSON_CHAPTERS)
    : undefined;
  const out: Episode = {
    ...(duration !== undefined ? { duration } : {}),
    ...(episode !== undefined ? { episode } : {}),
    ...(season !== undefined ? { season } : {}),
    ...(episodeType ? { episodeType } : {}),
    ...(explicit !== undefined ? { explicit } : {}),
    ...(transcripts.length ? { transcripts } : {}),
    ...(chapters ? { chapters } : {}),
  };
  return Object.keys(out).length ? out : undefined;
}

function readDuration(value: unknown, fail: Fail): number {
  const shape = 'must be a number of seconds, "MM:SS" or "HH:MM:SS"';
  let seconds: number | undefined;
  if (typeof value === "number" && Number.isFinite(value)) seconds = Math.round(value);
  else if (typeof value === "string" && value.length <= 20) {
    // Up to three groups: [[hours:]minutes:]seconds, with an optional fraction of a second.
    const match = /^\s*(?:(?:(\d{1,2}):)?(\d{1,4}):)?(\d{1,6})(\.\d+)?\s*$/.exec(value);
    const [h = "0", m = "0", s = "0"] = [match?.[1], match?.[2], match?.[3]];
    const grouped = match?.[2] !== undefined;
    if (match && (!grouped || (Number(s) < 60 && (match[1] === undefined || Number(m) < 60))))
      seconds = Math.round(Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(match[4] ?? 0));
  }
  if (seconds === undefined) return fail("duration", `${shape}, got ${describe(value)}`);
  if (seconds < 1 || seconds > MAX_DURATION_SECONDS)
    return fail("duration", `must be between 1 second and 99:59:59, got ${describe(value)}`);
  return seconds;
}

/** Apple: "a non-zero integer (1, 2, 3, etc.)". */
function readNumber(value: unknown, key: string, fail: Fail): number {
  const number = typeof value === "string" && /^\s*\d{1,7}\s*$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < 1 || number > MAX_EPISODE_NUMBER)
    return fail(key, `must be a whole number from 1 to ${MAX_EPISODE_NUMBER}, got ${describe(value)}`);
  return number;
}

function readEpisodeType(value: unknown, key: string, fail: Fail): Episode["episodeType"] {
  const type = typeof value === "string" ? value.trim().toLowerCase() : undefined;
  if (type !== "full" && type !== "trailer" && type !== "bonus")
    return fail(key, `must be full, trailer or bonus, got ${describe(value)}`);
  return type;
}

function readBoolean(value: unknown, key: string, fail: Fail): boolean {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  return fail(key, `must be true or false, got ${describe(value)}`);
}

function readTranscripts(value: unknown, key: string, fail: Fail): EpisodeLink[] {
  const values = Array.isArray(value) ? value : [value];
  if (values.length > MAX_TRANSCRIPTS)
    fail(key, `names ${values.length} transcripts; an episode may link at most ${MAX_TRANSCRIPTS}`);
  return values.map((entry) =>
    readLink(entry, key, fail, (url) => TRANSCRIPT_TYPES[extension(url)] ?? undefined),
  );
}

/**
 * A linked file: a path or URL, or {url, type, language, rel}. The type is required by the
 * namespace; when not written it is taken from the file name, and a name that tells none is an
 * error rather than a guess.
 */
function readLink(
  value: unknown,
  key: string,
  fail: Fail,
  typeOf: (url: string) => string | undefined,
): EpisodeLink {
  const record = typeof value === "string" ? { url: value } : value;
  if (!record || typeof record !== "object" || Array.isArray(record))
    return fail(key, `must be a path, a URL or {url, type}, got ${describe(value)}`);
  const { url: rawUrl, type: rawType, language, rel, ...extra } = record as Record<string, unknown>;
  const unknown = Object.keys(extra)[0];
  if (unknown !== undefined)
    fail(key, `has an unknown field ${quote(unknown)} (known: url, type, language, rel)`);
  if (typeof rawUrl !== "string" || !rawUrl.trim()) fail(key, "needs a url (a path or an http(s) URL)");
  const url = stripForbiddenChars(rawUrl as string).trim();
  if (url.length > MAX_LINK_LENGTH) fail(key, `has a url longer than ${MAX_LINK_LENGTH} characters`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^https?:\/\//i.test(url))
    fail(key, `must be a relative path or an http(s) URL, got ${quote(url)}`);
  if (/\\|^\/\//.test(url)) fail(key, `must not contain "\\" or start with "//", got ${quote(url)}`);
  if (rawType !== undefined && (typeof rawType !== "string" || !/^[a-z]+\/[a-z0-9.+-]+$/i.test(rawType)))
    fail(key, `type must be a media type like "text/vtt", got ${describe(rawType)}`);
  const type = typeof rawType === "string" ? rawType.toLowerCase() : typeOf(url);
  if (!type) fail(key, `needs a type for ${quote(url)} (text/vtt, application/x-subrip, text/html, ...)`);
  if (
    language !== undefined &&
    (typeof language !== "string" || !/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(language))
  )
    fail(key, `language must be a language tag like "en", got ${describe(language)}`);
  if (rel !== undefined && rel !== "captions") fail(key, `rel can only be "captions", got ${describe(rel)}`);
  return {
    url,
    type: type as string,
    ...(typeof language === "string" ? { language } : {}),
    ...(rel === "captions" ? { captions: true as const } : {}),
  };
}

function extension(url: string): string {
  const path = url.split(/[?#]/)[0] ?? "";
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

/**
 * The episode with its links made absolute: an http(s) URL as it is, a path relative to the
 * article's link (a file on the site, as an enclosure that is not in content/ is). feedpub does
 * not publish transcripts or chapters itself: .json, .html and .txt files in content/ are articles.
 */
export function resolveEpisode(episode: Episode, articleUrl: string): Episode {
  const resolve = (link: EpisodeLink): EpisodeLink[] => {
    try {
      const url = new URL(link.url, articleUrl);
      return url.protocol === "https:" || url.protocol === "http:" ? [{ ...link, url: url.href }] : [];
    } catch {
      return [];
    }
  };
  const { transcripts, chapters, ...rest } = episode;
  const resolved = (transcripts ?? []).flatMap(resolve);
  const chapter = chapters ? resolve(chapters)[0] : undefined;
  return {
    ...rest,
    ...(resolved.length ? { transcripts: resolved } : {}),
    ...(chapter ? { chapters: chapter } : {}),
  };
}

/**
 * Thrown while rendering an item that a podcast cannot carry as it is; its message is the
 * article's problem as it stands (no "the body could not be rendered" before it).
 */
export class EpisodeError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = "EpisodeError";
  }
}

/**
 * The episode an item carries: the article's fields with absolute links, when one of its
 * resolved files is a recording. Apple: in a serial show, `itunes:episode` "numbers must be given
 * for each episode", so an unnumbered full episode there is the article's problem (a trailer or
 * bonus may be unnumbered: it then belongs to the show or its season).
 */
export function itemEpisode(
  episode: Episode | undefined,
  files: readonly { readonly type: string }[],
  articleUrl: string,
  serial: boolean,
): Episode | undefined {
  if (!files.some((file) => isPlayable(file.type))) return undefined;
  if (serial && (episode?.episodeType ?? "full") === "full" && episode?.episode === undefined)
    throw new EpisodeError(
      "episode: is required on every full episode of a serial podcast (podcast.type: serial in the settings)",
    );
  return episode ? resolveEpisode(episode, articleUrl) : undefined;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (value && typeof value === "object") return "a mapping";
  return typeof value === "string" ? quote(value) : String(value);
}
