/**
 * The CDK app: one FeedpubStack (stack name "Feedpub"), checked by cdk-nag's AwsSolutions pack on
 * every synth. Settings come from context, e.g.
 *   cdk synth -c siteTitle="My blog" -c siteUrl=https://blog.example.org/ -c siteDescription=...
 *     -c siteLanguage=en -c authorName="Ann" -c authorEmail=ann@example.org -c itemLimit=50
 *     -c domainName=feeds.example.org -c certificateArn=arn:aws:acm:us-east-1:...
 * Defaults (title "feedpub", url https://example.com/) are only good enough to synthesize.
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { FeedpubStack } from "./feedpub-stack.ts";

/** Reads `-c name=value` (or cdk.json context); empty strings count as unset. */
function context(app: App, name: string): string | undefined {
  const value: unknown = app.node.tryGetContext(name);
  if (value === undefined || value === null || value === "") return undefined;
  return String(value);
}

function itemLimitFrom(app: App): number | undefined {
  const text = context(app, "itemLimit");
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new Error(`-c itemLimit must be a whole number, got "${text}"`);
  return n;
}

const app = new App();
const authorName = context(app, "authorName");
const authorEmail = context(app, "authorEmail");
if (authorEmail !== undefined && authorName === undefined)
  throw new Error("-c authorEmail needs -c authorName");
const description = context(app, "siteDescription");
const language = context(app, "siteLanguage");
const itemLimit = itemLimitFrom(app);
const domainName = context(app, "domainName");
const certificateArn = context(app, "certificateArn");

new FeedpubStack(app, "FeedpubStack", {
  stackName: "Feedpub",
  description: "feedpub: S3 content/ -> SQS -> Lambda -> feeds/ behind CloudFront",
  publisher: {
    site: {
      title: context(app, "siteTitle") ?? "feedpub",
      url: context(app, "siteUrl") ?? "https://example.com/",
      ...(description !== undefined ? { description } : {}),
      ...(language !== undefined ? { language } : {}),
      ...(authorName !== undefined
        ? { author: { name: authorName, ...(authorEmail !== undefined ? { email: authorEmail } : {}) } }
        : {}),
    },
    ...(itemLimit !== undefined ? { itemLimit } : {}),
    ...(domainName !== undefined ? { domainName } : {}),
  },
  ...(certificateArn !== undefined ? { certificateArn } : {}),
});

// Every synth is checked; an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
