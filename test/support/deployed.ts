import { spawn, spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** A Lambda function as synthesized: its bundle and the environment the template gives it. */
export interface Deployed {
  readonly bundle: string;
  readonly environment: Record<string, string>;
}

type Template = {
  Resources: Record<
    string,
    { Type: string; Metadata?: Record<string, string>; Properties: Record<string, unknown> }
  >;
};

const REPO = new URL("../..", import.meta.url).pathname;
const RESULT_MARK = "@@handler-result@@";

/**
 * Runs `cdk synth` offline into `outDir` (no notices, no telemetry), with the repository's
 * feedpub.config.yaml, whose example site url the app refuses unless told this is only a look.
 */
export function synthesize(outDir: string): void {
  const args = ["cdk", "synth", "--no-notices", "--quiet", "-c", "allowExampleUrl=true", "--output", outDir];
  const synth = spawnSync("npx", args, {
    cwd: REPO,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: "1" },
    encoding: "utf8",
    timeout: 180_000,
  });
  if (synth.status !== 0) throw new Error(`cdk synth failed: ${synth.stderr}`);
}

/**
 * Finds a function of the synthesized stack by construct id ("Regenerate", "Reconcile") and
 * resolves its environment as CloudFormation would, with the given bucket name and distribution
 * domain standing in for the resources' runtime values.
 */
export async function deployedFunction(
  outDir: string,
  name: string,
  values: { bucket: string; distributionDomain: string },
): Promise<Deployed> {
  const template = JSON.parse(await readFile(join(outDir, "FeedpubStack.template.json"), "utf8")) as Template;
  const resolve = (value: unknown): string => {
    if (typeof value === "string") return value;
    const node = value as Record<string, unknown>;
    if ("Ref" in node && template.Resources[node.Ref as string]?.Type === "AWS::S3::Bucket")
      return values.bucket;
    if ("Fn::GetAtt" in node) {
      const [id, attribute] = node["Fn::GetAtt"] as [string, string];
      if (template.Resources[id]?.Type === "AWS::CloudFront::Distribution" && attribute === "DomainName") {
        return values.distributionDomain;
      }
    }
    if ("Fn::Join" in node) {
      const [separator, parts] = node["Fn::Join"] as [string, unknown[]];
      return parts.map(resolve).join(separator);
    }
    throw new Error(`unexpected value in the function environment: ${JSON.stringify(value)}`);
  };
  const entry = Object.values(template.Resources).find(
    (resource) =>
      resource.Type === "AWS::Lambda::Function" &&
      resource.Metadata?.["aws:cdk:path"]?.endsWith(`/${name}/Resource`),
  );
  if (!entry?.Metadata?.["aws:asset:path"])
    throw new Error(`no ${name} function with an asset in the template`);
  const variables = ((entry.Properties.Environment as { Variables?: Record<string, unknown> })?.Variables ??
    {}) as Record<string, unknown>;
  // The whole-site state machine cannot run here: without its ARN the function does what a stack
  // without it would (test/support/state-machine-driver.ts runs the state machine's part).
  const isMachine = (value: unknown) =>
    template.Resources[(value as { Ref?: string })?.Ref ?? ""]?.Type === "AWS::StepFunctions::StateMachine";
  return {
    bundle: join(outDir, entry.Metadata["aws:asset:path"], "index.js"),
    environment: Object.fromEntries(
      Object.entries(variables)
        .filter(([, value]) => !isMachine(value))
        .map(([key, value]) => [key, resolve(value)]),
    ),
  };
}

/** What one invocation in a fresh process returned, how long the process took and its peak memory. */
export interface Invocation {
  readonly result: unknown;
  /** From spawning the process to its exit. */
  readonly wallMs: number;
  /** Node's own start-up, until the runner's first line runs. */
  readonly bootMs: number;
  /** Loading the bundle (and the AWS SDK it requires). */
  readonly loadMs: number;
  /** Handling the first event. */
  readonly firstEventMs: number;
  readonly maxRssBytes: number;
}

/**
 * Runs a bundle's handler once in a fresh Node process, with only the template's environment plus
 * what Lambda itself provides (region, credentials, NODE_PATH to the runtime's AWS SDK) and
 * AWS_ENDPOINT_URL_S3. The handler logs to stdout, so its result follows a marker line.
 */
export function invokeFresh(
  fn: Deployed,
  event: unknown,
  aws: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string },
): Promise<Invocation> {
  const runner =
    `const MARK=${JSON.stringify(RESULT_MARK)};` +
    "let input='';process.stdin.on('data',c=>input+=c).on('end',async()=>{" +
    "const t0=performance.now();const {handler}=require(process.argv[1]);const t1=performance.now();" +
    "const out=await handler(JSON.parse(input));const t2=performance.now();" +
    "process.stdout.write('\\n'+MARK+JSON.stringify({out:out??null,rss:process.resourceUsage().maxRSS*1024," +
    "boot:t0,load:t1-t0,first:t2-t1})+'\\n');});";
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["-e", runner, fn.bundle], {
      env: {
        ...fn.environment,
        AWS_ENDPOINT_URL_S3: aws.endpoint,
        AWS_REGION: aws.region,
        AWS_ACCESS_KEY_ID: aws.accessKeyId,
        AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
        NODE_PATH: join(REPO, "node_modules"),
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", fail);
    child.on("close", (code) => {
      const wallMs = performance.now() - started;
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT_MARK));
      if (code !== 0 || !line) {
        fail(new Error(`bundle exited ${code}: ${stderr}\n${stdout}`));
        return;
      }
      const parsed = JSON.parse(line.slice(RESULT_MARK.length)) as {
        out: unknown;
        rss: number;
        boot: number;
        load: number;
        first: number;
      };
      done({
        result: parsed.out,
        wallMs,
        bootMs: parsed.boot,
        loadMs: parsed.load,
        firstEventMs: parsed.first,
        maxRssBytes: parsed.rss,
      });
    });
    child.stdin.end(JSON.stringify(event));
  });
}
