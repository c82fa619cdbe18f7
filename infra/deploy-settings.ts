/**
 * The stack's settings: feedpub.config.yaml, read and checked exactly as `feedpub build` and
 * `feedpub rebuild --bucket` read it, so the Lambdas render what a local rebuild renders. Context
 * values (`-c siteUrl=...`) may override single settings; a bad one is reported under its `-c`
 * name, a bad file under its own name and field.
 */
import { existsSync, readFileSync } from "node:fs";
import { DEFAULT_CONFIG_FILE, readConfigFile } from "../functions/cli/config-file.ts";
import { parseConfig, parseHttpUrl, type SiteConfig } from "../functions/core/config.ts";
import { ConfigError } from "../functions/core/errors.ts";
import { loadYaml } from "../functions/core/front-matter.ts";
import { quote } from "../functions/core/text.ts";
import { alarmEmailProblem } from "./alarms.ts";
import type { FeedpubStackProps } from "./feedpub-stack.ts";

/** Where a problem with the context values is reported from. */
export const CONTEXT_SOURCE = "cdk context (-c)";

/** Context keys that override one setting of the file, and the setting each one overrides. */
const OVERRIDES = {
  siteTitle: "title",
  siteUrl: "url",
  siteDescription: "description",
  siteLanguage: "language",
  itemLimit: "itemLimit",
} as const;
const PERSON_KEYS = ["authorName", "authorEmail"] as const;
const DEPLOY_KEYS = ["config", "domainName", "certificateArn", "alarmEmail", "allowExampleUrl"] as const;
const KNOWN_KEYS: readonly string[] = [...Object.keys(OVERRIDES), ...PERSON_KEYS, ...DEPLOY_KEYS];

/** Reserved for documentation (RFC 2606): a site there can have no readers. */
const EXAMPLE_HOST = /(^|\.)(example\.(com|org|net)|example)$/;
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;

/** What the CDK app hands FeedpubStack. */
export type DeploySettings = Pick<FeedpubStackProps, "publisher" | "certificateArn">;

/** The stack cannot be synthesized as asked; the message says which setting and what to do. */
export class DeploySettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeploySettingsError";
  }
}

/**
 * Reads the settings from the file named by `-c config` (default feedpub.config.yaml, relative to
 * the working directory) and the context. Throws ConfigError or DeploySettingsError.
 */
export async function deploySettings(context: Record<string, unknown>): Promise<DeploySettings> {
  const value = (key: string) => contextValue(context, key);
  const problems = misspelledKeys(Object.keys(context));
  if (problems.length > 0) throw new ConfigError(CONTEXT_SOURCE, problems);
  const file = String(value("config") ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(file))
    throw new ConfigError(file, [
      `not found; create it (see README, "Site settings") or pass -c config=FILE`,
    ]);
  const written = (await readConfigFile(file)) as Record<string, unknown>;
  const fromFile = parseConfig(written, file);
  const site = withOverrides(fromFile, value, problems);
  const domainName = text(value("domainName"));
  const certificateArn = text(value("certificateArn"));
  problems.push(...domainProblems(domainName, certificateArn));
  const allowExample = allowExampleUrl(value("allowExampleUrl"), problems);
  const alarmEmail = text(value("alarmEmail"));
  problems.push(...alarmEmailProblems(alarmEmail, allowExample));
  if (problems.length > 0) throw new ConfigError(CONTEXT_SOURCE, problems);
  const feedsUrl = ownFeedsUrl(file, fromFile.feedsUrl, domainName);
  if (!allowExample) refuseExampleUrl(site.url, value("siteUrl") !== undefined, file);
  return {
    publisher: {
      site: {
        title: site.title,
        url: site.url,
        description: site.description,
        language: site.language,
        ...(site.author ? { author: site.author } : {}),
        permalink: site.permalink,
        ...(site.hub ? { hub: site.hub } : {}),
        ...(feedsUrl ? { feedsUrl } : {}),
        // As written: the functions parse them again (a parsed podcast block reads differently).
        ...writtenSettings(written, ["sectionFeeds", "languageFeeds", "podcast"]),
      },
      itemLimit: site.itemLimit,
      ...(domainName ? { domainName } : {}),
      ...(alarmEmail ? { alarmEmail } : {}),
    },
    ...(certificateArn ? { certificateArn } : {}),
  };
}

/** The named settings of the file as written, those it has. */
function writtenSettings(written: Record<string, unknown>, keys: readonly string[]): Record<string, never> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (written[key] !== undefined && written[key] !== null) out[key] = written[key];
  return out as Record<string, never>;
}

/** A context value; empty strings and null count as unset, as an empty `-c name=` means none. */
function contextValue(context: Record<string, unknown>, key: string): unknown {
  const value = context[key];
  return value === undefined || value === null || value === "" ? undefined : value;
}

function text(value: unknown): string | undefined {
  return value === undefined ? undefined : String(value);
}

/**
 * A key that differs from ours only in letter case, or a field of the file given as a key, is
 * almost surely meant as ours; ignored silently it would deploy the file's value instead.
 */
function misspelledKeys(keys: readonly string[]): string[] {
  const ours = new Map(KNOWN_KEYS.map((key) => [key.toLowerCase(), key]));
  const byField = new Map<string, string>(Object.entries(OVERRIDES).map(([key, field]) => [field, key]));
  const problems: string[] = [];
  for (const key of keys) {
    if (KNOWN_KEYS.includes(key)) continue;
    const meant = ours.get(key.toLowerCase()) ?? byField.get(key);
    if (meant) problems.push(`-c ${key}: unknown context key; did you mean -c ${meant}?`);
    else if (["feedsUrl", "author", "permalink", "hub"].includes(key))
      problems.push(`-c ${key}: not a context key; set ${key}: in feedpub.config.yaml`);
  }
  return problems;
}

/** The file's settings with the context's overrides, each checked by the core's own parser. */
function withOverrides(
  fromFile: SiteConfig,
  value: (key: string) => unknown,
  problems: string[],
): SiteConfig {
  let site: SiteConfig = fromFile;
  for (const [key, field] of Object.entries(OVERRIDES)) {
    const given = value(key);
    if (given === undefined) continue;
    const parsed = checkedSetting(key, field, field === "itemLimit" ? asNumber(given) : String(given));
    if (typeof parsed === "string") problems.push(parsed);
    else site = { ...site, [field]: parsed[field as keyof SiteConfig] };
  }
  const author = overriddenAuthor(fromFile, text(value("authorName")), text(value("authorEmail")));
  if (typeof author === "string") problems.push(author);
  else if (author) site = { ...site, author };
  return site;
}

/** `-c itemLimit=50` arrives as text; anything not a number is kept, for the parser to name. */
function asNumber(value: unknown): unknown {
  return typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
}

/** One setting parsed alone (beside a valid title and url); the problem is named by its key. */
function checkedSetting(key: string, field: string, value: unknown): SiteConfig | string {
  try {
    return parseConfig({ title: "t", url: "https://t.invalid/", [field]: value }, CONTEXT_SOURCE);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const problem = error.problems.find((p) => p.startsWith(`${field}:`)) ?? error.problems[0] ?? "";
    return `-c ${key}:${problem.slice(problem.indexOf(":") + 1)}`;
  }
}

/**
 * `-c authorName` names a new default author (with `-c authorEmail`, if given); `-c authorEmail`
 * alone changes the email of the file's author.
 */
function overriddenAuthor(
  fromFile: SiteConfig,
  name: string | undefined,
  email: string | undefined,
): SiteConfig["author"] | string | undefined {
  if (name === undefined && email === undefined) return undefined;
  const base = name === undefined ? fromFile.author : { name };
  if (!base) return "-c authorEmail: needs -c authorName (or an author: in the settings file)";
  const named = checkedSetting("authorName", "author", base);
  if (typeof named === "string" || email === undefined)
    return typeof named === "string" ? named : named.author;
  const withEmail = checkedSetting("authorEmail", "author", { ...base, email });
  if (typeof withEmail !== "string") return withEmail.author;
  return `-c authorEmail: must be an email address like editors@example.org, got ${quote(email)}`;
}

function domainProblems(domainName: string | undefined, certificateArn: string | undefined): string[] {
  const problems: string[] = [];
  if (domainName !== undefined && !HOST_NAME.test(domainName))
    problems.push(`-c domainName: must be a host name like feeds.example.org, got ${quote(domainName)}`);
  if (domainName !== undefined && certificateArn === undefined)
    problems.push("-c domainName: needs -c certificateArn, an ACM certificate in us-east-1 for that name");
  if (certificateArn === undefined) return problems;
  if (domainName === undefined)
    problems.push("-c certificateArn: needs -c domainName, the name the certificate is for");
  const region = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[\w-]+$/.exec(certificateArn)?.[1];
  if (region === undefined)
    problems.push(
      `-c certificateArn: must be an ACM certificate ARN like arn:aws:acm:us-east-1:123456789012:certificate/..., got ${quote(certificateArn)}`,
    );
  else if (region !== "us-east-1")
    problems.push(
      `-c certificateArn: CloudFront takes certificates from us-east-1 only, this one is in ${region}; request one there`,
    );
  return problems;
}

/**
 * The address the alarms go to. One at a domain reserved for documentation would deploy fine and
 * deliver nothing, the one failure alarms exist to prevent; allowed only for a stack to look at.
 */
function alarmEmailProblems(address: string | undefined, allowExample: boolean): string[] {
  if (address === undefined) return [];
  const problem = alarmEmailProblem(address);
  if (problem) return [`-c alarmEmail: ${problem}`];
  const domain = address.slice(address.lastIndexOf("@") + 1);
  if (allowExample || !EXAMPLE_HOST.test(domain.toLowerCase())) return [];
  return [
    `-c alarmEmail: ${quote(address)} is at an example domain, where no one receives the alarms; give an address that is read (or -c allowExampleUrl=true to only look at the stack)`,
  ];
}

function allowExampleUrl(value: unknown, problems: string[]): boolean {
  if (value === undefined || value === false || value === "false") return false;
  if (value === true || value === "true") return true;
  problems.push(`-c allowExampleUrl: must be true or false, got ${quote(String(value))}`);
  return false;
}

/**
 * The feedsUrl the file sets, if it sets one (its default, `<url>feeds/`, is not where the stack
 * serves feeds: the distribution is). With a custom domain the two must agree, or the feeds'
 * self links and media URLs would point away from where they are served.
 */
function ownFeedsUrl(file: string, feedsUrl: string, domainName: string | undefined): string | undefined {
  // Already read and validated by loadConfigFile: this only asks whether the field is there.
  const raw = loadYaml(readFileSync(file, "utf8")) as Record<string, unknown>;
  if (raw.feedsUrl === undefined || raw.feedsUrl === null) return undefined;
  const served = domainName === undefined ? undefined : `https://${domainName}/feeds/`;
  if (served !== undefined && feedsUrl !== served)
    throw new ConfigError(file, [
      `feedsUrl: is ${quote(feedsUrl)}, but -c domainName serves the feeds at ${quote(served)}; set feedsUrl to that or remove it`,
    ]);
  return feedsUrl;
}

/** A stack for an example site deploys fine and publishes feeds whose every link is dead. */
function refuseExampleUrl(url: string, fromContext: boolean, file: string): void {
  if (!EXAMPLE_HOST.test(parseHttpUrl(url)?.hostname ?? "")) return;
  const where = fromContext ? "-c siteUrl" : `url: in ${file}`;
  throw new DeploySettingsError(
    `feedpub: the site url ${quote(url)} (${where}) is an example address: the feeds would link to a site that is not yours. ` +
      (fromContext
        ? `Pass your site's address in -c siteUrl (or as url: in ${file}), `
        : `Set url: in ${file} to your site's address, `) +
      "or pass -c allowExampleUrl=true to synthesize a stack only to look at it.",
  );
}
