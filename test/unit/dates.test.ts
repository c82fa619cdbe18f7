import { describe, expect, it } from "vitest";
import { dateFromFileName, parseDateValue } from "../../functions/core/dates.ts";

const iso = (value: unknown): string => {
  const parsed = parseDateValue(value);
  if (typeof parsed === "string") throw new Error(`expected a date, got the reason: ${parsed}`);
  return parsed.toISOString();
};

describe("parseDateValue", () => {
  it.each([
    ["2024-03-01", "2024-03-01T00:00:00.000Z"],
    ["2024-03-01T09:30:00Z", "2024-03-01T09:30:00.000Z"],
    ["2024-03-01T09:30:00z", "2024-03-01T09:30:00.000Z"],
    ["2024-03-01T09:30", "2024-03-01T09:30:00.000Z"],
    ["2024-03-01 09:30:00 +0100", "2024-03-01T08:30:00.000Z"],
    ["2024-03-01T09:30:00.123+01:00", "2024-03-01T08:30:00.123Z"],
    ["2024-03-01T09:30:00.123456789-05:30", "2024-03-01T15:00:00.123Z"],
    ["  2024-03-01  ", "2024-03-01T00:00:00.000Z"],
    ["2024-02-29", "2024-02-29T00:00:00.000Z"],
  ])("reads %j as %s (no zone means UTC)", (value, expected) => {
    expect(iso(value)).toBe(expected);
  });

  it("accepts Date objects (TOML dates) and copies them", () => {
    const input = new Date("2024-03-01T09:30:00Z");

    const parsed = parseDateValue(input);

    expect(parsed).toEqual(input);
    expect(parsed).not.toBe(input);
  });

  it.each([
    ["2023-02-29", /^is not a real date/],
    ["2024-04-31", /^is not a real date/],
    ["2024-03-01T24:00:00Z", /^is not a real date/],
    ["2024-03-01T23:60:00Z", /^is not a real date/],
    ["1969-12-31", /^is not a real date/],
    ["01/03/2024", /^must be a date like 2024-03-01 or 2024-03-01T09:30:00Z, got "01\/03\/2024"$/],
    ["March 1, 2024", /^must be a date like/],
    ["", /^must be a date like/],
  ])("refuses %j", (value, reason) => {
    expect(parseDateValue(value)).toMatch(reason);
  });

  it("refuses non-strings and invalid Date objects with a reason", () => {
    expect(parseDateValue(20240301)).toMatch(/^must be a date like .* got 20240301$/);
    expect(parseDateValue({ y: 2024 })).toMatch(/got \{"y":2024\}$/);
    expect(parseDateValue(new Date("nope"))).toBe("is not a valid date");
  });
});

describe("dateFromFileName (Jekyll)", () => {
  it("takes the date and the rest as slug", () => {
    expect(dateFromFileName("2024-03-01-hello-world")).toEqual({
      date: new Date("2024-03-01T00:00:00Z"),
      slug: "hello-world",
    });
  });

  it.each(["hello", "2024-03-01", "2024-3-1-hello", "2024-02-30-bad-day", "x2024-03-01-hello"])(
    "finds no date in %j",
    (name) => {
      expect(dateFromFileName(name)).toBeUndefined();
    },
  );
});
