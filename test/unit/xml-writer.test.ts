import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { Feed } from "feed";
import { describe, expect, it } from "vitest";
import { renderAtom } from "../../functions/core/render/atom.ts";
import { renderRss } from "../../functions/core/render/rss.ts";
import { js2xml } from "../../functions/core/render/xml-writer.ts";
import { hostileModel } from "../support/hostile-model.ts";
import { mulberry32 } from "../support/random.ts";

const REPO = new URL("../..", import.meta.url).pathname;

// The real xml-js, loaded by path: the bare name "xml-js" is aliased to our writer (vitest.config.ts).
const xmlJs = createRequire(import.meta.url)("../../node_modules/xml-js/lib/js2xml.js") as (
  js: unknown,
  options: unknown,
) => string;
const FEED_OPTIONS = { compact: true, ignoreComment: true, spaces: 4 };

const TEXTS = [
  "",
  "plain",
  "a & b",
  "&amp;",
  "&amp;amp;",
  "&lt;x&gt;",
  "<b>",
  "x > y",
  "]]>",
  "a]]>b]]>c",
  '"q"',
  "é ✓ 😀",
  " \n\t ",
];
const NAMES = ["channel", "item", "title", "link", "dc:creator", "content:encoded", "x"];

function tree(next: () => number, depth: number): Record<string, unknown> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const value = (d: number): unknown => {
    const roll = next();
    if (roll < 0.08) return undefined;
    if (roll < 0.14) return null;
    if (roll < 0.2) return "";
    if (roll < 0.3) return pick(TEXTS);
    if (roll < 0.34) return Math.floor(next() * 100);
    if (roll < 0.37) return next() < 0.5;
    if (roll < 0.45 && d > 0) return [value(d - 1), value(d - 1)];
    return d > 0 ? tree(next, d - 1) : {};
  };
  const node: Record<string, unknown> = {};
  const count = Math.floor(next() * 5);
  for (let i = 0; i < count; i++) {
    const roll = next();
    if (roll < 0.15)
      node._attributes = Object.fromEntries(
        NAMES.slice(0, 1 + Math.floor(next() * 3)).map((name) => [
          name,
          pick([...TEXTS, 7, null, undefined, true]),
        ]),
      );
    else if (roll < 0.3) node._text = next() < 0.2 ? [pick(TEXTS), pick(TEXTS)] : pick([...TEXTS, 3, false]);
    else if (roll < 0.4) node._cdata = next() < 0.2 ? [pick(TEXTS), pick(TEXTS)] : pick(TEXTS);
    else if (roll < 0.45) node._comment = pick(TEXTS);
    else if (roll < 0.48) node._doctype = "html";
    else if (roll < 0.5)
      node._instruction =
        next() < 0.5
          ? { "xml-stylesheet": { _attributes: { href: pick(TEXTS) } } }
          : { pi: pick([...TEXTS, 5]) };
    else if (roll < 0.52) node._parent = value(depth);
    else node[pick(NAMES)] = value(depth);
  }
  return node;
}

describe("xml-writer: the XML writer feed runs on", () => {
  it("writes exactly what xml-js writes, on 3,000 random documents", () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const next = mulberry32(seed);
      const document = {
        ...(next() < 0.5 ? { _declaration: { _attributes: { version: "1.0", encoding: "utf-8" } } } : {}),
        ...tree(next, 4),
      };
      const expected = xmlJs(document, FEED_OPTIONS);
      if (js2xml(document, FEED_OPTIONS) !== expected) {
        expect({ seed, written: js2xml(document, FEED_OPTIONS) }).toEqual({ seed, written: expected });
      }
    }
  });

  it("renders feeds byte for byte as feed on xml-js does, hostile values included", () => {
    // This process runs feed on our writer (vitest.config.ts aliases "xml-js"); a plain Node
    // process with tsx, which has no alias, runs the same renderers on the real xml-js.
    const script = [
      'import { renderRss } from "./functions/core/render/rss.ts";',
      'import { renderAtom } from "./functions/core/render/atom.ts";',
      'import { hostileModel } from "./test/support/hostile-model.ts";',
      "process.stdout.write(JSON.stringify([renderRss(hostileModel()), renderAtom(hostileModel())]));",
    ].join("\n");
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: REPO,
      encoding: "utf8",
    });
    expect(child.stderr).toBe("");
    const theirs = JSON.parse(child.stdout) as string[];
    const ours = [renderRss(hostileModel()), renderAtom(hostileModel())];

    expect(ours).toEqual(theirs);
    expect(ours[0]).toContain("Q&amp;A &lt;live&gt;");
  });

  it("is the writer feed runs on here", () => {
    // Without the alias the differential test above would compare xml-js with itself. An element
    // without a name is where the two differ: xml-js writes "</>", this writer refuses.
    const feed = new Feed({ title: "t", id: "https://e.org/", copyright: "", updated: new Date(0) });
    feed.addItem({
      title: "i",
      link: "https://e.org/i",
      date: new Date(0),
      extensions: [{ name: "", objects: { _text: "x" } }],
    });
    expect(() => feed.rss2()).toThrow(/an element needs a name/);
  });

  it("refuses options feed does not use, rather than write something else", () => {
    expect(() => js2xml({ a: "b" }, { compact: true, ignoreComment: true, spaces: 2 })).toThrow(
      /only feed's options/,
    );
    expect(() => js2xml({ a: "b" }, { compact: false, ignoreComment: true, spaces: 4 })).toThrow(
      /only feed's options/,
    );
  });
});
