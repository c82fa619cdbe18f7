import { CORE_SCHEMA, load, Type, YAMLException } from "js-yaml";
import { parse as parseToml, TomlError } from "smol-toml";
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
  if (yaml) {
    checkFrontMatterSize(yaml[1] ?? "");
    return parseYamlBlock(yaml[1] ?? "", text.slice(yaml[0].length), lines(yaml[0]));
  }
  if (text.startsWith("---\n") || text === "---") {
    throw new ArticleError("front matter starts with --- but has no closing --- line", 1);
  }
  const toml = TOML_FENCE.exec(text);
  if (toml) {
    checkFrontMatterSize(toml[1] ?? "");
    return parseTomlBlock(toml[1] ?? "", text.slice(toml[0].length), lines(toml[0]));
  }
  if (text.startsWith("+++\n"))
    throw new ArticleError("front matter starts with +++ but has no closing +++ line", 1);
  return { data: {}, body: text, bodyLine: 1, lineOf: () => undefined };
}

/**
 * Longest front matter read, in characters. Real front matter is a few hundred bytes; the YAML and
 * TOML parsers (and the line lookup of an error) cost far more per byte than the body does, so
 * a megabyte of keys, anchors or tags is refused before either parser starts.
 */
export const MAX_FRONT_MATTER = 64 * 1024;

function checkFrontMatterSize(block: string): void {
  if (block.length > MAX_FRONT_MATTER)
    throw new ArticleError(
      `the front matter is ${block.length.toLocaleString("en-US")} characters; it is limited to ${MAX_FRONT_MATTER.toLocaleString("en-US")} (put long text in the body)`,
      1,
    );
}

function lines(block: string): number {
  let n = 1;
  for (const c of block) if (c === "\n") n++;
  return block.endsWith("\n") ? n : n;
}

function parseYamlBlock(source: string, body: string, bodyLine: number): FrontMatter {
  let data: unknown;
  try {
    data = loadYaml(source);
  } catch (error) {
    if (!(error instanceof YamlError)) throw error;
    // Syntax errors carry a line within the block; the block starts on line 2 of the file.
    const line = error.line === undefined ? 2 : error.line + 1;
    throw new ArticleError(
      `front matter is ${error.invalid ? "not valid" : "not usable"} YAML: ${error.message}`,
      line,
    );
  }
  // Nothing but comments or blank lines is no fields; any other non-mapping (`~`, a list) is wrong.
  if (data === undefined || (data === null && !FIRST_ENTRY.test(source))) data = {};
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new ArticleError("front matter must be a mapping of fields (key: value)", 2);
  }
  const fields = data as Record<string, unknown>;
  return { data: fields, body, bodyLine, lineOf: (key) => yamlKeyLine(source, fields, key) };
}

/** The first line that is neither blank nor a comment: its indentation and first character. */
const FIRST_ENTRY = /^( *)([^\s#])/m;

/**
 * The file line of a top-level key. js-yaml keeps no node positions, so the block's lines are
 * scanned: in a block mapping a key starts a line at the first entry's indentation (after an
 * anchor or tag, or as an explicit `? key`), so nested keys and block scalar lines, indented
 * deeper, never match; in a flow mapping (`{title: x, "tags": [a]}`) it follows `{` or `,`.
 */
function yamlKeyLine(source: string, data: Record<string, unknown>, key: string): number | undefined {
  if (!Object.hasOwn(data, key)) return undefined;
  const first = FIRST_ENTRY.exec(source);
  const name = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const quoted = `"${name}"|'${name}'`;
  const entry = `(?:${name}[ \t]*:(?![^ \t])|(?:${quoted})[ \t]*:)`;
  const pattern =
    first?.[2] === "{"
      ? new RegExp(`(?:^|[{,])[ \t]*${entry}`)
      : new RegExp(
          `^${first?.[1] ?? ""}(?:(?:[&!]\\S*[ \t]+)*${entry}|\\?[ \t]+(?:${name}|${quoted})[ \t]*$)`,
        );
  const index = source.split("\n").findIndex((l) => pattern.test(l));
  return index < 0 ? undefined : index + 2;
}

/** A YAML text that cannot be used: invalid syntax (with its 1-based line and column) or an unsafe result. */
export class YamlError extends Error {
  constructor(
    message: string,
    readonly invalid: boolean,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = "YamlError";
  }
}

// Tags the core schema does not know (`!!js/function`, `!custom`, `!!timestamp`, `!!binary`) are
// ignored rather than refused, as the `yaml` package did: the value stays the text, list or
// mapping as written, never an object built by a tag.
const SCHEMA = CORE_SCHEMA.extend(
  (["scalar", "sequence", "mapping"] as const).map((kind) => new Type("", { kind, multi: true })),
);

/** More values than this added by aliases means a "billion laughs" document, not real settings. */
const MAX_ALIAS_EXPANSION = 1_000;
/** Deeper than this is only reachable by chaining aliases (js-yaml refuses 100 levels written out). */
const MAX_ALIAS_DEPTH = 200;

/**
 * Loads one YAML document with the core schema (null, booleans, numbers, strings: no dates, no
 * custom types, nothing that runs code); duplicate keys are an error. Throws YamlError.
 * Shared by front matter and feedpub.config.yaml.
 */
export function loadYaml(source: string): unknown {
  let data: unknown;
  try {
    data = load(source, { schema: SCHEMA });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    if (!error.mark) throw new YamlError(error.reason, true);
    const lines = source.split("\n");
    const { line, column } = error.mark;
    const reason = explain(error.reason, lines[line]?.[column]);
    // js-yaml reports a text that ends too soon (an unclosed quote or list) one line past its end.
    const [markLine, markColumn] =
      line < lines.length ? [line, column] : [lines.length - 1, (lines.at(-1) ?? "").length];
    const blamed = blameLine(lines, markLine);
    if (blamed === markLine) throw new YamlError(reason, true, markLine + 1, markColumn + 1);
    throw new YamlError(reason, true, blamed + 1, (lines[blamed]?.search(/\S|$/) ?? 0) + 1);
  }
  checkAliases(data);
  return data;
}

/** How many characters blameLine may parse in all: a few parses of real front matter. */
const BLAME_BUDGET = 512 * 1024;

/**
 * The line an editor would point at, 0-based. js-yaml marks where it noticed the error, which for
 * an unclosed quote or list, or a line missing its colon, is a line or more later (often the end).
 * The culprit is the line after the longest run of whole lines that still reads as fields: a
 * quote, list or key that spans lines legitimately before it closes again is not blamed.
 */
function blameLine(lines: readonly string[], markLine: number): number {
  let budget = BLAME_BUDGET;
  for (let end = markLine; end >= 0; end--) {
    const prefix = lines.slice(0, end).join("\n");
    budget -= prefix.length;
    if (budget < 0) return markLine;
    if (readsAsFields(prefix)) return end;
  }
  return markLine;
}

/** Whether a YAML text loads as a mapping or as nothing (only comments, or blank). */
function readsAsFields(source: string): boolean {
  try {
    const data: unknown = load(source, { schema: SCHEMA });
    return data == null || (typeof data === "object" && !Array.isArray(data));
  } catch {
    return false;
  }
}

/** js-yaml's reason for a syntax error, reworded where it would mislead an editor. */
function explain(reason: string, char: string | undefined): string {
  // The `yaml` package's wording, which editors (and the tests) know.
  if (reason === "duplicated mapping key") return "Map keys must be unique";
  // js-yaml calls `title: @name` or `title: `code`` bad indentation.
  if (reason === "bad indentation of a mapping entry" && (char === "@" || char === "`")) {
    return `a plain value cannot start with ${char}; put the value in quotes`;
  }
  return reason;
}

/**
 * js-yaml gives every alias of an anchor the anchor's own object instead of a copy, so even a
 * "billion laughs" document loads in linear time, but anything walking the result would see the
 * full expansion (parseDateValue and the config checks JSON.stringify a wrong value for their
 * message). Counting aliases is not enough: 24 aliases of `[*a, *a]` already give 2^24 values.
 * This walk visits each shared list or mapping once and adds up what its other uses would cost.
 */
function checkAliases(root: unknown): void {
  const sizes = new Map<object, number>(); // 0 while the value's own children are being walked
  let added = 0;
  const size = (value: unknown, depth: number): number => {
    if (value === null || typeof value !== "object") return 1;
    const known = sizes.get(value);
    if (known === 0) throw new YamlError("an alias refers to a list or mapping that contains it", false);
    if (known !== undefined) {
      added += known;
      if (added > MAX_ALIAS_EXPANSION) {
        throw new YamlError(`aliases expand to more than ${MAX_ALIAS_EXPANSION} values`, false);
      }
      return known;
    }
    if (depth > MAX_ALIAS_DEPTH) {
      throw new YamlError(`aliases nest values more than ${MAX_ALIAS_DEPTH} levels deep`, false);
    }
    sizes.set(value, 0);
    let total = 1;
    for (const child of Object.values(value)) total += size(child, depth + 1);
    sizes.set(value, total);
    return total;
  };
  size(root, 0);
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
