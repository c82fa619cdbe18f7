import { describe, expect, it } from "vitest";
import { safeUrl, sanitizeHtml } from "../../functions/core/html.ts";
import { renderBody, textToHtml } from "../../functions/core/render-body.ts";
import { assertWellFormedXml } from "../helpers/feed-check.ts";

const BASE = "https://news.example.org/posts/hello/";
const clean = (html: string) => sanitizeHtml(html, BASE).html;

/** The sanitiser's output is embedded in RSS and Atom as a CDATA section: that must stay well-formed. */
const inCdata = (html: string) =>
  `<?xml version="1.0" encoding="utf-8"?><content><![CDATA[${html}]]></content>`;

describe("sanitizeHtml: dangerous elements are dropped with their content", () => {
  it.each([
    ["script", "<p>a<script>alert(1)</script>b</p>", "<p>ab</p>"],
    ["style", "<p>a<style>p { color: red }</style>b</p>", "<p>ab</p>"],
    ["iframe", '<p>a<iframe src="https://evil.example/">fallback</iframe>b</p>', "<p>ab</p>"],
    [
      "form and input",
      '<form action="/steal"><input name="pw" value="x"><button>Go</button></form>after',
      "after",
    ],
    ["select and textarea", "<select><option>o</option></select><textarea>t</textarea>after", "after"],
    ["object and embed", '<object data="x.swf"><embed src="x.swf">fallback</object>after', "after"],
    ["svg", '<svg onload="alert(1)"><script>x</script><text>svg text</text></svg>after', "after"],
    ["math", "<math><mi>x</mi></math>after", "after"],
    ["noscript and template", "<noscript>n</noscript><template><p>t</p></template>after", "after"],
    [
      "head, meta, link, base",
      '<head><title>t</title><meta charset="x"><link rel="x"><base href="/">x</head>after',
      "after",
    ],
    ["self-closing iframe", '<iframe src="x"/>after', "after"],
  ])("%s", (_name, input, expected) => {
    expect(clean(input)).toBe(expected);
  });
});

describe("sanitizeHtml: attributes", () => {
  it("drops event handlers and style attributes, keeps allowed ones", () => {
    const input =
      '<p onclick="steal()" style="background:url(javascript:x)" title="T" lang="en" dir="ltr" class="c" id="i">x</p>' +
      '<img src="a.png" onerror="alert(1)" alt="A" width="10" height="20" style="x">';

    expect(clean(input)).toBe(
      '<p title="T" lang="en" dir="ltr">x</p>' +
        '<img src="https://news.example.org/posts/hello/a.png" alt="A" width="10" height="20">',
    );
  });

  it("keeps table, list and media attributes that are safe", () => {
    const input =
      '<table><tr><th scope="col" onclick="x">h</th><td colspan="2" rowspan="1">c</td></tr></table>' +
      '<ol start="3" reversed type="a"><li value="4">x</li></ol>' +
      '<video src="v.mp4" poster="p.jpg" controls autoplay></video>';

    expect(clean(input)).toBe(
      '<table><tr><th scope="col">h</th><td colspan="2" rowspan="1">c</td></tr></table>' +
        '<ol start="3" reversed="" type="a"><li value="4">x</li></ol>' +
        '<video src="https://news.example.org/posts/hello/v.mp4" controls="" poster="https://news.example.org/posts/hello/p.jpg"></video>',
    );
  });

  it("escapes quotes, ampersands and angle brackets inside attribute values", () => {
    expect(clean(`<a href="https://x.example/?a=1&b=2" title='say "hi" <now>'>q</a>`)).toBe(
      '<a title="say &quot;hi&quot; &lt;now&gt;" href="https://x.example/?a=1&amp;b=2">q</a>',
    );
  });

  it("drops an <img> that has no usable src", () => {
    expect(clean('<img alt="no src"><img src="javascript:alert(1)" alt="bad">')).toBe("");
  });
});

describe("sanitizeHtml: URLs", () => {
  it.each([
    ["javascript:", "javascript:alert(1)"],
    ["mixed case with a leading space", " JaVaScRiPt:alert(1)"],
    ["tab inside the scheme", "java\tscript:alert(1)"],
    ["newline inside the scheme", "java\nscript:alert(1)"],
    ["entity-encoded letter", "&#106;avascript:alert(1)"],
    ["hex entities including the colon", "&#x6A;avascript&#x3A;alert(1)"],
    ["encoded newline", "jav&#x0A;ascript:alert(1)"],
    ["leading control character", "\u0001javascript:alert(1)"],
    ["data:", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="],
    ["vbscript:", "vbscript:msgbox(1)"],
    ["VBScript mixed case", "VbScRiPt:msgbox(1)"],
    ["file:", "file:///etc/passwd"],
  ])("drops %s links", (_name, href) => {
    const html = clean(`<a href="${href}">x</a><img src="${href}"><video poster="${href}"></video>`);

    expect(html).toBe("<a>x</a><video></video>");
  });

  it("makes relative href and src absolute against the base", () => {
    const input =
      '<a href="../archive/">a</a><a href="/about">b</a><a href="#top">c</a><a href="?page=2">d</a>' +
      '<img src="img/x.png"><blockquote cite="quote.html">q</blockquote>';

    expect(clean(input)).toBe(
      '<a href="https://news.example.org/posts/archive/">a</a>' +
        '<a href="https://news.example.org/about">b</a>' +
        '<a href="https://news.example.org/posts/hello/#top">c</a>' +
        '<a href="https://news.example.org/posts/hello/?page=2">d</a>' +
        '<img src="https://news.example.org/posts/hello/img/x.png">' +
        '<blockquote cite="https://news.example.org/posts/hello/quote.html">q</blockquote>',
    );
  });

  it("allows mailto: on links only", () => {
    expect(clean('<a href="mailto:ed@example.org">m</a><img src="mailto:ed@example.org">')).toBe(
      '<a href="mailto:ed@example.org">m</a>',
    );
  });

  it("safeUrl resolves protocol-relative URLs with the base's scheme and keeps http(s)", () => {
    expect(safeUrl("//cdn.example.org/x.png", BASE)).toBe("https://cdn.example.org/x.png");
    expect(safeUrl("http://plain.example.org/", BASE)).toBe("http://plain.example.org/");
    expect(safeUrl("   ", BASE)).toBeUndefined();
    expect(safeUrl("https://[bad", BASE)).toBeUndefined();
  });
});

describe("sanitizeHtml: text and XML safety", () => {
  it("keeps safe markup as it is", () => {
    const input =
      '<h2>Sub</h2><p>A <strong>bold</strong>, <em>em</em>, <code>x &lt; y</code> and <abbr title="HyperText">HTML</abbr>.</p>' +
      "<ul><li>one</li><li>two</li></ul><blockquote><p>q</p></blockquote><pre><code>a\n  b</code></pre><hr><br>" +
      "<figure><figcaption>cap</figcaption></figure><details><summary>s</summary>d</details>";

    expect(clean(input)).toBe(input);
  });

  it("unwraps unknown elements but keeps their text", () => {
    expect(clean("<div><custom-el x=1>inside</custom-el><font color=red>old</font></div>")).toBe(
      "<div>insideold</div>",
    );
  });

  it("never outputs ']]>' even when the text or attributes contain it", () => {
    const { html, text } = sanitizeHtml('a ]]> b <p title="]]>">c ]]]]> d</p><![CDATA[ e ]]>', BASE);

    expect(html).not.toContain("]]>");
    expect(html).toBe('a ]]&gt; b <p title="]]&gt;">c ]]]]&gt; d</p>');
    expect(() => assertWellFormedXml(inCdata(html))).not.toThrow();
    expect(text).toContain("a ]]> b");
  });

  it("turns entities XML does not define into characters", () => {
    const { html } = sanitizeHtml(
      "<p>&nbsp;caf&eacute;&hellip; &copy; &mdash; &#x1F600; &amp; &lt;</p>",
      BASE,
    );

    expect(html).toBe("<p>\u00A0café… © — 😀 &amp; &lt;</p>");
    expect(() => assertWellFormedXml(inCdata(html))).not.toThrow();
  });

  it("removes XML-forbidden control characters from text, attributes and character references", () => {
    const input = '<p title="t\u0001i\u0008t">a\u0000b\u000Bc\u001Fd\uFFFEe&#1;f&#x1F;g</p>';

    const { html } = sanitizeHtml(input, BASE);

    expect(html).toBe('<p title="tit">abcdefg</p>');
  });

  it("removes control characters from image alt text used for the summary", () => {
    const { html, text } = sanitizeHtml('<img src="a.png" alt="x\u0001y\u001Fz">', BASE);

    expect(html).toContain('alt="xyz"');
    expect(text).toBe("xyz");
  });

  it("closes unclosed tags in order and drops stray closing tags", () => {
    expect(clean("<p><b>bold <i>both")).toBe("<p><b>bold <i>both</i></b></p>");
    expect(clean("<ul><li>one<li>two</ul>")).toBe("<ul><li>one</li><li>two</li></ul>");
    expect(clean("<p>a</p></div></span><p>b")).toBe("<p>a</p><p>b</p>");
    expect(clean("<em>unclosed<script>x")).toBe("<em>unclosed</em>");
  });

  it("lower-cases tags and attribute names", () => {
    expect(clean('<A HREF="X.html">up</A>')).toBe(
      '<a href="https://news.example.org/posts/hello/X.html">up</a>',
    );
  });

  it("produces well-formed XML for a hostile mix", () => {
    const hostile =
      '<p>Q&A <b>unclosed <i>x</b> ]]> &nbsp; &bogus; <3 & "q"</p><img src=x.png alt="<>&">' +
      "<table><td>cell<tr>row</table>\u0001<!-- comment --><![CDATA[x]]><br/><hr>";

    const { html } = sanitizeHtml(hostile, BASE);

    expect(() => assertWellFormedXml(inCdata(html))).not.toThrow();
    expect(html).not.toContain("]]>");
  });

  it("gives plain text for summaries: block boundaries become spaces, alt text is included", () => {
    const { text } = sanitizeHtml(
      '<h1>Title</h1><p>One<br>two</p><img src="a.png" alt="Pic"><li>x</li>',
      BASE,
    );

    expect(text.replace(/\s+/g, " ").trim()).toBe("Title One two Pic x");
  });
});

describe("renderBody", () => {
  it("renders Markdown, sanitises raw HTML and resolves links against the article URL", () => {
    const body = [
      "Hello **world** & [archive](../archive/).",
      "",
      '<script>alert("x")</script>',
      "",
      '![Pic](pic.jpg "Title")',
      "",
      '<a href="javascript:alert(1)" onclick="x">bad</a>',
      "",
      "```",
      "code ]]> here",
      "```",
    ].join("\n");

    const { html } = renderBody({ format: "markdown", body }, BASE);

    expect(html).toContain(
      '<p>Hello <strong>world</strong> &amp; <a href="https://news.example.org/posts/archive/">archive</a>.</p>',
    );
    expect(html).toContain(
      '<img title="Title" src="https://news.example.org/posts/hello/pic.jpg" alt="Pic">',
    );
    expect(html).toContain("<a>bad</a>");
    expect(html).toContain("<pre><code>code ]]&gt; here\n</code></pre>");
    expect(html).not.toMatch(/script|onclick|javascript/);
  });

  it("passes HTML bodies through the sanitiser", () => {
    expect(renderBody({ format: "html", body: '<p onclick="x">hi<script>1</script></p>' }, BASE).html).toBe(
      "<p>hi</p>",
    );
  });

  it("textToHtml escapes text and turns blank-line blocks into paragraphs", () => {
    expect(textToHtml("a < b & c\nnext\n\n\n  \nsecond\n")).toBe(
      "<p>a &lt; b &amp; c<br>\nnext</p>\n<p>second</p>",
    );
    expect(textToHtml("\n\n")).toBe("");
  });
});
