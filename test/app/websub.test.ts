import { execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { assembleFeed, renderFeedFiles } from "../../functions/core/build.ts";
import { parseConfig } from "../../functions/core/config.ts";
import { ConfigError } from "../../functions/core/errors.ts";
import { changedFeedUrls, notifyHub } from "../../functions/engine/websub.ts";
import { assertValidJsonFeed, assertWellFormedXml } from "../helpers/feed-check.ts";
import { startHub, type TestHub } from "../support/hub.ts";

let hub: TestHub;
const site = (hubUrl?: string) =>
  parseConfig({
    title: "Hubbed",
    url: "https://hubbed.example/",
    feedsUrl: "https://cdn.hubbed.example/feeds/",
    ...(hubUrl ? { hub: hubUrl } : {}),
  });
// Archive pages are written too when a month ends, but nobody subscribes to them.
const ALL = [
  "feeds/rss.xml",
  "feeds/atom.xml",
  "feeds/feed.json",
  "feeds/index.html",
  "feeds/archive/2025-01/rss.xml",
  "feeds/archive/2025-01/feed.json",
  "_state/index.json",
];
const FEED_URLS = [
  "https://cdn.hubbed.example/feeds/rss.xml",
  "https://cdn.hubbed.example/feeds/atom.xml",
  "https://cdn.hubbed.example/feeds/feed.json",
];
/**
 * Short back-off; the per-request timeout is what makes the "hang" answer fail, and it also
 * bounds every answered request to this in-process hub, so it is seconds, not a few hundred ms a
 * busy machine can exceed.
 */
const fast = { backoffMs: 10, timeoutMs: 3_000 };

beforeAll(async () => {
  hub = await startHub();
});
afterAll(async () => {
  await hub.close();
});
beforeEach(() => {
  hub.requests.length = 0;
  hub.script();
});

describe("WebSub: advertising the hub", () => {
  const files = (config = site("https://hub.example/websub")) =>
    Object.fromEntries(renderFeedFiles(assembleFeed(config, [])).map((f) => [f.key, f.body]));
  /** The feed's links as Debian's python3-feedparser reads them. */
  const links = (xml: string) =>
    JSON.parse(
      execFileSync(
        "/usr/bin/python3",
        [
          "-c",
          "import sys,json,feedparser; f=feedparser.parse(sys.stdin.read()); print(json.dumps([[l.get('rel'),l.get('href')] for l in f.feed.get('links',[])]))",
        ],
        { input: xml, encoding: "utf8" },
      ),
    ) as [string, string][];

  it("RSS and Atom carry rel=hub beside rel=self, and JSON Feed lists it in hubs", () => {
    const out = files();
    for (const [key, self] of [
      ["feeds/rss.xml", FEED_URLS[0]],
      ["feeds/atom.xml", FEED_URLS[1]],
    ] as const) {
      const xml = out[key] as string;
      assertWellFormedXml(xml);
      expect(links(xml), key).toEqual(
        expect.arrayContaining([
          ["hub", "https://hub.example/websub"],
          ["self", self],
        ]),
      );
    }
    const json = assertValidJsonFeed(out["feeds/feed.json"] as string);
    expect(json.hubs).toEqual([{ type: "WebSub", url: "https://hub.example/websub" }]);
    expect(json.feed_url).toBe(FEED_URLS[2]);
  });

  it("without a hub, no feed mentions one", () => {
    const out = files(site());
    expect(links(out["feeds/rss.xml"] as string).map(([rel]) => rel)).not.toContain("hub");
    expect(links(out["feeds/atom.xml"] as string).map(([rel]) => rel)).not.toContain("hub");
    expect(assertValidJsonFeed(out["feeds/feed.json"] as string).hubs).toBeUndefined();
  });

  it("the hub must be an absolute http(s) URL", () => {
    for (const bad of ["/hub", "ftp://hub.example/", "javascript:alert(1)", "not a url"])
      expect(() => site(bad), bad).toThrow(ConfigError);
    expect(() => site("javascript:alert(1)")).toThrow(/hub: must be an absolute http\(s\) URL/);
  });
});

describe("WebSub: pinging the hub after a change", () => {
  it("pings once per changed feed document, form-encoded, hub.mode=publish", async () => {
    expect(changedFeedUrls(site(), ALL)).toEqual(FEED_URLS);
    const pings = await notifyHub(site(hub.url), ALL, fast);
    expect(pings.map((p) => [p.feed, p.ok, p.attempts])).toEqual(FEED_URLS.map((url) => [url, true, 1]));
    expect(hub.requests.map((r) => r.method)).toEqual(["POST", "POST", "POST"]);
    for (const request of hub.requests) expect(request.contentType).toBe("application/x-www-form-urlencoded");
    expect(
      hub.requests
        .map((r) => r.params)
        .sort((a, b) => (a["hub.url"] ?? "").localeCompare(b["hub.url"] ?? "")),
    ).toEqual([...FEED_URLS].sort().map((url) => ({ "hub.mode": "publish", "hub.url": url })));
  });

  it("pings nothing when no feed document changed, or when no hub is set", async () => {
    expect(await notifyHub(site(hub.url), ["feeds/index.html", "_state/index.json"], fast)).toEqual([]);
    expect(await notifyHub(site(), ALL, fast)).toEqual([]);
    expect(hub.requests).toEqual([]);
  });

  it("retries 5xx, 429, a dropped connection and a hub that hangs, then succeeds", async () => {
    hub.script(503, 429, "drop", "hang");
    const [ping] = await notifyHub(site(hub.url), ["feeds/rss.xml"], { ...fast, attempts: 5 });
    expect(ping).toMatchObject({ ok: true, attempts: 5, status: 204 });
    expect(hub.requests).toHaveLength(5);
  });

  it("gives up after the last try with the reason; a 4xx refusal is not retried", async () => {
    hub.script(500, 500, 500);
    const [failed] = await notifyHub(site(hub.url), ["feeds/atom.xml"], fast);
    expect(failed).toMatchObject({
      ok: false,
      attempts: 3,
      status: 500,
      reason: "the hub answered HTTP 500",
    });
    hub.requests.length = 0;
    hub.script(400);
    const [refused] = await notifyHub(site(hub.url), ["feeds/atom.xml"], fast);
    expect(refused).toMatchObject({ ok: false, attempts: 1, status: 400 });
    expect(hub.requests).toHaveLength(1);
  });

  it("a hub nobody listens on fails with the network's reason, without throwing", async () => {
    const closed = await new Promise<number>((done) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => done(port));
      });
    });
    const [ping] = await notifyHub(site(`http://127.0.0.1:${closed}/hub`), ["feeds/rss.xml"], fast);
    expect(ping).toMatchObject({ ok: false, attempts: 3, reason: "ECONNREFUSED" });
  });
});
