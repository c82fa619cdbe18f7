import { archiveMonthOfKey } from "../core/archive.ts";
import type { SiteConfig } from "../core/config.ts";
import { FEED_FILES } from "../core/model.ts";

/** How one publish notification went. */
export interface HubPing {
  /** The feed's public URL (`hub.url`). */
  readonly feed: string;
  readonly ok: boolean;
  readonly attempts: number;
  /** The hub's last HTTP status, if it answered at all. */
  readonly status?: number;
  /** Why the last attempt failed. */
  readonly reason?: string;
}

export interface PingOptions {
  readonly fetch?: typeof fetch;
  /** Tries per feed (default 3). */
  readonly attempts?: number;
  /** Wait before the second try, doubled after each (default 500 ms). */
  readonly backoffMs?: number;
  /** Per request (default 5 s): a hub that hangs must not hold a regeneration. */
  readonly timeoutMs?: number;
}

const DOCUMENT_NAMES = [FEED_FILES.rss.key, FEED_FILES.atom.key, FEED_FILES.json.key].map((key) =>
  key.slice(key.lastIndexOf("/") + 1),
);

/**
 * The public URLs of the feed documents among the keys a regeneration wrote: the main feeds and
 * the tag and author feeds (not the landing page, the stylesheets or the archive pages, which
 * nobody subscribes to).
 */
export function changedFeedUrls(config: SiteConfig, written: readonly string[]): string[] {
  return written
    .filter(
      (key) =>
        key.startsWith("feeds/") &&
        archiveMonthOfKey(key) === undefined &&
        DOCUMENT_NAMES.includes(key.slice(key.lastIndexOf("/") + 1)),
    )
    .map((key) => new URL(key.slice("feeds/".length), config.feedsUrl).href);
}

/**
 * WebSub publish notifications (`hub.mode=publish`, `hub.url=<feed>`, form-encoded POST), one per
 * changed feed, after the feeds are written. Network errors, 429 and 5xx are retried with
 * backoff; any other answer is final. Never throws: the feeds are already published, so a hub
 * that is down costs subscribers a poll interval, not the regeneration.
 */
export async function notifyHub(
  config: SiteConfig,
  written: readonly string[],
  options: PingOptions = {},
): Promise<HubPing[]> {
  if (!config.hub) return [];
  const hub = config.hub;
  return Promise.all(changedFeedUrls(config, written).map((feed) => ping(hub, feed, options)));
}

async function ping(hub: string, feed: string, options: PingOptions): Promise<HubPing> {
  const send = options.fetch ?? fetch;
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 500;
  let last: { status?: number; reason: string } = { reason: "not sent" };
  let attempt = 0;
  while (attempt < attempts) {
    attempt++;
    try {
      const response = await send(hub, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ "hub.mode": "publish", "hub.url": feed }).toString(),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { feed, ok: true, attempts: attempt, status: response.status };
      last = { status: response.status, reason: `the hub answered HTTP ${response.status}` };
      // The hub understood and refused: asking again will not change its mind.
      if (response.status < 500 && response.status !== 429) break;
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      last = { reason: cause?.code ?? cause?.message ?? (error as Error).message };
    }
    if (attempt < attempts) await new Promise((done) => setTimeout(done, backoffMs * 2 ** (attempt - 1)));
  }
  return { feed, ok: false, attempts: attempt, ...last };
}
