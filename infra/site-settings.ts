/**
 * The site settings the FeedPublisher takes, and their check at synth time: the functions receive
 * them as `SITE_CONFIG` and read them with functions/core/config.ts, the parser used here.
 */
import { parseConfig } from "../functions/core/config.ts";

/** A person credited as the site's default author. */
export interface FeedAuthorProps {
  /** Display name. */
  readonly name: string;
  /**
   * Email address.
   * @default - none
   */
  readonly email?: string;
  /**
   * Home page of the author (absolute http(s) URL).
   * @default - none
   */
  readonly url?: string;
}

/** Site settings passed to the functions as `SITE_CONFIG` (see functions/core/config.ts). */
export interface FeedSiteProps {
  /** Feed title. */
  readonly title: string;
  /** The site's home page (absolute http(s) URL); article links are formed under it. */
  readonly url: string;
  /**
   * Feed description.
   * @default - empty
   */
  readonly description?: string;
  /**
   * BCP 47 language tag of the site.
   * @default "en"
   */
  readonly language?: string;
  /**
   * Default author for articles that name none.
   * @default - none (readers show the site title)
   */
  readonly author?: FeedAuthorProps;
  /**
   * Link pattern relative to `url`; tokens :path :slug :section :year :month :day.
   * @default "/:path/"
   */
  readonly permalink?: string;
  /**
   * WebSub hub (absolute http(s) URL): the feeds advertise it and the functions ping it with
   * `hub.mode=publish` after each change. The functions need outbound HTTPS (no VPC is used).
   * @default - none
   */
  readonly hub?: string;
  /**
   * Where `feeds/` is served from (absolute http(s) URL), when readers reach it elsewhere than at
   * the distribution or `domainName` (a proxy on the site's own host). The feeds' self links,
   * media URLs and the outputs use it.
   * @default - `https://<domainName or the distribution's domain>/feeds/`
   */
  readonly feedsUrl?: string;
  /**
   * Section feeds, as `sectionFeeds:` in feedpub.config.yaml: true (top-level folders), false,
   * or `{ depth: 1-4 }`.
   * @default true
   */
  readonly sectionFeeds?: boolean | { readonly depth: number };
  /**
   * Language feeds, as `languageFeeds:` in feedpub.config.yaml: "auto" (languages other than the
   * site's), true (the site's too) or false.
   * @default "auto"
   */
  readonly languageFeeds?: boolean | "auto";
  /**
   * The `podcast:` block of feedpub.config.yaml, as written there (see README, "Podcasts").
   * @default - none: the feeds are not podcast feeds
   */
  readonly podcast?: Readonly<Record<string, unknown>>;
}

/**
 * The site settings as the functions will read them: as written, checked at synth time with the
 * functions' own parser so a bad value fails `cdk synth` rather than every invocation. The
 * functions parse them again (SITE_CONFIG), so they carry the settings' written form, never the
 * parsed one. feedsUrl is kept only when given: by default it is the distribution's domain, known
 * only at deploy time.
 */
export function validatedSiteSettings(
  site: FeedSiteProps,
  itemLimit: number | undefined,
): Record<string, unknown> & { feedsUrl?: string } {
  const raw = {
    title: site.title,
    url: site.url,
    ...(site.description !== undefined ? { description: site.description } : {}),
    ...(site.language !== undefined ? { language: site.language } : {}),
    ...(site.author !== undefined ? { author: site.author } : {}),
    ...(itemLimit !== undefined ? { itemLimit } : {}),
    ...(site.permalink !== undefined ? { permalink: site.permalink } : {}),
    ...(site.hub !== undefined ? { hub: site.hub } : {}),
    ...(site.feedsUrl !== undefined ? { feedsUrl: site.feedsUrl } : {}),
    ...(site.sectionFeeds !== undefined ? { sectionFeeds: site.sectionFeeds } : {}),
    ...(site.languageFeeds !== undefined ? { languageFeeds: site.languageFeeds } : {}),
    ...(site.podcast !== undefined ? { podcast: site.podcast } : {}),
  };
  parseConfig(raw, "FeedPublisher site settings");
  return raw;
}
