import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FILE_LIMIT, FUNCTION_LIMIT, measure } from "../../scripts/room-sizes.ts";

/** Every import specifier of a TypeScript file (static and dynamic). */
function importsOf(path: string): string[] {
  const text = readFileSync(path, "utf8");
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((match) => match[1] as string);
}

function tree(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? tree(join(dir, entry.name))
      : entry.name.endsWith(".ts")
        ? [join(dir, entry.name)]
        : [],
  );
}

/** The engine's deciding half: no storage, no SDK, no file system, no environment. */
const PURE = [
  "functions/engine/planner.ts",
  "functions/engine/render.ts",
  "functions/engine/catalog-view.ts",
  "functions/engine/needs.ts",
  "functions/engine/file-bytes.ts",
  ...tree("functions/engine/families"),
  ...tree("functions/engine/state"),
];
/** What the pure half may import: core, itself, and hashing. */
const PURE_IMPORTS = /^(\.\.?\/)*(core\/|families\/|state\/|\.\/|\.\.\/)|^node:crypto$/;

describe("the layout shows the design", () => {
  it(`no file in functions/ is over ${FILE_LIMIT} lines, no function over ${FUNCTION_LIMIT}`, () => {
    const { files, functions } = measure("functions");
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((room) => room.lines > FILE_LIMIT)).toEqual([]);
    expect(functions.filter((room) => room.lines > FUNCTION_LIMIT)).toEqual([]);
  });

  it("the planner, the families and the state codecs do no I/O", () => {
    const offending: string[] = [];
    for (const file of PURE)
      for (const specifier of importsOf(file)) {
        const allowed =
          PURE_IMPORTS.test(specifier) &&
          !/storage\/|handlers\/|cli\/|node:fs|aws-sdk|\.\.\/(store|apply|rebuild|run-plan|observe|media-sync|write)\.ts$|^\.\/(store|apply|rebuild|run-plan|observe|media-sync)\.ts$/.test(
            specifier,
          );
        if (!allowed) offending.push(`${file} imports ${specifier}`);
      }
    expect(PURE.length).toBeGreaterThan(10);
    expect(offending).toEqual([]);
    // And nothing there reads the clock or the environment.
    for (const file of PURE)
      expect(readFileSync(file, "utf8"), file).not.toMatch(/new Date\(\)|Date\.now\(\)|process\./);
  });

  it("core imports no SDK, no file system and no environment", () => {
    for (const file of tree("functions/core")) {
      for (const specifier of importsOf(file))
        expect(specifier, file).not.toMatch(/node:fs|aws-sdk|\/storage\//);
      expect(readFileSync(file, "utf8"), file).not.toMatch(/process\.env/);
    }
  });
});
