/**
 * The CDK app reads feedpub.config.yaml, the file `feedpub build` reads, and lets context override
 * single settings. In process through createApp (bundling skipped: these tests look at the
 * template, not the bundles), and as the real CLI runs it: `cdk synth` and `tsx infra/app.ts`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { createApp } from "../../infra/app.ts";

type Json = Record<string, unknown>;

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const CDK_JSON = JSON.parse(readFileSync(join(REPO, "cdk.json"), "utf8")) as { context: Json };
const DIR = mkdtempSync(join(tmpdir(), "feedpub-app-"));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const SETTINGS = `title: Ann's Notes
url: https://notes.ann.dev/
description: Short notes.
language: en-GB
author:
  name: Ann Editor
  email: ann@ann.dev
  url: https://ann.dev/
itemLimit: 7
permalink: /:year/:slug/
hub: https://hub.ann.dev/
`;
const ARN = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555";

let files = 0;
/** A settings file in the temporary folder. */
function settingsFile(text: string): string {
  const path = join(DIR, `site-${files++}.yaml`);
  writeFileSync(path, text);
  return path;
}

/** Synthesizes the app with these context values; skipping bundling keeps it to a second or two. */
async function synth(context: Json) {
  const app = await createApp({
    context: { ...CDK_JSON.context, "aws:cdk:bundling-stacks": [], ...context },
  });
  return Template.fromStack(app.node.findChild("FeedpubStack") as Stack);
}

/** SITE_CONFIG of every function, with the distribution's domain filled in as at deploy time. */
function siteConfigs(template: Template): Json[] {
  const functions = Object.values(template.findResources("AWS::Lambda::Function")).filter((fn) =>
    JSON.stringify(fn).includes("SITE_CONFIG"),
  );
  // Regenerate, Reconcile and the four whole-site stages.
  expect(functions).toHaveLength(6);
  return functions.map((fn) => {
    const value = (fn as { Properties: { Environment: { Variables: { SITE_CONFIG: unknown } } } }).Properties
      .Environment.Variables.SITE_CONFIG;
    if (typeof value === "string") return JSON.parse(value) as Json;
    const [, parts] = (value as { "Fn::Join": [string, unknown[]] })["Fn::Join"];
    return JSON.parse(parts.map((p) => (typeof p === "string" ? p : "d1.cloudfront.net")).join("")) as Json;
  });
}

/** The message createApp rejects with. */
async function failure(context: Json): Promise<string> {
  try {
    await synth(context);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("synth succeeded");
}

describe("CDK app settings from feedpub.config.yaml", () => {
  it("passes every setting of the file to both functions' SITE_CONFIG", async () => {
    const template = await synth({ config: settingsFile(SETTINGS) });

    for (const config of siteConfigs(template)) {
      expect(config).toEqual({
        title: "Ann's Notes",
        url: "https://notes.ann.dev/",
        feedsUrl: "https://d1.cloudfront.net/feeds/",
        description: "Short notes.",
        language: "en-GB",
        author: { name: "Ann Editor", email: "ann@ann.dev", url: "https://ann.dev/" },
        itemLimit: 7,
        permalink: "/:year/:slug/",
        hub: "https://hub.ann.dev/",
      });
    }
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.LandingPageUrl?.Value)).toContain("/feeds/index.html");
    expect(JSON.stringify(outputs.FeedsUrl?.Value)).toContain("/feeds/");
  });

  it("passes the family and podcast settings as written, so the functions' parser reads them as the CLI does", async () => {
    const podcast =
      "podcast:\n  image: https://notes.ann.dev/art.png\n  category: [News > Daily News]\n  explicit: false\n";
    const template = await synth({
      config: settingsFile(`${SETTINGS}sectionFeeds:\n  depth: 2\nlanguageFeeds: true\n${podcast}`),
    });
    for (const config of siteConfigs(template)) {
      expect(config).toMatchObject({
        sectionFeeds: { depth: 2 },
        languageFeeds: true,
        podcast: { image: "https://notes.ann.dev/art.png", category: ["News > Daily News"], explicit: false },
      });
      const parsed = parseConfig(config);
      expect(parsed).toMatchObject({ sectionDepth: 2, languageFeeds: "all" });
      expect(parsed.podcast?.categories).toEqual([{ name: "News", sub: "Daily News" }]);
    }
    await expect(synth({ config: settingsFile(`${SETTINGS}sectionFeeds: sideways\n`) })).rejects.toThrow(
      /sectionFeeds: must be true, false or \{ depth: 0 to 4 \}/,
    );
  });

  it("lets context values override single settings, keeping the rest of the file", async () => {
    const template = await synth({
      config: settingsFile(SETTINGS),
      siteTitle: "Other title",
      siteUrl: "https://other.ann.dev",
      siteDescription: "Other description",
      siteLanguage: "fr",
      itemLimit: "12", // the CLI hands -c values over as text
      authorName: "Bob",
      authorEmail: "bob@ann.dev",
    });

    for (const config of siteConfigs(template)) {
      expect(config).toMatchObject({
        title: "Other title",
        url: "https://other.ann.dev/",
        description: "Other description",
        language: "fr",
        author: { name: "Bob", email: "bob@ann.dev" },
        itemLimit: 12,
        permalink: "/:year/:slug/",
        hub: "https://hub.ann.dev/",
      });
    }
  });

  it("takes -c authorEmail alone as a new email for the file's author", async () => {
    const template = await synth({ config: settingsFile(SETTINGS), authorEmail: "desk@ann.dev" });
    expect(siteConfigs(template)[0]?.author).toEqual({
      name: "Ann Editor",
      email: "desk@ann.dev",
      url: "https://ann.dev/",
    });
  });

  it("uses the file's feedsUrl when it sets one, and the custom domain when given", async () => {
    const own = settingsFile(`${SETTINGS}feedsUrl: https://notes.ann.dev/feeds/\n`);
    const proxied = await synth({ config: own });
    expect(siteConfigs(proxied)[0]?.feedsUrl).toBe("https://notes.ann.dev/feeds/");
    proxied.hasOutput("RssFeedUrl", { Value: "https://notes.ann.dev/feeds/rss.xml" });

    const domain = await synth({
      config: settingsFile(SETTINGS),
      domainName: "feeds.ann.dev",
      certificateArn: ARN,
    });
    expect(siteConfigs(domain)[0]?.feedsUrl).toBe("https://feeds.ann.dev/feeds/");
    domain.hasOutput("LandingPageUrl", { Value: "https://feeds.ann.dev/feeds/index.html" });
    const distributions = domain.findResources("AWS::CloudFront::Distribution");
    expect(JSON.stringify(distributions)).toContain(ARN);
    // The name a custom domain's CNAME points at.
    domain.hasOutput("DistributionDomainName", {
      Value: { "Fn::GetAtt": [Object.keys(distributions)[0], "DomainName"] },
    });
  });
});

describe("CDK app settings errors", () => {
  it("names the context key and the reason for each bad context value, all at once", async () => {
    const message = await failure({
      config: settingsFile(SETTINGS),
      siteUrl: "ftp://notes.ann.dev/",
      siteTitle: " ",
      siteLanguage: "e n",
      itemLimit: "lots",
      authorEmail: "not-an-address",
      allowExampleUrl: "yes",
    });

    expect(message.split("\n")).toEqual([
      "cdk context (-c): invalid configuration",
      '  - -c siteTitle: must be a non-empty string, got " "',
      '  - -c siteUrl: must be an absolute http(s) URL, got "ftp://notes.ann.dev/"',
      '  - -c siteLanguage: must be a language tag like "en" or "en-GB", got "e n"',
      '  - -c itemLimit: must be a whole number from 1 to 1000, got "lots"',
      '  - -c authorEmail: must be an email address like editors@example.org, got "not-an-address"',
      '  - -c allowExampleUrl: must be true or false, got "yes"',
    ]);
  });

  it("names the key for a bad author name and for an email with no author to belong to", async () => {
    expect(await failure({ config: settingsFile(SETTINGS), authorName: "x".repeat(201) })).toContain(
      "  - -c authorName: the name is longer than 200 characters",
    );
    const noAuthor = settingsFile("title: T\nurl: https://t.ann.dev/\n");
    expect(await failure({ config: noAuthor, authorEmail: "a@ann.dev" })).toContain(
      "  - -c authorEmail: needs -c authorName (or an author: in the settings file)",
    );
  });

  it("checks the custom domain and its certificate, naming the keys", async () => {
    const config = settingsFile(SETTINGS);
    expect(await failure({ config, domainName: "https://feeds.ann.dev/" })).toContain(
      '  - -c domainName: must be a host name like feeds.example.org, got "https://feeds.ann.dev/"',
    );
    expect(await failure({ config, domainName: "feeds.ann.dev" })).toContain(
      "  - -c domainName: needs -c certificateArn, an ACM certificate in us-east-1 for that name",
    );
    expect(await failure({ config, certificateArn: ARN })).toContain(
      "  - -c certificateArn: needs -c domainName, the name the certificate is for",
    );
    expect(await failure({ config, domainName: "feeds.ann.dev", certificateArn: "my-cert" })).toContain(
      '  - -c certificateArn: must be an ACM certificate ARN like arn:aws:acm:us-east-1:123456789012:certificate/..., got "my-cert"',
    );
    expect(
      await failure({
        config,
        domainName: "feeds.ann.dev",
        certificateArn: ARN.replace("us-east-1", "eu-west-1"),
      }),
    ).toContain(
      "  - -c certificateArn: CloudFront takes certificates from us-east-1 only, this one is in eu-west-1; request one there",
    );
  });

  it("refuses a feedsUrl in the file that the custom domain contradicts", async () => {
    const config = settingsFile(`${SETTINGS}feedsUrl: https://d1.cloudfront.net/feeds/\n`);
    expect(await failure({ config, domainName: "feeds.ann.dev", certificateArn: ARN })).toBe(
      `${config}: invalid configuration\n` +
        '  - feedsUrl: is "https://d1.cloudfront.net/feeds/", but -c domainName serves the feeds at "https://feeds.ann.dev/feeds/"; set feedsUrl to that or remove it',
    );
  });

  it("points a mistyped key, or a file field given as a key, to the right place", async () => {
    const message = await failure({
      config: settingsFile(SETTINGS),
      siteURL: "https://x.ann.dev/",
      url: "https://x.ann.dev/",
      hub: "https://hub.ann.dev/",
    });
    expect(message.split("\n").slice(1)).toEqual([
      "  - -c siteURL: unknown context key; did you mean -c siteUrl?",
      "  - -c url: unknown context key; did you mean -c siteUrl?",
      "  - -c hub: not a context key; set hub: in feedpub.config.yaml",
    ]);
  });

  it("names the file and the field when the YAML is wrong", async () => {
    const config = settingsFile(SETTINGS.replace("itemLimit: 7", "itemLimit: 0"));
    expect(await failure({ config })).toBe(
      `${config}: invalid configuration\n  - itemLimit: must be a whole number from 1 to 1000, got 0`,
    );
    const broken = settingsFile("title: T\nurl: [https://t.ann.dev/\n");
    expect(await failure({ config: broken })).toMatch(
      new RegExp(`^${broken}: invalid configuration\\n  - not valid YAML: .* at line \\d+, column \\d+$`),
    );
  });

  it("names a missing settings file and how to name another", async () => {
    const missing = join(DIR, "nowhere.yaml");
    expect(await failure({ config: missing })).toBe(
      `${missing}: invalid configuration\n  - not found; create it (see README, "Site settings") or pass -c config=FILE`,
    );
  });
});

describe("CDK app alarm email (-c alarmEmail)", () => {
  const subscriptions = (template: Template) =>
    Object.values(template.findResources("AWS::SNS::Subscription"));

  it("subscribes the address to the alarm topic, and no one without it", async () => {
    const config = settingsFile(SETTINGS);
    const withEmail = await synth({ config, alarmEmail: "ops@ann.dev" });
    const [topic] = Object.keys(withEmail.findResources("AWS::SNS::Topic"));
    expect(subscriptions(withEmail)).toEqual([
      expect.objectContaining({
        Properties: { Protocol: "email", Endpoint: "ops@ann.dev", TopicArn: { Ref: topic } },
      }),
    ]);
    withEmail.hasOutput("AlarmTopicArn", { Value: { Ref: topic } });

    const without = await synth({ config });
    expect(subscriptions(without)).toEqual([]);
    // The alarms exist either way: the topic can be subscribed to by hand.
    expect(Object.keys(without.findResources("AWS::CloudWatch::Alarm")).length).toBeGreaterThan(0);
    // An empty -c alarmEmail= means none, like every other key.
    expect(subscriptions(await synth({ config, alarmEmail: "" }))).toEqual([]);
  });

  it("refuses an address that is not one email address, naming the key", async () => {
    const config = settingsFile(SETTINGS);
    expect(await failure({ config, alarmEmail: "ops at ann.dev" })).toBe(
      "cdk context (-c): invalid configuration\n" +
        '  - -c alarmEmail: must be one email address like ops@example.org, got "ops at ann.dev"',
    );
    expect(await failure({ config, alarmEmail: "ops@ann.dev,dev@ann.dev" })).toContain(
      '  - -c alarmEmail: must be one email address like ops@example.org, got "ops@ann.dev,dev@ann.dev"',
    );
    expect(await failure({ config, alarmemail: "ops@ann.dev" })).toContain(
      "  - -c alarmemail: unknown context key; did you mean -c alarmEmail?",
    );
  });

  it("refuses an address at an example domain unless allowExampleUrl, as for the site url", async () => {
    const config = settingsFile(SETTINGS);
    expect(await failure({ config, alarmEmail: "ops@Example.ORG" })).toBe(
      "cdk context (-c): invalid configuration\n" +
        '  - -c alarmEmail: "ops@Example.ORG" is at an example domain, where no one receives the alarms; give an address that is read (or -c allowExampleUrl=true to only look at the stack)',
    );
    const looked = await synth({ config, alarmEmail: "ops@example.org", allowExampleUrl: "true" });
    expect(subscriptions(looked)).toHaveLength(1);
    // A domain that only contains "example" is someone's.
    expect(subscriptions(await synth({ config, alarmEmail: "ops@myexample.com" }))).toHaveLength(1);
  });
});

describe("CDK app and example site urls", () => {
  const sample = join(REPO, "feedpub.config.yaml");

  it("refuses the repository's sample settings (news.example.org) and says what to do", async () => {
    expect(await failure({ config: sample })).toBe(
      `feedpub: the site url "https://news.example.org/" (url: in ${sample}) is an example address: ` +
        `the feeds would link to a site that is not yours. Set url: in ${sample} to your site's address, ` +
        "or pass -c allowExampleUrl=true to synthesize a stack only to look at it.",
    );
  });

  it("refuses an example url given as -c siteUrl, naming the key", async () => {
    const config = settingsFile(SETTINGS);
    expect(await failure({ config, siteUrl: "https://example.com/" })).toBe(
      `feedpub: the site url "https://example.com/" (-c siteUrl) is an example address: ` +
        `the feeds would link to a site that is not yours. Pass your site's address in -c siteUrl (or as url: in ${config}), ` +
        "or pass -c allowExampleUrl=true to synthesize a stack only to look at it.",
    );
    for (const url of ["https://feeds.example.net/", "http://EXAMPLE.ORG/blog/", "https://www.example/"])
      expect(await failure({ config, siteUrl: url })).toContain("is an example address");
  });

  it("accepts an example url with allowExampleUrl, and a name that only contains 'example'", async () => {
    for (const allowExampleUrl of [true, "true"]) {
      const template = await synth({ config: sample, allowExampleUrl });
      expect(siteConfigs(template)[0]?.url).toBe("https://news.example.org/");
    }
    const template = await synth({ config: settingsFile(SETTINGS), siteUrl: "https://myexample.com/" });
    expect(siteConfigs(template)[0]?.url).toBe("https://myexample.com/");
  });
});

describe("the CDK app as the CLI runs it", () => {
  const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: "1" };
  const run = (command: string, args: string[], cwd: string) =>
    spawnSync("npx", [command, ...args], { cwd, env, encoding: "utf8", timeout: 120_000 });
  const out = () => mkdtempSync(join(DIR, "cdk-out-"));

  it("`cdk synth` without allowExampleUrl stops at the sample's example url, with the message alone", () => {
    const result = run("cdk", ["synth", "--no-notices", "--quiet", "--output", out()], REPO);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      'feedpub: the site url "https://news.example.org/" (url: in feedpub.config.yaml) is an example address',
    );
    expect(result.stderr).toContain("pass -c allowExampleUrl=true");
    expect(result.stderr).not.toMatch(/^\s+at /m); // no stack trace
  }, 120_000);

  it("`cdk synth -c siteUrl=...` names the context key when the value is bad", () => {
    const args = ["synth", "--no-notices", "--quiet", "-c", "siteUrl=news.example.org", "--output", out()];
    const result = run("cdk", args, REPO);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      '  - -c siteUrl: must be an absolute http(s) URL, got "news.example.org"',
    );
    expect(result.stderr).not.toMatch(/^\s+url:/m);
  }, 120_000);

  it("`cdk synth -c alarmEmail=...` refuses a bad address with the message alone", () => {
    const args = ["synth", "--no-notices", "--quiet", "-c", "allowExampleUrl=true", "-c", "alarmEmail=ops@"];
    const result = run("cdk", [...args, "--output", out()], REPO);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      '  - -c alarmEmail: must be one email address like ops@example.org, got "ops@"',
    );
    expect(result.stderr).not.toMatch(/^\s+at /m);
  }, 120_000);

  it("reads feedpub.config.yaml from the working directory by default", () => {
    const cwd = mkdtempSync(join(DIR, "cwd-"));
    writeFileSync(join(cwd, "feedpub.config.yaml"), "title: T\nurl: https://t.ann.dev/\nhub: nope\n");
    const tsx = join(REPO, "node_modules", ".bin", "tsx"); // npx would look for it in cwd
    const result = spawnSync(tsx, [join(REPO, "infra", "app.ts")], {
      cwd,
      env: { ...env, CDK_OUTDIR: out() },
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      'feedpub.config.yaml: invalid configuration\n  - hub: must be an absolute http(s) URL, got "nope"\n',
    );
  }, 120_000);
});
