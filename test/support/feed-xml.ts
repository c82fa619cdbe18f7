/**
 * Independent looks into feed XML for the tests of feed ids, archive summaries and item
 * languages: XPath through libxml2's xmllint (the same tool assertWellFormedXml runs), and what
 * Debian's python3-feedparser makes of each entry's language, id and content. Missing tools are
 * errors, never skips.
 */
import { spawnSync } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";

/** The string value of an XPath 1.0 expression over `xml` (use string(...) or count(...)). */
export function xpath(xml: string, expression: string): string {
  const result = spawnSync("xmllint", ["--nonet", "--xpath", expression, "-"], {
    input: xml,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error)
    throw new Error(`could not run xmllint (apt-get install libxml2-utils): ${result.error.message}`);
  if (result.status !== 0) throw new Error(`xmllint --xpath ${expression} failed: ${result.stderr.trim()}`);
  return result.stdout.replace(/\n$/, "");
}

/** The number of nodes an XPath expression selects. */
export const countOf = (xml: string, expression: string): number =>
  Number(xpath(xml, `count(${expression})`));

/** Atom and RSS names by local name, so that one expression fits a default namespace. */
export const ATOM_FEED = "/*[local-name()='feed']";
export const ATOM_ENTRY = `${ATOM_FEED}/*[local-name()='entry']`;
export const RSS_ITEM = "/rss/channel/item";

export interface PythonEntry {
  readonly id: string | null;
  readonly title: string | null;
  /** The natural language feedparser gives the entry's title (xml:lang, inherited or its own). */
  readonly language: string | null;
  readonly content: string | null;
  readonly summary: string | null;
}

const SCRIPT = `
import json, sys, feedparser
d = feedparser.parse(sys.stdin.read())
if d.bozo:
    print(json.dumps({"error": str(d.bozo_exception)})); sys.exit(0)
print(json.dumps({"feedId": d.feed.get("id"), "entries": [{
    "id": e.get("id"), "title": e.get("title"),
    "language": (e.get("title_detail") or {}).get("language"),
    "content": (e.get("content") or [{}])[0].get("value"),
    "summary": e.get("summary"),
} for e in d.entries]}))
`;

/** The feed id and entries as Python feedparser reads them; throws if it finds the feed malformed. */
export function readWithPython(xml: string): { feedId: string | null; entries: PythonEntry[] } {
  const result = spawnSync("/usr/bin/python3", ["-I", "-c", SCRIPT], { input: xml, encoding: "utf8" });
  if (result.error || result.status !== 0)
    throw new Error(`python3-feedparser failed: ${result.error?.message ?? result.stderr.trim()}`);
  const out = JSON.parse(result.stdout) as { error?: string; feedId: string | null; entries: PythonEntry[] };
  if (out.error) throw new Error(`python feedparser found the feed malformed: ${out.error}`);
  return out;
}

/** Every file of that name under `dir`, as paths relative to it, sorted. */
export async function filesNamed(dir: string, name: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name === name)
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}
