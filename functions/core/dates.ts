import { cutUtf16, QUOTE_LIMIT, quote } from "./text.ts";

// Date forms Hugo and Jekyll users write: "2024-03-01", "2024-03-01T09:30:00Z",
// "2024-03-01 09:30:00 +0100", "2024-03-01T09:30:00.123+01:00". No zone means UTC.
const DATE_FORM =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|z|[+-]\d{2}:?\d{2})?)?$/;

/** Parses a front-matter date value; returns a Date or a reason it is not one. */
export function parseDateValue(value: unknown): Date | string {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "is not a valid date" : new Date(value.getTime());
  }
  if (typeof value !== "string") {
    return `must be a date like 2024-03-01 or 2024-03-01T09:30:00Z, got ${typeof value === "object" ? cutUtf16(String(JSON.stringify(value)), QUOTE_LIMIT) : String(value)}`;
  }
  const m = DATE_FORM.exec(value.trim());
  if (!m) return `must be a date like 2024-03-01 or 2024-03-01T09:30:00Z, got ${quote(value)}`;
  const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", zone = "Z"] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const check = new Date(utc);
  if (
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    year < 1970
  ) {
    return `is not a real date: ${quote(value)}`;
  }
  let offsetMinutes = 0;
  if (zone !== "Z" && zone !== "z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
  }
  return new Date(utc - offsetMinutes * 60_000);
}

/** A date from a Jekyll-style file name such as `2024-03-01-hello.md`, with the rest as slug. */
export function dateFromFileName(baseName: string): { date: Date; slug: string } | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})-(.+)$/.exec(baseName);
  if (!m?.[1] || !m[2]) return undefined;
  const date = parseDateValue(m[1]);
  return typeof date === "string" ? undefined : { date, slug: m[2] };
}
