/**
 * Fan-out class (one article naming hundreds or thousands of authors, tags or files, each of
 * which can become a feed of its own) and size class (ordinary articles from 1 KB to 1 MiB in
 * each format, and files just over the limit).
 */
import {
  type AdversarialCase,
  BODY,
  type Format,
  family,
  fill,
  front,
  html,
  json,
  MIB,
  md,
  NEAR_MIB,
  n,
  paragraph,
  personName,
  q,
  type Rng,
  sentence,
  single,
  words,
} from "./adversarial-gen.ts";

const list = (items: readonly string[]) => `[${items.join(", ")}]`;
const times = <T>(count: number, make: (index: number) => T): T[] =>
  Array.from({ length: count }, (_, i) => make(i));
const tagName = (rng: Rng, i: number) => `${words(rng, 2)} ${i}`;

function authorCases(): AdversarialCase[] {
  const counts = [100, 500, 1_000, 2_000, 5_000];
  return [
    ...family(
      "fan-out",
      "md-authors",
      "md",
      counts,
      (k) => `Markdown naming ${n(k)} distinct authors (a feed each)`,
      (k, rng) => md(front("Many authors", `authors: ${list(times(k, (i) => q(personName(rng, i))))}`), BODY),
    ),
    ...family(
      "fan-out",
      "json-authors",
      "json",
      counts,
      (k) => `JSON naming ${n(k)} authors as {name, email, url}`,
      (k, rng) =>
        json("Many authors", {
          content_text: BODY,
          authors: times(k, (i) => ({
            name: personName(rng, i),
            email: `a${i}@example.org`,
            url: `https://example.org/people/${i}`,
          })),
        }),
    ),
    single("fan-out", "md-author-strings", "md", 'Markdown naming 5,000 authors as "Name <email>"', (rng) =>
      md(
        front(
          "Authors with emails",
          `authors: ${list(times(5_000, (i) => q(`${personName(rng, i)} <p${i}@example.org>`)))}`,
        ),
        BODY,
      ),
    ),
    single(
      "fan-out",
      "toml-authors",
      "md",
      "TOML front matter with 2,000 [[authors]] tables",
      (rng) =>
        `+++\ntitle = "TOML authors"\ndate = "2024-03-01"\n${times(2_000, (i) => `[[authors]]\nname = ${q(personName(rng, i))}`).join("\n")}\n+++\n${BODY}\n`,
    ),
  ];
}

/** People with long names, emails or urls. */
function longPeopleCases(): AdversarialCase[] {
  return [
    single("fan-out", "long-author-names", "md", "100 authors with 1,990-character names", (rng) =>
      md(
        front(
          "Long names",
          `authors: ${list(times(100, (i) => q(`${i} ${words(rng, 400)}`.slice(0, 1_990))))}`,
        ),
        BODY,
      ),
    ),
    single("fan-out", "author-name-900k", "md", "one author whose name is 900,000 characters", (rng) =>
      md(front("Huge name", `author: ${q(fill(rng, 900_000, (r) => words(r, 50), " "))}`), BODY),
    ),
    single("fan-out", "author-email-100k", "json", "one author with a 100,000-character email", () =>
      json("Huge email", {
        content_text: BODY,
        authors: [{ name: "A", email: `${"a".repeat(100_000)}@example.org` }],
      }),
    ),
    single("fan-out", "author-url-500k", "json", "one author with a 500,000-character url", () =>
      json("Huge url", {
        content_text: BODY,
        authors: [{ name: "A", url: `https://example.org/${"a".repeat(500_000)}` }],
      }),
    ),
    single("fan-out", "authors-long-urls", "json", "1,000 authors, each with a 500-character url", (rng) =>
      json("Long urls", {
        content_text: BODY,
        authors: times(1_000, (i) => ({
          name: personName(rng, i),
          url: `https://example.org/${i}/${"p".repeat(500)}`,
        })),
      }),
    ),
  ];
}

function tagCases(): AdversarialCase[] {
  const tags = (rng: Rng, k: number) => times(k, (i) => q(tagName(rng, i)));
  return [
    ...family(
      "fan-out",
      "md-tags",
      "md",
      [100, 101, 1_000],
      (k) => `Markdown with ${n(k)} distinct tags`,
      (k, rng) => md(front("Many tags", `tags: ${list(tags(rng, k))}`), BODY),
    ),
    single("fan-out", "md-categories", "md", "Markdown with 1,000 categories", (rng) =>
      md(front("Many categories", `categories: ${list(tags(rng, 1_000))}`), BODY),
    ),
    single(
      "fan-out",
      "md-tags-three-keys",
      "md",
      "100 tags, 100 categories and 100 keywords, all distinct",
      (rng) =>
        md(
          front(
            "Three lists",
            `tags: ${list(tags(rng, 100))}`,
            `categories: ${list(tags(rng, 100))}`,
            `keywords: ${list(tags(rng, 100))}`,
          ),
          BODY,
        ),
    ),
    single("fan-out", "md-tags-text", "md", "tags as one comma-separated text of 1,000 names", (rng) =>
      md(front("Tag text", `tags: ${q(times(1_000, (i) => tagName(rng, i)).join(", "))}`), BODY),
    ),
    single("fan-out", "json-tags", "json", "JSON with 1,000 tags", (rng) =>
      json("JSON tags", { content_text: BODY, tags: times(1_000, (i) => tagName(rng, i)) }),
    ),
    single("fan-out", "long-tags", "md", "100 tags of 200 characters each", (rng) =>
      md(
        front("Long tags", `tags: ${list(times(100, (i) => q(`${i} ${words(rng, 60)}`.slice(0, 200))))}`),
        BODY,
      ),
    ),
    single(
      "fan-out",
      "alike-tags",
      "md",
      "100 tags that differ only in case and punctuation (one slug)",
      () => md(front("Alike tags", `tags: ${list(times(100, (i) => q(`News${"!".repeat(i)}`)))}`), BODY),
    ),
    ...family(
      "fan-out",
      "html-keywords",
      "html",
      [100, 1_000, 10_000],
      (k) => `HTML <meta name="keywords"> with ${n(k)} distinct keywords`,
      (k, rng) =>
        html(
          "Keywords",
          `<p>${BODY}</p>`,
          `<meta name="keywords" content="${times(k, (i) => tagName(rng, i)).join(", ")}">`,
        ),
    ),
    single("fan-out", "tags-and-authors", "md", "100 tags and 1,000 authors on one article", (rng) =>
      md(
        front(
          "Everything",
          `tags: ${list(tags(rng, 100))}`,
          `authors: ${list(times(1_000, (i) => q(personName(rng, i))))}`,
        ),
        BODY,
      ),
    ),
  ];
}

function enclosureCases(): AdversarialCase[] {
  const urls = (k: number) => times(k, (i) => q(`https://cdn.example.org/audio/episode-${i}.mp3`));
  return [
    ...family(
      "fan-out",
      "md-enclosures",
      "md",
      [20, 21, 100, 1_000],
      (k) => `Markdown with ${n(k)} enclosures`,
      (k) => md(front("Files", `enclosures: ${list(urls(k))}`), BODY),
    ),
    ...family(
      "fan-out",
      "json-attachments",
      "json",
      [20, 1_000],
      (k) => `JSON with ${n(k)} attachments {url, mime_type, size_in_bytes}`,
      (k) =>
        json("Attachments", {
          content_text: BODY,
          attachments: times(k, (i) => ({
            url: `https://cdn.example.org/${i}.mp3`,
            mime_type: "audio/mpeg",
            size_in_bytes: i,
          })),
        }),
    ),
    single(
      "fan-out",
      "relative-enclosures",
      "md",
      "20 enclosures relative to the article (missing media files)",
      () => md(front("Relative", `enclosures: ${list(times(20, (i) => q(`media/${i}.mp3`)))}`), BODY),
    ),
    single(
      "fan-out",
      "every-enclosure-key",
      "md",
      "enclosure, enclosures, audio, video and attachments, 20 each",
      () =>
        md(
          front(
            "All keys",
            ...["enclosure", "enclosures", "audio", "video", "attachments"].map(
              (key) => `${key}: ${list(urls(20))}`,
            ),
          ),
          BODY,
        ),
    ),
    single(
      "fan-out",
      "everything-at-once",
      "md",
      "100 tags, 20 enclosures, 1,000 authors and a 700 KB body",
      (rng) =>
        md(
          front(
            "All at once",
            `tags: ${list(times(100, (i) => q(tagName(rng, i))))}`,
            `enclosures: ${list(urls(20))}`,
            `authors: ${list(times(1_000, (i) => q(personName(rng, i))))}`,
          ),
          fill(rng, 700_000, paragraph),
        ),
    ),
  ];
}

/** Ordinary-looking bodies of one format, about `bytes` long in all. */
function ordinary(ext: Format, bytes: number, rng: Rng): string {
  const title = `An ordinary ${ext} article of ${n(bytes)} bytes`;
  const markdownBlock = (r: Rng, i: number) =>
    i % 7 === 3
      ? `## ${sentence(r)}`
      : i % 11 === 5
        ? `- ${sentence(r)}\n- ${sentence(r)}\n- [a link](https://example.org/${i})`
        : `${paragraph(r)} *${words(r, 3)}* and **${words(r, 2)}**.`;
  const htmlBlock = (r: Rng, i: number) =>
    i % 7 === 3 ? `<h2>${sentence(r)}</h2>` : `<p>${paragraph(r)} <a href='/p/${i}'>${words(r, 2)}</a></p>`;
  switch (ext) {
    case "md": {
      const head = md(front(title, "tags: [korea, economy]", 'author: "Ann Lee <ann@example.org>"'), "");
      return head + fill(rng, bytes - head.length - 1, markdownBlock);
    }
    case "txt":
      return `${title}\n\n${fill(rng, bytes - title.length - 2, paragraph)}`;
    case "html": {
      const shell = html(title, "", '<meta name="keywords" content="korea, economy">');
      return html(
        title,
        fill(rng, bytes - shell.length, htmlBlock, "\n"),
        '<meta name="keywords" content="korea, economy">',
      );
    }
    case "json": {
      const shell = json(title, { tags: ["korea"], content_html: "" });
      return json(title, {
        tags: ["korea"],
        content_html: fill(rng, bytes - shell.length - 64, htmlBlock, ""),
      });
    }
  }
}

function sizeCases(): AdversarialCase[] {
  const out: AdversarialCase[] = [];
  for (const ext of ["md", "txt", "html", "json"] as const) {
    out.push(
      ...family(
        "size",
        `ordinary-${ext}`,
        ext,
        [1_024, 64 * 1_024, 512 * 1_024, NEAR_MIB],
        (k) => `an ordinary ${ext} article of ${n(k)} bytes`,
        (k, rng) => ordinary(ext, k, rng),
      ),
      {
        ...single(
          "size",
          `over-1mib-${ext}`,
          ext,
          `an ordinary ${ext} article just over 1 MiB (1,048,577+ bytes)`,
          (rng) => {
            const text = ordinary(ext, NEAR_MIB, rng);
            // Padding where each format allows it: after the Markdown or text body, before an HTML or JSON file's end.
            const pad = " ".repeat(MIB + 1 - Buffer.byteLength(text));
            return ext === "json"
              ? `${text}${pad}`
              : ext === "html"
                ? text.replace("</body>", `${pad}</body>`)
                : text + pad;
          },
        ),
        over: true,
      },
    );
  }
  return out;
}

export function fanOutCases(): AdversarialCase[] {
  return [...authorCases(), ...longPeopleCases(), ...tagCases(), ...enclosureCases()];
}

export { sizeCases };
