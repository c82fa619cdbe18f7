import { describe, expect, it } from "vitest";
import type { Article } from "../../functions/core/article.ts";
import {
  assembleFeed,
  type BuildInput,
  buildFeed,
  renderBrowserFiles,
  renderFeedFiles,
  type SeenState,
  toFeedItem,
  updateSeen,
} from "../../functions/core/build.ts";
import { articleId } from "../../functions/core/urls.ts";
import { BASE_ARTICLE, SITE } from "./support.ts";

const NOW = new Date("2024-06-01T12:00:00Z");
const LATER = new Date("2024-06-08T12:00:00Z");
const day = (n: number) => new Date(Date.UTC(2024, 4, n, 9)); // May n, 2024, 09:00 UTC

const article = (overrides: Partial<Article>): Article => ({ ...BASE_ARTICLE, ...overrides });
const BASE_INPUT: BuildInput = { config: SITE, articles: [], seen: {}, now: NOW };
const build = (overrides: Partial<BuildInput>) => buildFeed({ ...BASE_INPUT, ...overrides });
const paths = (result: ReturnType<typeof buildFeed>) => result.feed.items.map((i) => i.url);

describe("buildFeed: what is held back", () => {
  it("holds drafts without scheduling a rebuild for them", () => {
    const result = build({
      articles: [article({ path: "a.md", draft: true }), article({ path: "b.md", date: day(2) })],
    });

    expect(result.held).toEqual([{ file: "a.md", reason: "draft" }]);
    expect(result.feed.items.map((i) => i.title)).toHaveLength(1);
    expect(result.feed.items[0]?.url).toBe("https://news.example.org/b/");
    expect(result.nextChange).toBeUndefined();
  });

  it("holds future-dated articles and those with a future publishDate; nextChange is the earliest", () => {
    const inTwoDays = new Date("2024-06-03T12:00:00Z");
    const inFiveDays = new Date("2024-06-06T12:00:00Z");

    const result = build({
      articles: [
        article({ path: "future.md", date: inFiveDays }),
        article({ path: "scheduled.md", date: day(1), publishDate: inTwoDays }),
        article({ path: "now.md", date: day(2) }),
      ],
    });

    expect(result.held).toEqual([
      { file: "future.md", reason: "scheduled", until: inFiveDays },
      { file: "scheduled.md", reason: "scheduled", until: inTwoDays },
    ]);
    expect(result.nextChange).toEqual(inTwoDays);
    expect(result.feed.items).toHaveLength(1);
  });

  it("an article dated exactly now is published", () => {
    expect(build({ articles: [article({ date: NOW })] }).feed.items).toHaveLength(1);
  });

  it("holds expired articles and schedules a rebuild when a visible one expires", () => {
    const expiresSoon = new Date("2024-06-02T00:00:00Z");

    const result = build({
      articles: [
        article({ path: "gone.md", date: day(1), expiryDate: NOW }),
        article({ path: "going.md", date: day(1), expiryDate: expiresSoon }),
      ],
    });

    expect(result.held).toEqual([{ file: "gone.md", reason: "expired", until: NOW }]);
    expect(result.feed.items.map((i) => i.url)).toEqual(["https://news.example.org/going/"]);
    expect(result.nextChange).toEqual(expiresSoon);
  });

  it("nextChange is the earliest of scheduled starts and expiries", () => {
    const result = build({
      articles: [
        article({ path: "a.md", date: new Date("2024-06-10T00:00:00Z") }),
        article({ path: "b.md", date: day(1), expiryDate: new Date("2024-06-04T00:00:00Z") }),
        article({ path: "c.md", publishDate: new Date("2024-06-05T00:00:00Z"), date: undefined }),
      ],
    });

    expect(result.nextChange).toEqual(new Date("2024-06-04T00:00:00Z"));
  });
});

describe("buildFeed: order and limit", () => {
  it("sorts newest first (ties by path) and keeps only itemLimit items", () => {
    const articles = [3, 1, 5, 2, 4].map((n) => article({ path: `p${n}.md`, date: day(n) }));
    const tie = article({ path: "p0.md", date: day(5) });

    const result = build({ config: { ...SITE, itemLimit: 3 }, articles: [...articles, tie] });

    expect(paths(result)).toEqual([
      "https://news.example.org/p0/",
      "https://news.example.org/p5/",
      "https://news.example.org/p4/",
    ]);
  });

  it("renders the body only for articles that make the cut", () => {
    const read: string[] = [];
    const withWatchedBody = (path: string, date: Date): Article => {
      const base = article({ path, date });
      return Object.defineProperty({ ...base }, "body", {
        get() {
          read.push(path);
          if (path === "old.md") throw new Error("the body of an article outside the feed was rendered");
          return "Body of the new article.";
        },
      });
    };

    const result = build({
      config: { ...SITE, itemLimit: 1 },
      articles: [withWatchedBody("old.md", day(1)), withWatchedBody("new.md", day(2))],
    });

    expect(read).toEqual(["new.md"]);
    expect(result.feed.items[0]?.contentHtml).toBe("<p>Body of the new article.</p>\n");
  });

  it("an article whose body cannot be rendered is reported, and the next article takes its place", () => {
    // marked recurses once per nesting level: 20,000 nested quotes (40 KB) overflow the stack.
    const nested = article({ path: "nested.md", date: day(3), body: `${"> ".repeat(20_000)}deep` });

    const result = build({
      config: { ...SITE, itemLimit: 2 },
      articles: [nested, article({ path: "a.md", date: day(2) }), article({ path: "b.md", date: day(1) })],
    });

    expect(result.problems).toEqual([
      { file: "nested.md", reason: expect.stringMatching(/^the body could not be rendered: \S/) },
    ]);
    expect(paths(result)).toEqual(["https://news.example.org/a/", "https://news.example.org/b/"]);
  });

  it("the feed's date is its newest item's updated date, never the build time", () => {
    const result = build({
      articles: [
        article({ path: "a.md", date: day(1), updated: day(20) }),
        article({ path: "b.md", date: day(10) }),
      ],
    });

    expect(result.feed.updated).toEqual(day(20));
  });

  it("an empty feed is dated at the epoch, so it does not change from run to run", () => {
    const result = build({ articles: [] });

    expect(result.feed.items).toEqual([]);
    expect(result.feed.updated).toEqual(new Date(0));
  });
});

describe("buildFeed: dates from the seen state", () => {
  const undated = article({ path: "notes/undated.md", date: undefined, hash: "v1" });

  it("an article with no date is dated when it was first seen", () => {
    const firstSeen = "2024-05-20T08:00:00.000Z";
    const seen: SeenState = { [undated.path]: { firstSeen, hash: "v1", changed: firstSeen } };

    const result = build({ articles: [undated], seen });

    expect(result.feed.items[0]?.published).toEqual(new Date(firstSeen));
    expect(result.feed.items[0]?.updated).toEqual(new Date(firstSeen));
    expect(result.seen).toEqual(seen);
  });

  it("a new undated article is dated now and remembered", () => {
    const result = build({ articles: [undated] });

    expect(result.feed.items[0]?.published).toEqual(NOW);
    expect(result.seen).toEqual({
      [undated.path]: { firstSeen: NOW.toISOString(), hash: "v1", changed: NOW.toISOString() },
    });
  });

  it("a rebuild with the returned state at a later time renders byte-identical files", () => {
    const articles = [undated, article({ path: "dated.md", date: day(3) })];
    const first = build({ articles });

    const second = build({ articles, seen: first.seen, now: LATER });

    expect(second.seen).toEqual(first.seen);
    const firstFiles = renderFeedFiles(first.feed);
    const secondFiles = renderFeedFiles(second.feed);
    expect(secondFiles.map((f) => f.key)).toEqual(["feeds/rss.xml", "feeds/atom.xml", "feeds/feed.json"]);
    for (const [index, file] of secondFiles.entries()) expect(file.body).toBe(firstFiles[index]?.body);
  });

  it("an edit (new hash) bumps `updated` but keeps `published` and `id`", () => {
    const first = build({ articles: [undated] });
    const edited = { ...undated, hash: "v2", body: "Rewritten." };

    const second = build({ articles: [edited], seen: first.seen, now: LATER });

    const [before] = first.feed.items;
    const [after] = second.feed.items;
    expect(after?.published).toEqual(before?.published);
    expect(after?.id).toBe(before?.id);
    expect(after?.updated).toEqual(LATER);
    expect(second.seen[undated.path]).toEqual({
      firstSeen: NOW.toISOString(),
      hash: "v2",
      changed: LATER.toISOString(),
    });
  });

  it("an edit of a dated article without lastmod also bumps `updated`", () => {
    const dated = article({ path: "dated.md", date: day(3), hash: "v1" });
    const first = build({ articles: [dated] });

    const second = build({ articles: [{ ...dated, hash: "v2" }], seen: first.seen, now: LATER });

    expect(second.feed.items[0]?.published).toEqual(day(3));
    expect(second.feed.items[0]?.updated).toEqual(LATER);
    expect(second.feed.updated).toEqual(LATER);
  });

  it("an explicit lastmod wins, but `updated` is never before `published`", () => {
    const result = build({
      articles: [
        article({ path: "a.md", date: day(3), updated: day(4) }),
        article({ path: "b.md", date: day(3), updated: day(1) }),
      ],
    });

    const byUrl = Object.fromEntries(result.feed.items.map((i) => [i.url, i.updated]));
    expect(byUrl["https://news.example.org/a/"]).toEqual(day(4));
    expect(byUrl["https://news.example.org/b/"]).toEqual(day(3));
  });

  it("an undated article with a publishDate is dated by it (as in Hugo), not by when it was first seen", () => {
    const publishDate = new Date("2024-06-05T00:00:00Z");
    const scheduled = article({ path: "s.md", date: undefined, publishDate });

    const early = build({ articles: [scheduled] });
    const onTime = build({ articles: [scheduled], seen: early.seen, now: LATER });

    expect(early.held).toEqual([{ file: "s.md", reason: "scheduled", until: publishDate }]);
    expect(onTime.feed.items[0]?.published).toEqual(publishDate);
  });

  it("a draft's first-seen clock starts only when it stops being a draft", () => {
    const draft = article({ path: "d.md", date: undefined, draft: true, hash: "v1" });

    const whileDraft = build({ articles: [draft] });
    const released = build({
      articles: [{ ...draft, draft: false, hash: "v2" }],
      seen: whileDraft.seen,
      now: LATER,
    });

    expect(released.feed.items[0]?.published).toEqual(LATER);
  });

  it("the seen state lists files in path order, whatever order they were read in", () => {
    const articles = ["c.md", "a.md", "b/z.md", "b.md"].map((path) => article({ path }));

    const result = build({ articles });

    expect(Object.keys(result.seen)).toEqual(["a.md", "b.md", "b/z.md", "c.md"]);
    expect(JSON.stringify(build({ articles: [...articles].reverse() }).seen)).toBe(
      JSON.stringify(result.seen),
    );
  });

  it("updateSeen keeps unchanged records as they are and drops removed files", () => {
    const seen: SeenState = {
      "kept.md": { firstSeen: "2024-01-01T00:00:00.000Z", hash: "k", changed: "2024-01-02T00:00:00.000Z" },
      "removed.md": { firstSeen: "2024-01-01T00:00:00.000Z", hash: "r", changed: "2024-01-01T00:00:00.000Z" },
    };

    const next = updateSeen([article({ path: "kept.md", hash: "k" })], seen, NOW);

    expect(next).toEqual({ "kept.md": seen["kept.md"] });
  });
});

describe("toFeedItem without full text (archive pages)", () => {
  const chosen = (path: string) => ({
    path,
    id: `urn:test:${path}`,
    published: day(1),
    updated: day(1),
  });
  const watched = (overrides: Partial<Article>, read: string[]): Article =>
    Object.defineProperty({ ...article(overrides) }, "body", {
      get() {
        read.push(overrides.path ?? "");
        return "First *words* of the body & more.";
      },
    });

  it("carries the summary alone, with no content, and leaves a body it does not need unread", () => {
    const read: string[] = [];
    const item = toFeedItem(
      watched({ path: "a.md", title: "A <title>", summary: "Written <summary> & more" }, read),
      chosen("a.md"),
      SITE,
      undefined,
      { fullText: false },
    );

    expect(read).toEqual([]);
    expect(item.contentHtml).toBeUndefined();
    expect(item.summary).toBe("Written <summary> & more");
  });

  it("takes the summary from the body when the article gives none, exactly as the full item does", () => {
    const read: string[] = [];
    const source = watched({ path: "b.md", title: "B" }, read);
    const full = toFeedItem(source, chosen("b.md"), SITE);
    const short = toFeedItem(source, chosen("b.md"), SITE, undefined, { fullText: false });

    expect(read).toEqual(["b.md", "b.md"]);
    expect(short.summary).toBe("First words of the body & more.");
    const { contentHtml: fullText, ...withoutText } = full;
    expect(short).toEqual(withoutText);
    expect(fullText).toContain("<em>words</em>");
  });
});

describe("buildFeed: items", () => {
  it("reports duplicate ids as problems and keeps the first by path", () => {
    const id = "tag:news.example.org,2024:same";

    const result = build({
      articles: [article({ path: "b.md", id }), article({ path: "a.md", id }), article({ path: "c.md" })],
    });

    expect(result.problems).toEqual([{ file: "b.md", reason: `duplicate id "${id}": a.md already uses it` }]);
    expect(result.feed.items.map((i) => i.id).sort()).toEqual([id, articleId({ path: "c.md" }, SITE)].sort());
  });

  it("reports two non-URI ids that hash alike as duplicates too", () => {
    const result = build({
      articles: [article({ path: "a.md", id: "42" }), article({ path: "b.md", id: "42" })],
    });

    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]?.file).toBe("b.md");
  });

  it("fills every item from the article and the site", () => {
    const result = build({
      articles: [
        article({
          path: "posts/trip/index.md",
          title: "Trip",
          date: day(2),
          body: "Text with [a link](../other/).",
          summary: "Given summary.",
          tags: ["travel"],
          authors: [{ name: "Min-ji" }],
          image: "cover.jpg",
          language: "ko",
        }),
      ],
    });

    expect(result.feed.items).toEqual([
      {
        id: articleId({ path: "posts/trip/index.md" }, SITE),
        url: "https://news.example.org/posts/trip/",
        title: "Trip",
        published: day(2),
        updated: day(2),
        contentHtml: '<p>Text with <a href="https://news.example.org/posts/other/">a link</a>.</p>\n',
        summary: "Given summary.",
        tags: ["travel"],
        authors: [{ name: "Min-ji" }],
        image: { url: "https://news.example.org/posts/trip/cover.jpg", type: "image/jpeg", length: 0 },
        language: "ko",
      },
    ]);
  });

  it("credits the site's author, else the site itself, when the article names none", () => {
    const withAuthor = build({ articles: [article({})] });
    const { author: _author, ...noAuthor } = SITE;
    const without = build({ config: noAuthor, articles: [article({})] });

    expect(withAuthor.feed.items[0]?.authors).toEqual([
      { name: "The Editors", email: "editors@news.example.org" },
    ]);
    expect(without.feed.items[0]?.authors).toEqual([{ name: "Example News" }]);
    expect(without.feed.author).toEqual({ name: "Example News" });
  });

  it("summarises the body's text when no summary is given (at most 300 characters)", () => {
    const long = Array.from({ length: 100 }, (_, i) => `word${i}`).join(" ");

    const result = build({
      articles: [
        article({ path: "short.md", body: "# Heading\n\nFirst *para*.\n\n![Alt text](x.png)" }),
        article({ path: "long.md", body: long }),
      ],
    });

    const byUrl = Object.fromEntries(result.feed.items.map((i) => [i.url, i.summary]));
    expect(byUrl["https://news.example.org/short/"]).toBe("Heading First para. Alt text");
    expect(byUrl["https://news.example.org/long/"]?.length).toBeLessThanOrEqual(300);
    expect(byUrl["https://news.example.org/long/"]?.endsWith("…")).toBe(true);
  });

  it("a summary cut at a sentence end ends with the period, one cut mid-sentence with an ellipsis", () => {
    // 276 characters of sentences; the next word runs past the 300-character limit.
    const sentences = `${Array.from({ length: 5 }, () => "This sentence has exactly ten words in it, you see.").join(" ")} Short tail here.`;
    const atEnd = `${sentences} Antidisestablishmentarianism is next.`;
    const midSentence = `${"word ".repeat(70)}and then it goes on.`;

    const result = build({
      articles: [article({ path: "end.md", body: atEnd }), article({ path: "mid.md", body: midSentence })],
    });

    const byUrl = Object.fromEntries(result.feed.items.map((i) => [i.url, i.summary]));
    const end = byUrl["https://news.example.org/end/"] ?? "";
    expect(end).toBe(sentences);
    const mid = byUrl["https://news.example.org/mid/"] ?? "";
    expect(mid.endsWith("word…")).toBe(true);
    expect(mid).not.toMatch(/[.,]…$/);
  });

  it("feed links come from feedsUrl", () => {
    const result = build({ config: { ...SITE, feedsUrl: "https://cdn.example.net/f/" } });

    expect(result.feed.links).toEqual({
      rss: "https://cdn.example.net/f/rss.xml",
      atom: "https://cdn.example.net/f/atom.xml",
      json: "https://cdn.example.net/f/feed.json",
    });
  });

  it("renderFeedFiles gives each format its key and content type", () => {
    const files = renderFeedFiles(build({ articles: [article({})] }).feed);

    expect(files.map(({ key, contentType }) => ({ key, contentType }))).toEqual([
      { key: "feeds/rss.xml", contentType: "application/rss+xml; charset=utf-8" },
      { key: "feeds/atom.xml", contentType: "application/atom+xml; charset=utf-8" },
      { key: "feeds/feed.json", contentType: "application/feed+json; charset=utf-8" },
    ]);
    // A tag's feed: its own folder, links and title, and the stylesheets two folders up.
    const scope = { folder: "tags/news/", label: "Tag: News" };
    const tagged = renderFeedFiles(assembleFeed(SITE, [], scope), scope);
    expect(tagged.map((f) => f.key)).toEqual([
      "feeds/tags/news/rss.xml",
      "feeds/tags/news/atom.xml",
      "feeds/tags/news/feed.json",
    ]);
    expect(tagged[0]?.body).toContain('<?xml-stylesheet type="text/xsl" href="../../rss.xsl"?>');
    expect(tagged[1]?.body).toContain('<?xml-stylesheet type="text/xsl" href="../../atom.xsl"?>');
    expect(JSON.parse(tagged[2]?.body ?? "{}")).toMatchObject({
      title: `${SITE.title} · Tag: News`,
      feed_url: new URL("tags/news/feed.json", SITE.feedsUrl).href,
    });
    expect(
      renderBrowserFiles(assembleFeed(SITE, [])).map(({ key, contentType }) => ({ key, contentType })),
    ).toEqual([
      { key: "feeds/index.html", contentType: "text/html; charset=utf-8" },
      { key: "feeds/rss.xsl", contentType: "text/xsl; charset=utf-8" },
      { key: "feeds/atom.xsl", contentType: "text/xsl; charset=utf-8" },
      { key: "feeds/feed.css", contentType: "text/css; charset=utf-8" },
    ]);
  });
});
