import { parse as parseToml, TomlError } from "smol-toml";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { ArticleError } from "./errors.ts";

/** Front matter as a plain mapping, the body after it, and a way to find a field's line. */
export interface FrontMatter {
  readonly data: Record<string, unknown>;
  readonly body: string;
  /** 1-based line in the whole file where the body starts. */
  readonly bodyLine: number;
  readonly lineOf: (key: string) => number | undefined;
}

// The closing fence must be a line of its own: a value ending in "..." (`summary: And then...`)
// must not end the front matter.
const YAML_FENCE = /^---[ \t]*\n(?:([\s\S]*?)\n)?(?:---|\.\.\.)[ \t]*(?:\n|$)/;
const TOML_FENCE = /^\+\+\+[ \t]*\n(?:([\s\S]*?)\n)?\+\+\+[ \t]*(?:\n|$)/;

/**
 * Splits `---` YAML or `+++` TOML front matter from the body. Text without front matter
 * yields an empty mapping. YAML is read with the core schema: no custom tags, no code, and a
 * cap on alias expansion so "billion laughs" documents fail instead of exhausting memory.
 */
export function splitFrontMatter(text: string): FrontMatter {
  const yaml = YAML_FENCE.exec(text);
  if (yaml) return parseYamlBlock(yaml[1] ?? "", text.slice(yaml[0].length), lines(yaml[0]));
  if (text.startsWith("---\n") || text === "---") {
    throw new ArticleError("front matter starts with --- but has no closing --- line", 1);
  }
  const toml = TOML_FENCE.exec(text);
  if (toml) return parseTomlBlock(toml[1] ?? "", text.slice(toml[0].length), lines(toml[0]));
  if (text.startsWith("+++\n"))
    throw new ArticleError("front matter starts with +++ but has no closing +++ line", 1);
  return { data: {}, body: text, bodyLine: 1, lineOf: () => undefined };
}

function lines(block: string): number {
  let n = 1;
  for (const c of block) if (c === "\n") n++;
  return block.endsWith("\n") ? n : n;
}

function parseYamlBlock(source: string, body: string, bodyLine: number): FrontMatter {
  const counter = new LineCounter();
  const doc = parseDocument(source, {
    lineCounter: counter,
    schema: "core",
    uniqueKeys: true,
    prettyErrors: false,
  });
  const first = doc.errors[0];
  if (first) {
    const line = first.pos ? counter.linePos(first.pos[0]).line + 1 : 1;
    throw new ArticleError(`front matter is not valid YAML: ${first.message.split("\n")[0]}`, line);
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new ArticleError("front matter must be a mapping of fields (key: value)", 2);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (error) {
    throw new ArticleError(`front matter is not usable YAML: ${(error as Error).message}`, 2);
  }
  const keyLines = new Map<string, number>();
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      if (isScalar(pair.key) && pair.key.range) {
        keyLines.set(String(pair.key.value), counter.linePos(pair.key.range[0]).line + 1);
      }
    }
  }
  return {
    data: (data ?? {}) as Record<string, unknown>,
    body,
    bodyLine,
    lineOf: (key) => keyLines.get(key),
  };
}

function parseTomlBlock(source: string, body: string, bodyLine: number): FrontMatter {
  let data: Record<string, unknown>;
  try {
    data = parseToml(source) as Record<string, unknown>;
  } catch (error) {
    const line = error instanceof TomlError ? error.line + 1 : 1;
    const reason = (error as Error).message.split("\n")[0];
    throw new ArticleError(`front matter is not valid TOML: ${reason}`, line);
  }
  const sourceLines = source.split("\n");
  return {
    data,
    body,
    bodyLine,
    lineOf: (key) => {
      // `key = ...` (bare, "quoted" or 'quoted'), or a table header such as Hugo's `[[authors]]`.
      const name = `(?:${key}|"${key}"|'${key}')`;
      const pattern = new RegExp(`^\\s*(?:${name}\\s*=|\\[\\[?\\s*${name}\\s*\\]\\]?\\s*(?:#.*)?$)`);
      const index = sourceLines.findIndex((l) => pattern.test(l));
      return index < 0 ? undefined : index + 2;
    },
  };
}
