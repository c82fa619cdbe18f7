import type { FeedModel } from "../../functions/core/model.ts";

/**
 * A feed whose every text field carries what XML writers get wrong: "&", "&amp;", "<", ">",
 * "]]>", quotes, control-free Unicode, empty values, enclosures and paging links.
 */
export function hostileModel(): FeedModel {
  const hostile = 'Q&A <live> &amp; ]]> "quoted" é ✓ 😀';
  const links = (base: string) => ({
    rss: `${base}rss.xml?a=1&b=2`,
    atom: `${base}atom.xml`,
    json: `${base}feed.json`,
  });
  return {
    id: "https://example.org/?a=1&b=2",
    title: hostile,
    description: `${hostile} description`,
    homeUrl: "https://example.org/?a=1&b=2",
    language: "en",
    author: { name: "Ann & <Bob>", email: "ann@example.org", url: "https://example.org/ann?x=1&y=2" },
    updated: new Date("2024-01-03T00:00:00Z"),
    links: links("https://cdn.example.org/feeds/"),
    hub: "https://hub.example.org/?x=1&y=2",
    paging: { prevArchive: links("https://cdn.example.org/feeds/archive/2023-12/") },
    items: [0, 1, 2].map((i) => ({
      id: `urn:x:${i}&amp;<${i}>`,
      url: `https://example.org/${i}/?q="x"&y=1`,
      title: `${hostile} ${i}`,
      published: new Date(Date.UTC(2024, 0, i + 1)),
      updated: new Date(Date.UTC(2024, 0, i + 1, 12)),
      contentHtml: `<p>Body ${i} &amp; &lt;tag&gt; ]]&gt; <a href="https://example.org/?a=1&amp;b=2">link</a></p>`,
      summary: i === 1 ? "" : `${hostile} summary`,
      tags: i === 2 ? [] : ["a&b", 'c"d', "ü"],
      authors:
        i === 0 ? [{ name: "Ann & Bob" }, { name: "]]>" }] : [{ name: "Solo", email: "s@example.org" }],
      ...(i === 0
        ? {
            image: { url: "https://example.org/i.png?a=1&b=2", type: "image/png", length: 10 },
            enclosures: [{ url: "https://example.org/a.mp3", type: "audio/mpeg", length: 0 }],
          }
        : {}),
    })),
  };
}
