import { describe, expect, it } from "vitest";
import { negotiatedType, parseAccept, variesByAccept } from "../../functions/core/negotiate.ts";

const RSS = "application/rss+xml; charset=utf-8";
const ATOM = "application/atom+xml; charset=utf-8";
const XML = "application/xml; charset=utf-8";

describe("negotiatedType (RFC 9110 q-values)", () => {
  it("gives browsers the generic XML type and feed readers the feed type", () => {
    // Firefox, Chrome and Safari all send text/html first, with */* at a lower weight.
    const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    const reader = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8";

    expect(negotiatedType(RSS, browser)).toBe(XML);
    expect(negotiatedType(ATOM, browser)).toBe(XML);
    expect(negotiatedType(RSS, reader)).toBe(RSS);
    expect(negotiatedType(ATOM, reader)).toBe(ATOM);
    expect(negotiatedType(RSS, undefined)).toBe(RSS);
    expect(negotiatedType(RSS, "")).toBe(RSS);
    expect(negotiatedType(RSS, "*/*")).toBe(RSS);
    expect(negotiatedType(RSS, "TEXT/HTML")).toBe(XML);
  });

  it("takes q=0 as not acceptable", () => {
    expect(negotiatedType(RSS, "text/html;q=0")).toBe(RSS);
    expect(negotiatedType(RSS, "text/html;q=0, */*")).toBe(RSS);
    expect(negotiatedType(RSS, "text/html; q=0.000, */*;q=0.5")).toBe(RSS);
    expect(negotiatedType(RSS, "text/html, application/rss+xml;q=0")).toBe(XML);
    // Nothing acceptable at all: the feed keeps its type (the server does not answer 406).
    expect(negotiatedType(RSS, "text/html;q=0, application/rss+xml;q=0")).toBe(RSS);
  });

  it("lets the higher q win, whichever is listed first", () => {
    expect(negotiatedType(RSS, "text/html;q=0.5, application/rss+xml")).toBe(RSS);
    expect(negotiatedType(RSS, "application/rss+xml;q=0.5, text/html")).toBe(XML);
    expect(negotiatedType(RSS, "text/html;q=0.9, */*;q=0.1")).toBe(XML);
    expect(negotiatedType(ATOM, "application/rss+xml, text/html;q=0.4, */*;q=0.5")).toBe(ATOM);
  });

  it("takes a type's q from the most specific range that matches it", () => {
    // text/html is refused even though text/* and */* accept it.
    expect(negotiatedType(RSS, "text/*, */*, text/html;q=0")).toBe(RSS);
    expect(negotiatedType(RSS, "text/*;q=0.9, */*;q=0.1")).toBe(XML);
    expect(negotiatedType(RSS, "application/*;q=0.2, text/html;q=0.1")).toBe(RSS);
  });

  it("breaks ties by specificity, then by order", () => {
    expect(negotiatedType(RSS, "text/html, */*")).toBe(XML);
    expect(negotiatedType(RSS, "text/*, application/rss+xml")).toBe(RSS);
    expect(negotiatedType(RSS, "text/html, application/rss+xml")).toBe(XML);
    expect(negotiatedType(RSS, "application/rss+xml, text/html")).toBe(RSS);
  });

  it("leaves other types alone and says which types vary", () => {
    for (const type of ["application/feed+json; charset=utf-8", "text/html; charset=utf-8", "text/xsl"]) {
      expect(negotiatedType(type, "text/html")).toBe(type);
      expect(variesByAccept(type)).toBe(false);
    }
    expect(variesByAccept(RSS)).toBe(true);
    expect(variesByAccept(ATOM)).toBe(true);
  });

  it("drops malformed ranges instead of guessing (and never throws)", () => {
    expect(negotiatedType(RSS, "text/html;q=2")).toBe(RSS);
    expect(negotiatedType(RSS, "text/html;q=abc")).toBe(RSS);
    expect(negotiatedType(RSS, "text/html;q=0.1234")).toBe(RSS);
    expect(negotiatedType(RSS, "html, text, */html")).toBe(RSS);
    expect(negotiatedType(RSS, ",,;;q=1, text/html;Q=1")).toBe(XML);
    expect(parseAccept("text/html ; q=0.5 ; level=1, a/b/c, */*")).toEqual([
      { type: "text", subtype: "html", q: 0.5, index: 0 },
      { type: "*", subtype: "*", q: 1, index: 2 },
    ]);
  });
});
