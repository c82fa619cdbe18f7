/**
 * Sizes of the rooms in functions/: lines per file and per function (declarations, methods,
 * arrows and function expressions, measured from their first to their last line).
 *
 *   npx tsx scripts/room-sizes.ts [DIR] [--over]
 *
 * --over prints only files over 400 lines and functions over 80; test/unit/layout.test.ts holds
 * the tree to those limits.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

export const FILE_LIMIT = 400;
export const FUNCTION_LIMIT = 80;

export interface Room {
  readonly file: string;
  readonly name: string;
  readonly lines: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  const named = node as { name?: ts.Node };
  if (named.name) return named.name.getText(source);
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(source);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(source);
  return "(anonymous)";
}

/** Every file's length and every function's, under `root`. */
export function measure(root: string): { files: Room[]; functions: Room[] } {
  const files: Room[] = [];
  const functions: Room[] = [];
  for (const path of sourceFiles(root).sort()) {
    const text = readFileSync(path, "utf8");
    const file = relative(process.cwd(), path);
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    files.push({ file, name: "", lines: source.getLineAndCharacterOfPosition(text.length).line });
    const visit = (node: ts.Node) => {
      if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        functions.push({ file, name: nameOf(node, source), lines: end - start + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { files, functions };
}

function main(): void {
  const args = process.argv.slice(2);
  const root = args.find((arg) => !arg.startsWith("--")) ?? "functions";
  const over = args.includes("--over");
  const { files, functions } = measure(root);
  const big = [...files].sort((a, b) => b.lines - a.lines);
  const long = [...functions].sort((a, b) => b.lines - a.lines);
  console.log(
    `${files.length} files, ${files.reduce((sum, f) => sum + f.lines, 0)} lines, ${functions.length} functions`,
  );
  for (const room of big.filter((f) => !over || f.lines > FILE_LIMIT).slice(0, over ? undefined : 10))
    console.log(`file ${String(room.lines).padStart(5)}  ${room.file}`);
  for (const room of long.filter((f) => !over || f.lines > FUNCTION_LIMIT).slice(0, over ? undefined : 15))
    console.log(`fn   ${String(room.lines).padStart(5)}  ${room.file} ${room.name}`);
}

if (process.argv[1]?.endsWith("room-sizes.ts")) main();
