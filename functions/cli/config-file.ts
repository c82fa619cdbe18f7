import { readFile } from "node:fs/promises";
import { parseConfig, type SiteConfig } from "../core/config.ts";
import { ConfigError } from "../core/errors.ts";
import { loadYaml, YamlError } from "../core/front-matter.ts";

export const DEFAULT_CONFIG_FILE = "feedpub.config.yaml";

/** Reads and validates the site settings file. */
export async function loadConfigFile(path: string): Promise<SiteConfig> {
  return parseConfig(await readConfigFile(path), path);
}

/** The settings file as written (YAML read safely, not validated yet). */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT"
        ? `not found; create it (see README, "Site settings") or pass --config FILE`
        : (error as Error).message;
    throw new ConfigError(path, [reason]);
  }
  let raw: unknown;
  try {
    // The same safe loader as front matter: core schema, unique keys, capped alias expansion.
    raw = loadYaml(text);
  } catch (error) {
    if (!(error instanceof YamlError)) throw error;
    const where = error.line === undefined ? "" : ` at line ${error.line}, column ${error.column}`;
    throw new ConfigError(path, [
      `${error.invalid ? "not valid" : "not usable"} YAML: ${error.message}${where}`,
    ]);
  }
  return raw;
}
