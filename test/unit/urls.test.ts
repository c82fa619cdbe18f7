import { describe, expect, it } from "vitest";
import { articleId, articleUrl, nameUuid } from "../../functions/core/urls.ts";
import { parseText, SITE } from "./support.ts";

const DATE = new Date("2024-03-01T09:00:00Z");
const SUBDIR = { ...SITE, url: "https://example.org/blog/" };

describe("articleId", () => {
  it("is the same for the same path, whatever the content", () => {
    const before = parseText("posts/hello.md", "---\ntitle: Hello\n---\nFirst draft");
    const after = parseText("posts/hello.md", "---\ntitle: Hello, edited\ntags: [x]\n---\nRewritten");

    expect(before.hash).not.toBe(after.hash);
    expect(articleId(after, SITE)).toBe(articleId(before, SITE));
  });

  it("is a urn:uuid (version 5 layout) that differs by path and by site", () => {
    const id = articleId({ path: "posts/hello.md" }, SITE);

    expect(id).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(articleId({ path: "posts/other.md" }, SITE)).not.toBe(id);
    expect(articleId({ path: "posts/hello.md" }, { url: "https://elsewhere.example/" })).not.toBe(id);
  });

  it("uses a front-matter id that is a URI as it is", () => {
    expect(articleId({ path: "a.md", id: "tag:news.example.org,2026:road-trip" }, SITE)).toBe(
      "tag:news.example.org,2026:road-trip",
    );
    expect(articleId({ path: "a.md", id: "urn:isbn:0451450523" }, SITE)).toBe("urn:isbn:0451450523");
    expect(articleId({ path: "a.md", id: "https://news.example.org/p/1" }, SITE)).toBe(
      "https://news.example.org/p/1",
    );
  });

  it("keeps a URI id when the file is renamed", () => {
    const id = "tag:news.example.org,2026:x";

    expect(articleId({ path: "old-name.md", id }, SITE)).toBe(articleId({ path: "new/name.md", id }, SITE));
  });

  it("hashes an id that is not a URI, stably and independently of the path", () => {
    const hashed = articleId({ path: "a.md", id: "post 42" }, SITE);

    expect(hashed).toMatch(/^urn:uuid:/);
    expect(articleId({ path: "renamed.md", id: "post 42" }, SITE)).toBe(hashed);
    expect(articleId({ path: "a.md", id: "post 43" }, SITE)).not.toBe(hashed);
    expect(articleId({ path: "a.md", id: "42" }, SITE)).toMatch(/^urn:uuid:/);
    expect(articleId({ path: "a.md", id: "http://" }, SITE)).toMatch(/^urn:uuid:/);
    expect(articleId({ path: "a.md", id: "<tag:x>" }, SITE)).toMatch(/^urn:uuid:/);
  });

  it("a hashed id never equals the path-derived id of the same text", () => {
    expect(articleId({ path: "a.md", id: "a.md" }, SITE)).not.toBe(articleId({ path: "a.md" }, SITE));
  });

  it("nameUuid is deterministic", () => {
    expect(nameUuid("x")).toBe(nameUuid("x"));
    expect(nameUuid("x")).not.toBe(nameUuid("y"));
  });
});

describe("articleUrl: permalink tokens", () => {
  it.each([
    ["/:path/", "posts/hello.md", "https://news.example.org/posts/hello/"],
    ["/:path/", "posts/2024-03-01-hello.md", "https://news.example.org/posts/hello/"],
    ["/:path/", "posts/road-trip/index.md", "https://news.example.org/posts/road-trip/"],
    ["/:path/", "index.md", "https://news.example.org/index/"],
    ["/:path", "notes/a.txt", "https://news.example.org/notes/a"],
    ["/:slug/", "posts/deep/hello.md", "https://news.example.org/hello/"],
    ["/:section/:slug/", "posts/deep/hello.md", "https://news.example.org/posts/hello/"],
    ["/:section/:slug/", "hello.md", "https://news.example.org/hello/"],
    ["/:year/:month/:day/:slug/", "posts/hello.md", "https://news.example.org/2024/03/01/hello/"],
    ["/:year/:slug.html", "posts/hello.md", "https://news.example.org/2024/hello.html"],
  ])("%s for %s", (permalink, path, expected) => {
    expect(articleUrl({ path }, DATE, { ...SITE, permalink })).toBe(expected);
  });

  it("uses the publication date in UTC", () => {
    const lateEvening = new Date("2024-12-31T23:30:00-05:00");

    expect(
      articleUrl({ path: "a.md" }, lateEvening, { ...SITE, permalink: "/:year/:month/:day/:slug/" }),
    ).toBe("https://news.example.org/2025/01/01/a/");
  });

  it("prefers the front-matter slug and url", () => {
    expect(articleUrl({ path: "posts/hello.md", slug: "greeting" }, DATE, SITE)).toBe(
      "https://news.example.org/posts/greeting/",
    );
    expect(articleUrl({ path: "posts/hello.md", url: "/news/hi/" }, DATE, SITE)).toBe(
      "https://news.example.org/news/hi/",
    );
    expect(articleUrl({ path: "posts/hello.md", url: "https://other.example/x" }, DATE, SITE)).toBe(
      "https://other.example/x",
    );
  });

  it("percent-encodes each segment", () => {
    expect(articleUrl({ path: "posts/héllo wörld?#.md" }, DATE, SITE)).toBe(
      "https://news.example.org/posts/h%C3%A9llo%20w%C3%B6rld%3F%23/",
    );
    expect(articleUrl({ path: "a.md", url: "/100%/x y/" }, DATE, SITE)).toBe(
      "https://news.example.org/100%25/x%20y/",
    );
  });

  it("works under a site URL with a path", () => {
    expect(articleUrl({ path: "posts/hello.md" }, DATE, SUBDIR)).toBe(
      "https://example.org/blog/posts/hello/",
    );
    expect(articleUrl({ path: "posts/hello.md", url: "/news/hi/" }, DATE, SUBDIR)).toBe(
      "https://example.org/blog/news/hi/",
    );
  });
});

describe("articleUrl: nothing escapes the site URL", () => {
  const hostileUrls = [
    "../x",
    "/../../x",
    "../../../../etc/passwd",
    "%2e%2e/x",
    "%2E%2E/%2e%2e/x",
    "%2e%2e/%2e%2e/evil.example/x",
    "%2e/%2e/%2E%2E/evil.example",
    ".%2e/x",
    "/%2e%2e%2f%2e%2e%2fx",
    "..%2F..%2Fx",
    "..\\..\\x",
    "//evil.example/x",
    "///evil.example/x",
    "/%2F/evil.example/",
    "%2F%2Fevil.example/x",
    "/./x",
    "./",
    "%00/x",
    "a/../../../b",
  ];
  const hostileSlugs = [
    "..",
    "%2e%2e",
    "%2E%2e",
    ".",
    "%2F",
    "a/../../b",
    "..%2f..",
    "%2f%2fevil.example",
    "\\..\\",
  ];

  for (const site of [SITE, SUBDIR]) {
    for (const permalink of ["/:path/", "/:slug/", "/:section/:year/:slug"]) {
      const config = { ...site, permalink };

      it.each(hostileUrls)(`url %j stays under ${site.url} (${permalink})`, (url) => {
        const result = articleUrl({ path: "posts/a.md", url }, DATE, config);

        expect(result.startsWith(site.url)).toBe(true);
        expect(new URL(result).origin).toBe(new URL(site.url).origin);
      });

      it.each(hostileSlugs)(`slug %j stays under ${site.url} (${permalink})`, (slug) => {
        for (const path of ["a.md", "posts/a.md", `${slug}.md`, `posts/${slug}/index.md`]) {
          const result = articleUrl({ path, slug }, DATE, config);

          expect(result.startsWith(site.url)).toBe(true);
          expect(articleUrl({ path }, DATE, config).startsWith(site.url)).toBe(true);
        }
      });
    }
  }

  it("an encoded traversal in front matter is not refused but cannot leave the site", () => {
    const article = parseText("posts/a.md", "---\ntitle: T\nurl: '%2e%2e/%2e%2e/evil.example/x'\n---\n");

    expect(articleUrl(article, DATE, SUBDIR)).toBe("https://example.org/blog/evil.example/x");
  });
});
