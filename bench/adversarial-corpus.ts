/**
 * The adversarial corpus: every case of every class, in a fixed order. Cases are descriptions
 * plus a maker; `materialize` (adversarial-gen.ts) turns one into bytes with its own seeded
 * generator, so any file can be rebuilt alone from the seed and its id.
 */
import { fanOutCases, sizeCases } from "./adversarial-fanout.ts";
import type { AdversarialCase } from "./adversarial-gen.ts";
import { hostileCases } from "./adversarial-hostile.ts";
import { nestingCases } from "./adversarial-nesting.ts";
import { regexCases } from "./adversarial-regex.ts";

/** The seed of the recorded runs; any other gives different names, words and tags, not other shapes. */
export const DEFAULT_SEED = 20_240_301;

export function adversarialCases(): AdversarialCase[] {
  const cases = [...regexCases(), ...nestingCases(), ...fanOutCases(), ...sizeCases(), ...hostileCases()];
  const seen = new Set<string>();
  for (const entry of cases) {
    if (seen.has(entry.id)) throw new Error(`duplicate adversarial case id ${entry.id}`);
    seen.add(entry.id);
  }
  return cases;
}

export function findCase(id: string): AdversarialCase {
  const found = adversarialCases().find((entry) => entry.id === id);
  if (!found) throw new Error(`no adversarial case "${id}" (list them with bench/adversarial.ts --list)`);
  return found;
}

/** The file name a case is published under: its id without the class, with its extension. */
export function fileNameOf(entry: AdversarialCase): string {
  return `${entry.id.replace(/^[^/]+\//, "")}.${entry.ext}`;
}
