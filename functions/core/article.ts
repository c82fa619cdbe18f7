import type { Person } from "./config.ts";
import type { MediaRef } from "./media.ts";
import type { Episode } from "./podcast-fields.ts";

/** The markup an article's body is written in. */
export type BodyFormat = "markdown" | "text" | "html";

/**
 * An article as read from one file: metadata plus its raw, unrendered body. Bodies are only
 * rendered for articles that end up in a feed (see render-body.ts), which keeps large folders fast.
 */
export interface Article {
  /** Path under the content root, "/"-separated, e.g. "posts/hello.md". */
  readonly path: string;
  readonly title: string;
  /** Publication date given by the article itself (front matter, file name or meta tag). */
  readonly date?: Date;
  /** Last-modified date given by the article itself. */
  readonly updated?: Date;
  /** Hidden until this time (Hugo `publishDate`). */
  readonly publishDate?: Date;
  /** Hidden from this time on (Hugo `expiryDate`). */
  readonly expiryDate?: Date;
  readonly draft: boolean;
  readonly tags: readonly string[];
  /** Plain-text summary given by the author. */
  readonly summary?: string;
  readonly authors: readonly Person[];
  /** Stable id given by the author. */
  readonly id?: string;
  readonly slug?: string;
  /** Link given by the author: a site-relative path or an absolute URL. */
  readonly url?: string;
  /** Lead image: a URL, relative to the article or absolute. */
  readonly image?: string;
  /** Files attached to it (podcast audio, video, documents): front matter `enclosure`, `audio`, `video`. */
  readonly enclosures?: readonly MediaRef[];
  /** Episode fields, read only when it attaches audio or video (podcast-fields.ts). */
  readonly episode?: Episode;
  /** An episode field that could not be read: the article's problem in a podcast feed only. */
  readonly episodeProblem?: { readonly reason: string; readonly line?: number };
  readonly language?: string;
  readonly format: BodyFormat;
  readonly body: string;
  /** Hash of the file's bytes; a change means the article was edited. */
  readonly hash: string;
}
