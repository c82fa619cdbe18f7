import { describe, expect, it } from "vitest";
import {
  collapseWhitespace,
  decodeUtf8,
  escapeHtml,
  lineAt,
  normalizeNewlines,
  stripForbiddenChars,
  truncateWords,
} from "../../functions/core/text.ts";

describe("stripForbiddenChars", () => {
  it("removes the characters XML 1.0 forbids and keeps tab, newline, CR and astral characters", () => {
    const input = "a\u0000b\u0008c\u000Bd\u000Ce\u001Ff\u007Fg\uFFFEh\uFFFFi\t\n\r😀𝄞";

    expect(stripForbiddenChars(input)).toBe("abcdefghi\t\n\r😀𝄞");
  });

  it("removes lone surrogates but keeps pairs", () => {
    expect(stripForbiddenChars("x\uD800y\uDC00z\uD83D\uDE00")).toBe("xyz😀");
  });
});

describe("decodeUtf8", () => {
  it("drops a BOM and refuses invalid UTF-8", () => {
    expect(decodeUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69]))).toBe("hi");
    expect(decodeUtf8(new Uint8Array([0x68, 0xc3, 0x28]))).toBeUndefined();
    expect(decodeUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBeUndefined();
  });
});

describe("small text helpers", () => {
  it("normalizeNewlines turns CRLF and lone CR into LF", () => {
    expect(normalizeNewlines("a\r\nb\rc\nd")).toBe("a\nb\nc\nd");
  });

  it("escapeHtml escapes the characters that matter in text and double-quoted attributes", () => {
    expect(escapeHtml(`<a href="x">&amp;'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;amp;'&lt;/a&gt;");
  });

  it("collapseWhitespace folds runs, including no-break spaces, and trims", () => {
    expect(collapseWhitespace("  a \u00A0\t\n b  ")).toBe("a b");
  });

  it("truncateWords cuts at a word boundary and adds an ellipsis", () => {
    expect(truncateWords("short", 10)).toBe("short");
    expect(truncateWords("alpha beta gamma delta", 15)).toBe("alpha beta…");
    // A boundary in the first 60% would waste too much: cut inside the word instead.
    expect(truncateWords("a bcdefghijklmnopqrstuvwxyz", 10)).toBe("a bcdefgh…");
    expect(truncateWords("alpha beta gamma delta", 15).length).toBeLessThanOrEqual(15);
  });

  it("truncateWords ends a cut at a sentence end with its punctuation only, never `.…`", () => {
    expect(truncateWords("One two three. Four five six seven", 20)).toBe("One two three.");
    expect(truncateWords("Is it over? Not quite yet, no", 14)).toBe("Is it over?");
    expect(truncateWords('He said "stop." Then he left town', 19)).toBe('He said "stop."');
    expect(truncateWords("In 2024 (as planned.) it grew more", 24)).toBe("In 2024 (as planned.)");
    expect(truncateWords("雨が降った。風も強かった。明日は晴れるでしょう", 14)).toBe(
      "雨が降った。風も強かった。",
    );
    // Cut inside a sentence: the ellipsis, in place of a comma or dash it would follow.
    expect(truncateWords("One two three, four five six seven", 20)).toBe("One two three…");
    expect(truncateWords("One two three — four five six seven", 20)).toBe("One two three…");
    // A period inside a word is no sentence end, and the ellipsis replaces it.
    expect(truncateWords("see example.com/path/to/the/page for more", 13)).toBe("see example…");
    expect(truncateWords("wait…what is going on here", 6)).toBe("wait…");
    expect(truncateWords("end. start", 10)).toBe("end. start");
  });

  it("lineAt counts lines from 1", () => {
    const text = "a\nbb\n\nc";

    expect(lineAt(text, 0)).toBe(1);
    expect(lineAt(text, 2)).toBe(2);
    expect(lineAt(text, 6)).toBe(4);
    expect(lineAt(text, 999)).toBe(4);
  });
});
