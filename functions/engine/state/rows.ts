import type { IndexEntry } from "./entry.ts";

/**
 * Entries are stored as one row each, [path, hash, firstSeen, changed, date, updated,
 * publishDate, expiryDate, flags, id, problem, problem line, tags, authors, etag, language], with times as
 * epoch milliseconds (0 for none) and trailing empty cells left out: a third of the size of one
 * object per entry.
 */
export type Row = [string, string, ...unknown[]];

export function encodeRow(path: string, entry: IndexEntry): Row {
  const row: Row = [
    path,
    entry.hash,
    entry.firstSeen,
    entry.changed === entry.firstSeen ? 0 : entry.changed,
    entry.date ?? 0,
    entry.updated ?? 0,
    entry.publishDate ?? 0,
    entry.expiryDate ?? 0,
    entry.draft ? 1 : 0,
    entry.id ?? "",
    entry.problem?.reason ?? "",
    entry.problem?.line ?? 0,
    entry.tags ?? [],
    entry.authors ?? [],
    entry.etag ?? "",
    entry.language ?? "",
  ];
  const empty = (cell: unknown) => cell === 0 || cell === "" || (Array.isArray(cell) && cell.length === 0);
  while (row.length > 2 && empty(row[row.length - 1])) row.pop();
  return row;
}

const time = (value: unknown): number | undefined =>
  typeof value === "number" && value > 0 ? value : undefined;

export function decodeRows(rows: unknown[]): Record<string, IndexEntry> {
  const articles: Record<string, IndexEntry> = {};
  for (const row of rows as Row[]) {
    const [path, hash, firstSeen, changed, date, updated, publishDate, expiryDate, flags, id, ...rest] = row;
    const [reason, line, tags, authors, etag, language] = rest;
    const seen = time(firstSeen) ?? 0;
    const entry: { -readonly [K in keyof IndexEntry]: IndexEntry[K] } = {
      hash,
      firstSeen: seen,
      changed: time(changed) ?? seen,
    };
    if (time(date)) entry.date = date as number;
    if (time(updated)) entry.updated = updated as number;
    if (time(publishDate)) entry.publishDate = publishDate as number;
    if (time(expiryDate)) entry.expiryDate = expiryDate as number;
    if (flags === 1) entry.draft = true;
    if (typeof id === "string" && id) entry.id = id;
    if (typeof reason === "string" && reason) {
      entry.problem = { reason, ...(typeof line === "number" && line > 0 ? { line } : {}) };
    }
    if (Array.isArray(tags) && tags.length) entry.tags = tags.map(String);
    if (Array.isArray(authors) && authors.length) entry.authors = authors.map(String);
    if (typeof etag === "string" && etag) entry.etag = etag;
    if (typeof language === "string" && language) entry.language = language;
    articles[path] = entry;
  }
  return articles;
}

/** Entries of the first layout: objects with ISO times. */
export function decodeV1(articles: Record<string, Record<string, unknown>>): Record<string, IndexEntry> {
  const ms = (value: unknown) => (typeof value === "string" && value ? Date.parse(value) : 0);
  const out: Record<string, IndexEntry> = {};
  for (const [path, old] of Object.entries(articles)) {
    const row: Row = [
      path,
      String(old.hash),
      ms(old.firstSeen),
      ms(old.changed),
      ms(old.date),
      ms(old.updated),
      ms(old.publishDate),
      ms(old.expiryDate),
      old.draft ? 1 : 0,
      typeof old.id === "string" ? old.id : "",
      (old.problem as { reason?: string } | undefined)?.reason ?? "",
      (old.problem as { line?: number } | undefined)?.line ?? 0,
    ];
    Object.assign(out, decodeRows([row]));
  }
  return out;
}
