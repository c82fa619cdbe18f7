import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import { parseConfig, type SiteConfig } from "../core/config.ts";
import { ConfigError } from "../core/errors.ts";

export const DEFAULT_CONFIG_FILE = "feedpub.config.yaml";

/** Reads and validates the site settings file. */
export async function loadConfigFile(path: string): Promise<SiteConfig> {
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
  const doc = parseDocument(text, { schema: "core", uniqueKeys: true });
  if (doc.errors.length)
    throw new ConfigError(
      path,
      doc.errors.map((e) => `not valid YAML: ${e.message.split("\n")[0]}`),
    );
  return parseConfig(doc.toJS({ maxAliasCount: 10 }), path);
}
