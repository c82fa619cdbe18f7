/**
 * The CDK app: one FeedpubStack (stack name "Feedpub"), checked by cdk-nag's AwsSolutions pack on
 * every synth. The site settings are feedpub.config.yaml, the file `feedpub build` and
 * `feedpub rebuild --bucket` read (another with `-c config=FILE`); context may override single
 * settings and carries the deploy-only ones:
 *   cdk deploy -c siteTitle="My blog" -c siteUrl=https://blog.example.org/ -c siteDescription=...
 *     -c siteLanguage=en -c authorName="Ann" -c authorEmail=ann@example.org -c itemLimit=50
 *     -c domainName=feeds.example.org -c certificateArn=arn:aws:acm:us-east-1:...
 *     -c alarmEmail=ops@example.org (subscribed to the alarm topic; keep it in cdk.json's context,
 *     since a deploy without it removes the subscription)
 * A site url on an example domain is refused unless `-c allowExampleUrl=true` (npm run synth).
 */
import { pathToFileURL } from "node:url";
import { App, type AppProps, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { ConfigError } from "../functions/core/errors.ts";
import { DeploySettingsError, deploySettings } from "./deploy-settings.ts";
import { FeedpubStack } from "./feedpub-stack.ts";

/** Builds the app; `props.context` stands in for `-c` values (the CLI passes them in the environment). */
export async function createApp(props: AppProps = {}): Promise<App> {
  const app = new App(props);
  const settings = await deploySettings(app.node.getAllContext() as Record<string, unknown>);
  new FeedpubStack(app, "FeedpubStack", {
    stackName: "Feedpub",
    description: "feedpub: S3 content/ -> SQS -> Lambda -> feeds/ behind CloudFront",
    ...settings,
  });
  // Every synth is checked; an unacknowledged finding fails it.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    // Synthesized here rather than at exit, so that a refused app writes no assembly.
    (await createApp({ autoSynth: false })).synth();
  } catch (error) {
    // A settings problem is the user's to fix: its message, not a stack trace.
    if (!(error instanceof ConfigError || error instanceof DeploySettingsError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  }
}
