/**
 * The whole-site state machine and its four functions, as the FeedPublisher deploys them. Bundling
 * is skipped (feed-publisher.test.ts bundles every function); these tests read the template.
 */
import { readFileSync } from "node:fs";
import { App, Stack, Validations } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { MEDIA_PREFIX } from "../../functions/core/media.ts";
import { CATALOG_PREFIX } from "../../functions/engine/state/shards.ts";
import * as layout from "../../functions/engine/whole/layout.ts";
import { FeedPublisher, type FeedPublisherProps } from "../../infra/feed-publisher.ts";
import { PENDING_PREFIX, RUNS_PREFIX, WHOLE_SITE_SIZING } from "../../infra/whole-site.ts";

type Json = Record<string, unknown>;
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

const CONTEXT = {
  ...(JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as { context: Json })
    .context,
  "aws:cdk:bundling-stacks": [],
};
const SITE: FeedPublisherProps["site"] = { title: "Whole", url: "https://blog.example.org" };
const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

type Node = { node: { defaultChild?: unknown } };
const STAGES = ["shuffle", "plan", "group", "reduce"] as const;

interface Synth {
  stack: Stack;
  publisher: FeedPublisher;
  template: Template;
  /** Logical id -> readable name, for {@link render}. */
  names: Record<string, string>;
  /** The logical id of a construct's resource. */
  id: (construct: Node) => string;
}

function synth(props: Partial<FeedPublisherProps> = {}): Synth {
  const app = new App({ context: CONTEXT });
  const stack = new Stack(app, "Test");
  const publisher = new FeedPublisher(stack, "FeedPublisher", { site: SITE, ...props });
  // cdk-nag as a validation plugin: an unacknowledged finding makes the synth throw.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const template = Template.fromStack(stack);
  const { wholeSite } = publisher;
  const id = (c: Node) => stack.getLogicalId(c.node.defaultChild as never);
  const names: Record<string, string> = {
    [id(publisher.bucket)]: "bucket",
    [id(publisher.stateMachine)]: "wholeSite",
    [id(publisher.regenerateFunction)]: "regenerate",
    [id(wholeSite.logGroup)]: "wholeSiteLogs",
  };
  for (const stage of STAGES) {
    names[id(wholeSite[`${stage}Function`])] = stage;
    names[id(wholeSite[`${stage}Function`].logGroup)] = `${stage}Logs`;
  }
  return { stack, publisher, template, names, id };
}

/** A CloudFormation value as text: Ref -> name, GetAtt -> name.Attr, Fn::Join joined. */
function render(value: unknown, names: Record<string, string>): string {
  if (typeof value === "string") return value;
  const v = value as Json;
  if (typeof v.Ref === "string") return names[v.Ref] ?? v.Ref;
  if (Array.isArray(v["Fn::GetAtt"])) {
    const [id, attr] = v["Fn::GetAtt"] as [string, string];
    return `${names[id] ?? id}.${attr}`;
  }
  if (Array.isArray(v["Fn::Join"])) {
    const [sep, parts] = v["Fn::Join"] as [string, unknown[]];
    return parts.map((p) => render(p, names)).join(sep);
  }
  // The state machine's name inside its own ARN: Fn::Select of Fn::Split of its Ref.
  const [index, split] = (v["Fn::Select"] ?? []) as [number, { "Fn::Split": [string, unknown] }];
  if (split) return `${render(split["Fn::Split"][1], names)}[${index}]`;
  return JSON.stringify(value);
}

/** The state machine's ASL, tokens rendered as names ("bucket", "shuffle.Arn", ...). */
function definitionOf({ template, names }: Synth): { States: Record<string, Json> } & Json {
  return JSON.parse(render(machineOf(template).DefinitionString, names));
}

/** Properties of the one state machine. */
function machineOf(template: Template): Json {
  const machines = Object.values(template.findResources("AWS::StepFunctions::StateMachine"));
  expect(machines).toHaveLength(1);
  return (machines[0] as { Properties: Json }).Properties;
}

/** The states inside a Distributed Map (its child workflow). */
const childStates = (map: Json | undefined): Json[] =>
  Object.values((map?.ItemProcessor as { States?: Record<string, Json> } | undefined)?.States ?? {});

/** Properties of the resource a name of {@link Synth.names} stands for. */
function propsNamed({ template, names }: Synth, name: string): Json {
  const id = Object.keys(names).find((k) => names[k] === name) as string;
  return (template.toJSON().Resources[id] as { Properties: Json }).Properties;
}

/** Every "action resource" pair granted to a role by the stack's AWS::IAM::Policy resources. */
function grantsOf({ template, names, id }: Synth, role: Node): string[] {
  const pairs: string[] = [];
  for (const policy of Object.values(template.findResources("AWS::IAM::Policy")) as Json[]) {
    const props = policy.Properties as { Roles: Json[]; PolicyDocument: { Statement: Statement[] } };
    if (!props.Roles.some((r) => r.Ref === id(role))) continue;
    for (const statement of props.PolicyDocument.Statement) {
      expect(statement.Effect).toBe("Allow");
      for (const action of list(statement.Action))
        for (const resource of list(statement.Resource)) pairs.push(`${action} ${render(resource, names)}`);
    }
  }
  return pairs.sort();
}

const roleOf = (fn: { role?: unknown }) => fn.role as Node;

describe("whole-site state machine (defaults)", () => {
  let s: Synth;
  let asl: ReturnType<typeof definitionOf>;
  beforeAll(() => {
    s = synth();
    asl = definitionOf(s);
  });

  it("lists content/ of the site bucket itself and batches the listing for the shuffle", () => {
    expect(asl.StartAt).toBe("Shuffle");
    expect(asl.States.Shuffle).toMatchObject({
      Type: "Map",
      ItemProcessor: { ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" } },
      ItemReader: {
        Resource: "arn:AWS::Partition:states:::s3:listObjectsV2",
        Parameters: { Bucket: "bucket", Prefix: "content/" },
      },
      ItemBatcher: {
        MaxItemsPerBatch: 2000,
        MaxInputBytesPerBatch: 262144,
        BatchInput: { "run.$": "$.run" },
      },
      MaxConcurrency: 100,
      ResultPath: null,
      Next: "PlanGroups",
    });
    // Key, ETag and Size only: less payload per batch.
    expect(asl.States.Shuffle?.ItemSelector).toEqual({
      "Key.$": "$$.Map.Item.Value.Key",
      "ETag.$": "$$.Map.Item.Value.Etag",
      "Size.$": "$$.Map.Item.Value.Size",
    });
    expect(childStates(asl.States.Shuffle)).toMatchObject([
      {
        Type: "Task",
        Resource: "arn:AWS::Partition:states:::lambda:invoke",
        Parameters: { FunctionName: "shuffle.Arn", "Payload.$": "$" },
        OutputPath: "$.Payload",
        End: true,
      },
    ]);
  });

  it("plans the groups, maps over $.groups with one group per child, then reduces", () => {
    expect(asl.States.PlanGroups).toMatchObject({
      Type: "Task",
      Parameters: { FunctionName: "plan.Arn", Payload: { "run.$": "$.run" } },
      OutputPath: "$.Payload",
      Next: "Groups",
    });
    expect(asl.States.Groups).toMatchObject({
      Type: "Map",
      ItemProcessor: { ProcessorConfig: { Mode: "DISTRIBUTED" } },
      ItemsPath: "$.groups",
      ItemSelector: { "run.$": "$.run", "group.$": "$$.Map.Item.Value" },
      MaxConcurrency: 100,
      ResultPath: null,
      Next: "Reduce",
    });
    expect(childStates(asl.States.Groups).map((state) => state.Parameters)).toEqual([
      { FunctionName: "group.Arn", "Payload.$": "$" },
    ]);
    expect(asl.States.Reduce).toMatchObject({
      Type: "Task",
      Parameters: { FunctionName: "reduce.Arn", Payload: { "run.$": "$.run" } },
      End: true,
    });
    expect(Object.keys(asl.States).sort()).toEqual(["Groups", "PlanGroups", "Reduce", "Shuffle"]);
  });

  it("retries Lambda service errors only and catches nothing, so any other error fails the run", () => {
    const tasks = [
      asl.States.PlanGroups,
      asl.States.Reduce,
      ...childStates(asl.States.Shuffle),
      ...childStates(asl.States.Groups),
    ] as Json[];
    expect(tasks).toHaveLength(4);
    for (const task of tasks) {
      expect(task.Catch).toBeUndefined();
      const errors = (task.Retry as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);
      expect(errors.length).toBeGreaterThan(0);
      for (const error of errors) expect(error).toMatch(/^Lambda\.\w+Exception$/);
    }
  });

  it("is a standard state machine with a 2-hour timeout, X-Ray tracing and ALL-level logs", () => {
    expect(asl.TimeoutSeconds).toBe(7200);
    const props = machineOf(s.template);
    expect(props).toMatchObject({
      StateMachineType: "STANDARD",
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: "ALL", IncludeExecutionData: false },
    });
    const [destination] = (props.LoggingConfiguration as { Destinations: { CloudWatchLogsLogGroup: Json }[] })
      .Destinations;
    expect(render(destination?.CloudWatchLogsLogGroup.LogGroupArn, s.names)).toBe("wholeSiteLogs.Arn");
  });

  it("sizes the four functions as the contract says, with Regenerate's environment", () => {
    const variables = (name: string) => (propsNamed(s, name).Environment as { Variables: Json }).Variables;
    const { BUCKET_NAME, SITE_CONFIG } = variables("regenerate");
    for (const [name, size] of Object.entries(WHOLE_SITE_SIZING)) {
      expect(propsNamed(s, name), name).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        Timeout: size.timeout.toSeconds(),
        MemorySize: size.memorySize,
        LoggingConfig: { LogFormat: "JSON", LogGroup: { Ref: expect.any(String) } },
      });
      // Not STATE_MACHINE_ARN: the stages start no runs.
      expect(variables(name), name).toEqual({ BUCKET_NAME, SITE_CONFIG });
    }
  });

  describe("IAM", () => {
    const logs = (fn: string) => [`logs:CreateLogStream ${fn}Logs.Arn`, `logs:PutLogEvents ${fn}Logs.Arn`];

    /** ListBucket, and each action of a rule on each of its prefixes: the contract's lists. */
    const s3 = (...rules: [string, ...string[]][]) => [
      "s3:ListBucket bucket.Arn",
      ...rules.flatMap(([actions, ...prefixes]) =>
        actions
          .split(",")
          .flatMap((action) => prefixes.map((prefix) => `s3:${action} bucket.Arn/${prefix}*`)),
      ),
    ];
    const STAGE_GRANTS = {
      shuffle: s3(
        ["GetObject", "content/"],
        ["PutObject", "_state/runs/"],
        ["GetObject,PutObject,DeleteObject", "feeds/media/"],
      ),
      plan: s3(["GetObject", "_state/"], ["PutObject", "_state/runs/"]),
      group: s3(["GetObject", "content/", "_state/"], ["PutObject", "_state/catalog/", "_state/runs/"]),
      reduce: s3(
        ["GetObject", "content/"],
        ["GetObject,PutObject,DeleteObject", "feeds/", "_state/"],
        ["GetObjectTagging,PutObjectTagging", "content/"],
      ),
    } as const;

    it.each(STAGES)("%s: exactly the contract's S3 grants and its own log group", (stage) => {
      const role = roleOf(s.publisher.wholeSite[`${stage}Function`]);
      expect(grantsOf(s, role)).toEqual([...STAGE_GRANTS[stage], ...logs(stage)].sort());
    });

    it("the group writes no feed, the shuffle no catalog shard, and no stage writes content/", () => {
      const write = /^s3:(Put|Delete)Object /;
      const writes = (stage: (typeof STAGES)[number]) =>
        grantsOf(s, roleOf(s.publisher.wholeSite[`${stage}Function`])).filter((g) => write.test(g));
      expect(writes("group").filter((g) => g.includes("/feeds/"))).toEqual([]);
      expect(writes("shuffle").filter((g) => /\/_state\/(catalog\/)?\*$/.test(g))).toEqual([]);
      for (const stage of STAGES) expect(writes(stage).filter((g) => g.includes("/content/"))).toEqual([]);
    });

    it("the state machine invokes the four, lists the bucket, runs its own children, traces and logs", () => {
      const grants = grantsOf(s, s.publisher.stateMachine.role);
      const invokes = STAGES.flatMap((fn) => [
        `lambda:InvokeFunction ${fn}.Arn`,
        `lambda:InvokeFunction ${fn}.Arn:*`,
      ]);
      const executions = "arn:AWS::Partition:states:AWS::Region:AWS::AccountId:execution:wholeSite[6]";
      expect(grants.filter((g) => !g.endsWith(" *"))).toEqual(
        [
          ...invokes,
          "s3:ListBucket bucket.Arn",
          "states:StartExecution wholeSite",
          `states:DescribeExecution ${executions}:*`,
          `states:StopExecution ${executions}:*`,
          `states:RedriveExecution ${executions}/Groups:*`,
          `states:RedriveExecution ${executions}/Shuffle:*`,
        ].sort(),
      );
      // Resource "*" only where the API takes no resource: X-Ray and vended log delivery.
      for (const grant of grants.filter((g) => g.endsWith(" *")))
        expect(grant).toMatch(/^(xray|logs):\w+ \*$/);
    });

    it("Regenerate and Reconcile may start executions of this state machine, and nothing else of states:*", () => {
      const { regenerateFunction, reconcileFunction } = s.publisher;
      for (const fn of [regenerateFunction, reconcileFunction])
        expect(grantsOf(s, roleOf(fn)).filter((g) => g.startsWith("states:"))).toEqual([
          "states:StartExecution wholeSite",
        ]);
      // No other role but the state machine's own touches Step Functions.
      const withStates = Object.values(s.template.findResources("AWS::IAM::Policy"))
        .filter((policy) => JSON.stringify(policy).includes('"states:'))
        .flatMap((policy) => (policy.Properties as { Roles: Json[] }).Roles.map((r) => r.Ref));
      const roleIds = [regenerateFunction, reconcileFunction, s.publisher.stateMachine].map((c) =>
        s.id(roleOf(c)),
      );
      expect([...new Set(withStates)].sort()).toEqual(roleIds.sort());
    });
  });

  it("alarms, once per run, on executions that failed, timed out or were aborted", () => {
    const topic = { Ref: s.id(s.publisher.alarmTopic) };
    for (const [name, metric] of [
      ["Failed", "ExecutionsFailed"],
      ["TimedOut", "ExecutionsTimedOut"],
      ["Aborted", "ExecutionsAborted"],
    ]) {
      s.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        AlarmName: `Test-WholeSiteRun${name}`,
        AlarmDescription: Match.anyValue(),
        Namespace: "AWS/States",
        MetricName: metric,
        Dimensions: [{ Name: "StateMachineArn", Value: { Ref: s.id(s.publisher.stateMachine) } }],
        Statistic: "Sum",
        Period: 300,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        TreatMissingData: "notBreaching",
        AlarmActions: [topic],
        OKActions: Match.absent(),
      });
    }
  });

  it("expires run parts after 2 days and pending uploads after 7, at the engine's prefixes", () => {
    expect([RUNS_PREFIX, PENDING_PREFIX]).toEqual([layout.RUNS_PREFIX, layout.PENDING_PREFIX]);
    // The grants above name these, as the engine does.
    expect([CATALOG_PREFIX, MEDIA_PREFIX]).toEqual(["_state/catalog/", "feeds/media/"]);
    s.template.hasResourceProperties("AWS::S3::Bucket", {
      VersioningConfiguration: { Status: "Enabled" },
      LifecycleConfiguration: {
        Rules: Match.arrayWith(
          [
            ["expire-run-parts", "_state/runs/", 2],
            ["expire-pending-uploads", "_state/pending/", 7],
          ].map(([Id, Prefix, ExpirationInDays]) => ({
            Id,
            Prefix,
            ExpirationInDays,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            Status: "Enabled",
          })),
        ),
      },
    });
  });

  it("outputs the state machine's ARN", () => {
    s.template.hasOutput("WholeSiteStateMachineArn", { Value: { Ref: s.id(s.publisher.stateMachine) } });
  });

  it("is nag-clean, acknowledging IAM5 only for named resources", () => {
    expect(new AwsSolutionsChecks().validateScope(s.stack).violations).toEqual([]);
    expect(Annotations.fromStack(s.stack).findError("*", Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(s.stack).findWarning("*", Match.anyValue())).toEqual([]);
    const acknowledged = s.publisher.wholeSite.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.keys(m.data as Json));
    const iam5 = acknowledged.filter((id) => id.includes("IAM5"));
    expect(iam5.length).toBeGreaterThan(0);
    for (const id of iam5) expect(id).toMatch(/IAM5\[Resource::.+\]$/);
    // The one bare "*": X-Ray and log delivery, on the state machine's role alone.
    expect(iam5.filter((id) => id.endsWith("[Resource::*]"))).toHaveLength(1);
  });
});

describe("whole-site state machine (settings)", () => {
  it("passes wholeSiteConcurrency to both maps and shuffleBatchSize to the batcher", () => {
    const asl = definitionOf(synth({ wholeSiteConcurrency: 7, shuffleBatchSize: 500 }));
    expect(asl.States.Shuffle).toMatchObject({ MaxConcurrency: 7, ItemBatcher: { MaxItemsPerBatch: 500 } });
    expect(asl.States.Groups).toMatchObject({ MaxConcurrency: 7 });
  });

  it.each([
    ["wholeSiteConcurrency", 0, 10_000],
    ["wholeSiteConcurrency", 10_001, 10_000],
    ["shuffleBatchSize", 2.5, 100_000],
  ] as const)("refuses %s %d", (setting, value, max) => {
    const stack = new Stack(new App({ context: CONTEXT }), "Bad");
    expect(() => new FeedPublisher(stack, "P", { site: SITE, [setting]: value })).toThrow(
      `FeedPublisher: ${setting} must be a whole number from 1 to ${max}, got ${value}`,
    );
  });
});
