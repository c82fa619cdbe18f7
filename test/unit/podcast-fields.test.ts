import { describe, expect, it } from "vitest";
import { planFeed, renderProblem, toFeedItem } from "../../functions/core/build.ts";
import { parseConfig } from "../../functions/core/config.ts";
import {
  MAX_DURATION_SECONDS,
  MAX_TRANSCRIPTS,
  resolveEpisode,
} from "../../functions/core/podcast-fields.ts";
import { parseText, SITE } from "./support.ts";

/** An article file with an MP3 beside it and the given front-matter lines. */
const episode = (lines: string, attach = "audio: ep.mp3") =>
  parseText("shows/ep.md", `---\ntitle: An episode\ndate: 2025-05-01\n${attach}\n${lines}\n---\nNotes.\n`);
/** The bad episode field an article keeps (reported only in a podcast feed). */
const problem = (lines: string) => {
  const kept = episode(lines).episodeProblem;
  if (!kept) throw new Error(`no episode problem kept for ${lines}`);
  return { message: kept.reason, line: kept.line };
};

describe("episode fields in front matter", () => {
  it("are read from an article that attaches audio or video", () => {
    const article = episode(
      [
        "duration: '1:02:03'",
        "episode: 12",
        "season: '2'",
        "episode_type: Bonus",
        "explicit: true",
        "transcripts: [ep.vtt, {url: 'https://cdn.example/t.json', type: application/json, language: ko-KR, rel: captions}]",
        "chapters: {url: ep.chapters.json}",
      ].join("\n"),
    );
    expect(article.episode).toEqual({
      duration: 3723,
      episode: 12,
      season: 2,
      episodeType: "bonus",
      explicit: true,
      transcripts: [
        { url: "ep.vtt", type: "text/vtt" },
        { url: "https://cdn.example/t.json", type: "application/json", language: "ko-KR", captions: true },
      ],
      chapters: { url: "ep.chapters.json", type: "application/json+chapters" },
    });
  });

  it("are ignored on an article without a recording, where the names may mean anything else", () => {
    const text = parseText(
      "a.md",
      "---\ntitle: T\nseason: Autumn\nexplicit: maybe\nduration: long\n---\nx\n",
    );
    expect(text.episode).toBeUndefined();
    expect(episode("season: 1", "image: cover.jpg").episode).toBeUndefined();
    expect(episode("season: 1", "enclosure: notes.pdf").episode).toBeUndefined();
    // A video, or a URL whose type is given, makes an episode too.
    expect(episode("season: 1", "video: clip.mp4").episode).toEqual({ season: 1 });
    expect(
      episode("season: 1", "enclosure: {url: 'https://cdn.example/x', type: audio/ogg}").episode,
    ).toEqual({
      season: 1,
    });
  });

  it("take a duration as seconds, MM:SS or HH:MM:SS", () => {
    const durations: [string, number][] = [
      ["95", 95],
      ["'95'", 95],
      ["94.6", 95],
      ["'12:34'", 754],
      ["'90:00'", 5400],
      ["'01:02:03'", 3723],
      ["'1:02:03.5'", 3724],
    ];
    for (const [written, seconds] of durations)
      expect(episode(`duration: ${written}`).episode?.duration, written).toBe(seconds);
  });

  it("keep each bad value as the article's podcast problem, with the field's name and line", () => {
    const cases: [string, RegExp][] = [
      ["duration: '1:75'", /^duration: must be a number of seconds, "MM:SS" or "HH:MM:SS", got "1:75"/],
      ["duration: '2:60:00'", /^duration: must be a number/],
      ["duration: about an hour", /^duration: must be a number/],
      ["duration: 0", /^duration: must be between 1 second and 99:59:59/],
      [`duration: ${MAX_DURATION_SECONDS + 1}`, /^duration: must be between/],
      ["duration: 2025-01-01", /^duration: must be a number of seconds, .* got "2025-01-01"/],
      ["episode: 0", /^episode: must be a whole number from 1 to 999999, got 0/],
      ["episode: 1.5", /^episode: must be a whole number/],
      ["season: -1", /^season: must be a whole number/],
      ["season: [1]", /^season: must be a whole number from 1 to 999999, got a list/],
      ["episodeType: preview", /^episodeType: must be full, trailer or bonus, got "preview"/],
      ["explicit: yes", /^explicit: must be true or false, got "yes"/],
      ["transcript: javascript:alert(1)", /^transcript: must be a relative path or an http\(s\) URL/],
      [
        "transcript: //evil.example/t.vtt",
        /^transcript: must not contain "\\" or start with "\/\/", got "\/\/evil/,
      ],
      ["transcript: notes", /^transcript: needs a type for "notes"/],
      ["transcript: {url: t.vtt, type: 'text/vtt\" onload=\"x'}", /^transcript: type must be a media type/],
      ["transcript: {url: t.vtt, rel: alternate}", /^transcript: rel can only be "captions"/],
      ["transcript: {url: t.vtt, language: 'en US'}", /^transcript: language must be a language tag/],
      ["transcript: {url: t.vtt, lang: en}", /^transcript: has an unknown field "lang"/],
      [
        `transcripts: [${Array(MAX_TRANSCRIPTS + 1)
          .fill("t.vtt")
          .join(", ")}]`,
        /^transcripts: names 6 transcripts/,
      ],
      ["chapters: [a.json, b.json]", /^chapters: must be a path, a URL or \{url, type\}, got a list/],
      [`chapters: https://x.example/${"a".repeat(2001)}`, /^chapters: has a url longer than 2000 characters/],
    ];
    for (const [line, expected] of cases) {
      const error = problem(line);
      expect(error.message, line).toMatch(expected);
      expect(error.line, line).toBe(5);
    }
  });
});

describe("an item's episode", () => {
  const chosen = (path: string) =>
    planFeed({
      config: SITE,
      entries: [episode("")].map((a) => ({ ...a, path })),
      seen: {},
      now: new Date("2026-01-01"),
    }).chosen[0];

  it("has its links made absolute: relative ones on the site, URLs as they are", () => {
    const resolved = resolveEpisode(
      {
        episode: 3,
        transcripts: [
          { url: "ep3.vtt", type: "text/vtt" },
          { url: "/shared/ep3.srt", type: "application/x-subrip" },
          { url: "https://cdn.example/ep3 ko.json?x=1&y=2", type: "application/json" },
        ],
        chapters: { url: "../chapters/ep3.json", type: "application/json+chapters" },
      },
      "https://radio.example.org/shows/ep3/",
    );
    expect(resolved).toEqual({
      episode: 3,
      transcripts: [
        { url: "https://radio.example.org/shows/ep3/ep3.vtt", type: "text/vtt" },
        { url: "https://radio.example.org/shared/ep3.srt", type: "application/x-subrip" },
        { url: "https://cdn.example/ep3%20ko.json?x=1&y=2", type: "application/json" },
      ],
      chapters: {
        url: "https://radio.example.org/shows/chapters/ep3.json",
        type: "application/json+chapters",
      },
    });
  });

  it("with a bad value, is the article's problem in a podcast feed only: elsewhere the article renders", () => {
    const show = parseConfig({
      title: "Show",
      url: "https://show.example/",
      podcast: { image: "https://show.example/a.jpg", category: "News", explicit: false },
    });
    const article = episode("explicit: clean");
    const at = chosen(article.path);
    if (!at) throw new Error("not chosen");
    expect(toFeedItem(article, at, SITE).episode).toBeUndefined();
    let thrown: unknown;
    try {
      toFeedItem(article, at, show);
    } catch (error) {
      thrown = error;
    }
    expect(renderProblem(article.path, thrown)).toEqual({
      file: "shows/ep.md",
      line: 5,
      reason: 'explicit: must be true or false, got "clean"',
    });
  });

  it("is carried only by an item whose recording resolved", () => {
    const article = episode("episode: 4\nduration: 60");
    const at = chosen(article.path);
    if (!at) throw new Error("not chosen");
    expect(toFeedItem(article, at, SITE).episode).toEqual({ episode: 4, duration: 60 });
  });

  it("of a serial show needs a number on every full episode: else it is the article's problem", () => {
    const serial = parseConfig({
      title: "Serial",
      url: "https://serial.example/",
      podcast: {
        image: "https://serial.example/a.jpg",
        category: "Fiction > Drama",
        explicit: false,
        type: "serial",
      },
    });
    const unnumbered = episode("duration: 60");
    const at = chosen(unnumbered.path);
    if (!at) throw new Error("not chosen");
    let thrown: unknown;
    try {
      toFeedItem(unnumbered, at, serial);
    } catch (error) {
      thrown = error;
    }
    expect(renderProblem(unnumbered.path, thrown)).toEqual({
      file: "shows/ep.md",
      reason:
        "episode: is required on every full episode of a serial podcast (podcast.type: serial in the settings)",
    });
    // A trailer may be unnumbered (a show or season trailer), and an episodic show needs no numbers.
    expect(() => toFeedItem(episode("episodeType: trailer"), at, serial)).not.toThrow();
    expect(toFeedItem(episode("episode: 1"), at, serial).episode).toEqual({ episode: 1 });
    expect(() => toFeedItem(unnumbered, at, SITE)).not.toThrow();
  });
});
