/**
 * How every feedpub Lambda is built: bundled by esbuild from functions/handlers, with a role and a
 * log group of its own, and S3 grants written as exact actions on exact prefixes. Wiring only.
 */
import { fileURLToPath } from "node:url";
import { type Duration, Stack, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";

/** Key prefix editors upload articles under; the only prefix that triggers a regeneration. */
export const CONTENT_PREFIX = "content/";
/** Key prefix of the published feeds; the only prefix CloudFront may read. */
export const FEEDS_PREFIX = "feeds/";
/** Key prefix of the publisher's private state (never served). */
export const STATE_PREFIX = "_state/";

/** Lambda runtime of every function; the esbuild target below must follow it. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_22_X;
const ESBUILD_TARGET = "node22";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Where the Lambda entry files are: one per function. */
export const HANDLERS_DIR = fileURLToPath(new URL("../functions/handlers/", import.meta.url));

/** What differs between the functions. */
export interface FunctionOptions {
  /** Entry file, usually `${HANDLERS_DIR}<name>.ts`. */
  readonly entry: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly timeout: Duration;
  readonly memorySize: number;
}

/** A function with its own role (allowed to write its own log group and nothing else yet). */
export function createFunction(
  scope: Construct,
  id: string,
  options: FunctionOptions,
): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: options.logRetention });
  // An own role instead of NodejsFunction's default, which attaches the AWSLambdaBasicExecutionRole
  // managed policy (logs:CreateLogGroup/CreateLogStream/PutLogEvents on every log group).
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
    description: `feedpub ${id} function`,
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      resources: [logGroup.logGroupArn],
    }),
  );

  const fn = new nodejs.NodejsFunction(scope, id, {
    entry: options.entry,
    handler: "handler",
    description: options.description,
    runtime: FUNCTION_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    timeout: options.timeout,
    memorySize: options.memorySize,
    role,
    environment: options.environment,
    loggingFormat: lambda.LoggingFormat.JSON,
    logGroup,
    projectRoot: REPO_ROOT,
    depsLockFilePath: `${REPO_ROOT}package-lock.json`,
    bundling: {
      forceDockerBundling: false,
      format: nodejs.OutputFormat.CJS,
      target: ESBUILD_TARGET,
      minify: true,
      // The runtime provides AWS SDK v3. Bundled and minified, the S3 client alone is 483 KB
      // (three times the rest) and started only 0–60 ms sooner in the bench (BENCHMARKS.md).
      externalModules: ["@aws-sdk/*"],
      // Paths relative to projectRoot, where esbuild runs. feed writes XML through xml-js's
      // js2xml: our writer replaces it, byte for byte the same and without xml-js's XML parser
      // and sax (see xml-writer.ts). A shim keeps the YAML writer out: front matter only loads.
      esbuildArgs: {
        "--alias:xml-js": "./functions/core/render/xml-writer.ts",
        "--alias:js-yaml": "./functions/js-yaml-loader.cjs",
      },
      logLevel: nodejs.LogLevel.ERROR,
    },
  });
  // Pinned rather than NODEJS_LATEST, so a CDK upgrade never changes the runtime unseen.
  Validations.of(fn).acknowledge({
    id: "AwsSolutions-L1",
    reason: `Runtime pinned to ${FUNCTION_RUNTIME.name} to match the bundle's esbuild target (${ESBUILD_TARGET}); moving it is a deliberate change of FUNCTION_RUNTIME and ESBUILD_TARGET.`,
  });
  return fn;
}

/**
 * Grants `actions` on the objects under each of `prefixes` (exact actions: grantRead and
 * grantReadWrite add wildcard ones such as s3:GetObject* and s3:DeleteObject*), and acknowledges
 * the key wildcard each prefix needs, on this role alone.
 */
export function grantObjects(
  fn: lambda.IFunction,
  bucket: s3.IBucket,
  grant: { sid: string; actions: string[]; prefixes: string[] },
): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: grant.sid,
      actions: grant.actions,
      resources: grant.prefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`)),
    }),
  );
  const role = fn.role;
  if (!role) throw new Error(`grantObjects: ${fn.node.path} has no role`);
  const bucketLogicalId = Stack.of(role).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  for (const prefix of grant.prefixes) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${prefix}*]`,
      reason: `Object ARNs under ${prefix} in the feedpub bucket: the function handles any key under this prefix and nothing outside it.`,
    });
  }
}

/**
 * s3:ListBucket on the bucket. Without it S3 answers 403 instead of 404 for a missing key, and the
 * handlers rely on 404; no s3:prefix condition, since a GetObject request carries no prefix, so a
 * conditioned grant would bring the 403s back.
 */
export function grantList(fn: lambda.IFunction, bucket: s3.IBucket): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({ sid: "ListBucket", actions: ["s3:ListBucket"], resources: [bucket.bucketArn] }),
  );
}
