import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { App, Duration, Stack, Validations } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { Certificate } from "aws-cdk-lib/aws-certificatemanager";
import { Metric } from "aws-cdk-lib/aws-cloudwatch";
import { Schedule } from "aws-cdk-lib/aws-events";
import type { CfnRole } from "aws-cdk-lib/aws-iam";
import { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { FEEDS_CSP, negotiatedType, variesByAccept } from "../../functions/core/negotiate.ts";
import { alarmEmailProblem } from "../../infra/alarms.ts";
import {
  FEEDS_PREFIX,
  FeedPublisher,
  type FeedPublisherProps,
  FUNCTION_SIZING,
} from "../../infra/feed-publisher.ts";

type Json = Record<string, unknown>;

// The feature flags `cdk synth` uses (cdk.json), plus asset metadata, which the CLI turns on and a
// test App must ask for to find the bundles.
const APP_CONTEXT = {
  ...(JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as { context: Json })
    .context,
  "aws:cdk:enable-asset-metadata": true,
};
const SITE: FeedPublisherProps["site"] = {
  title: "Test feeds",
  url: "https://blog.example.org",
  description: "Notes",
  language: "en-GB",
  author: { name: "Ann Editor", email: "ann@example.org" },
};

interface Statement {
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: Json;
}

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * Renders a CloudFormation value as readable text: {Ref: X} -> X, {Fn::GetAtt: [X, Arn]} -> X.Arn,
 * Fn::Join concatenated. Logical ids are then replaced by names via `names`.
 */
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
  return JSON.stringify(value);
}

function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnRole);
}

/** What both buckets must have: no public access of any kind, S3-managed encryption. */
const PRIVATE_ENCRYPTED = {
  PublicAccessBlockConfiguration: {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  },
  BucketEncryption: {
    ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
  },
};

describe("FeedPublisher (default domain)", () => {
  let app: App;
  let stack: Stack;
  let publisher: FeedPublisher;
  let template: Template;
  let names: Record<string, string>;

  beforeAll(() => {
    // Prepare: one synth for the whole file (esbuild bundles all six handlers here, so it gets
    // more than the default hook timeout). cdk-nag runs as a validation plugin, so any
    // unacknowledged finding makes this synth throw.
    app = new App({ context: APP_CONTEXT });
    stack = new Stack(app, "Test");
    publisher = new FeedPublisher(stack, "FeedPublisher", { site: SITE, itemLimit: 20 });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    template = Template.fromStack(stack);
    names = {
      [logicalIdOf(stack, publisher.bucket)]: "bucket",
      [logicalIdOf(stack, publisher.logBucket)]: "logBucket",
      [logicalIdOf(stack, publisher.queue)]: "queue",
      [logicalIdOf(stack, publisher.deadLetterQueue)]: "dlq",
      [logicalIdOf(stack, publisher.distribution)]: "distribution",
      [logicalIdOf(stack, publisher.regenerateFunction)]: "regenerate",
      [logicalIdOf(stack, publisher.reconcileFunction)]: "reconcile",
      [logicalIdOf(stack, publisher.stateMachine)]: "wholeSite",
      [stack.getLogicalId(publisher.regenerateFunction.logGroup.node.defaultChild as CfnRole)]:
        "regenerateLogs",
      [stack.getLogicalId(publisher.reconcileFunction.logGroup.node.defaultChild as CfnRole)]:
        "reconcileLogs",
    };
  }, 180_000);

  const resourcesOfType = (type: string): [string, Json][] =>
    Object.entries(template.findResources(type)).map(([id, r]) => [id, r as Json]);
  const propsOf = (resource: Json) => resource.Properties as Json;

  describe("bucket", () => {
    it("blocks public access, encrypts, versions, logs and expires old versions", () => {
      template.hasResourceProperties("AWS::S3::Bucket", {
        ...PRIVATE_ENCRYPTED,
        VersioningConfiguration: { Status: "Enabled" },
        LoggingConfiguration: {
          DestinationBucketName: { Ref: logicalIdOf(stack, publisher.logBucket) },
          LogFilePrefix: "s3-access/",
        },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({
              Status: "Enabled",
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            }),
          ]),
        },
      });
    });

    it("has a log bucket that is encrypted, private, accepts ACL log delivery and expires logs", () => {
      const [, logBucket] = resourcesOfType("AWS::S3::Bucket").find(
        ([id]) => id === logicalIdOf(stack, publisher.logBucket),
      ) ?? [undefined, {}];
      expect(propsOf(logBucket)).toMatchObject({
        ...PRIVATE_ENCRYPTED,
        OwnershipControls: { Rules: [{ ObjectOwnership: "ObjectWriter" }] },
        LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: 90 })] },
      });
      template.resourceCountIs("AWS::S3::Bucket", 2);
    });

    it("receives the server access logs through its bucket policy, for this bucket only", () => {
      template.hasResourceProperties("AWS::S3::BucketPolicy", {
        Bucket: { Ref: logicalIdOf(stack, publisher.logBucket) },
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Effect: "Allow",
              Principal: { Service: "logging.s3.amazonaws.com" },
              Action: "s3:PutObject",
              Resource: {
                "Fn::Join": [
                  "",
                  [{ "Fn::GetAtt": [logicalIdOf(stack, publisher.logBucket), "Arn"] }, "/s3-access/*"],
                ],
              },
              Condition: {
                ArnLike: { "aws:SourceArn": { "Fn::GetAtt": [logicalIdOf(stack, publisher.bucket), "Arn"] } },
                StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
              },
            },
          ]),
        },
      });
    });

    it("denies every non-TLS request to both buckets", () => {
      for (const bucket of [publisher.bucket, publisher.logBucket]) {
        template.hasResourceProperties("AWS::S3::BucketPolicy", {
          Bucket: { Ref: logicalIdOf(stack, bucket) },
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: "Deny",
                Action: "s3:*",
                Principal: { AWS: "*" },
                Condition: { Bool: { "aws:SecureTransport": "false" } },
              }),
            ]),
          },
        });
      }
    });
  });

  describe("notifications", () => {
    it("sends only content/ creations and removals, only to the queue", () => {
      template.resourceCountIs("Custom::S3BucketNotifications", 1);
      const [[, notifications]] = resourcesOfType("Custom::S3BucketNotifications") as [[string, Json]];
      const config = propsOf(notifications).NotificationConfiguration as Json;
      expect(Object.keys(config)).toEqual(["QueueConfigurations"]);
      const queueArn = { "Fn::GetAtt": [logicalIdOf(stack, publisher.queue), "Arn"] };
      const prefixFilter = { Key: { FilterRules: [{ Name: "prefix", Value: "content/" }] } };
      expect(config.QueueConfigurations).toEqual([
        { Events: ["s3:ObjectCreated:*"], Filter: prefixFilter, QueueArn: queueArn },
        { Events: ["s3:ObjectRemoved:*"], Filter: prefixFilter, QueueArn: queueArn },
      ]);
      expect(propsOf(notifications).BucketName).toEqual({ Ref: logicalIdOf(stack, publisher.bucket) });
    });

    it("subscribes to no tagging event: the outcome tags the functions write trigger nothing", () => {
      const [[, notifications]] = resourcesOfType("Custom::S3BucketNotifications") as [[string, Json]];
      const config = propsOf(notifications).NotificationConfiguration as Json;
      const events = Object.values(config).flatMap((list) =>
        (list as { Events: string[] }[]).flatMap((entry) => entry.Events),
      );
      expect(events.length).toBeGreaterThan(0);
      // PutObjectTagging raises s3:ObjectTagging:Put; "s3:*" or "s3:ObjectTagging:*" would catch it.
      for (const event of events) expect(event).not.toMatch(/^s3:(\*|ObjectTagging:)/);
      // Nor does EventBridge see the bucket's events (it would see every tagging call).
      expect(config).not.toHaveProperty("EventBridgeConfiguration");
    });

    it("lets only this bucket's S3 events into the queue", () => {
      template.hasResourceProperties("AWS::SQS::QueuePolicy", {
        Queues: [{ Ref: logicalIdOf(stack, publisher.queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: "Allow",
              Principal: { Service: "s3.amazonaws.com" },
              Action: Match.arrayWith(["sqs:SendMessage"]),
              Condition: {
                ArnLike: { "aws:SourceArn": { "Fn::GetAtt": [logicalIdOf(stack, publisher.bucket), "Arn"] } },
              },
            }),
          ]),
        },
      });
    });
  });

  describe("queues and alarm", () => {
    it("queue: SSE, visibility >= 6x the function timeout, DLQ after 5 receives", () => {
      const [, queue] = resourcesOfType("AWS::SQS::Queue").find(
        ([id]) => id === logicalIdOf(stack, publisher.queue),
      ) ?? [undefined, {}];
      const props = propsOf(queue);
      expect(props.SqsManagedSseEnabled).toBe(true);
      expect(props.VisibilityTimeout as number).toBeGreaterThanOrEqual(
        6 * FUNCTION_SIZING.regenerate.timeout.toSeconds(),
      );
      expect(props.RedrivePolicy).toEqual({
        deadLetterTargetArn: { "Fn::GetAtt": [logicalIdOf(stack, publisher.deadLetterQueue), "Arn"] },
        maxReceiveCount: 5,
      });
    });

    it("DLQ: SSE, 14 days retention", () => {
      template.hasResourceProperties("AWS::SQS::Queue", {
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
      template.resourceCountIs("AWS::SQS::Queue", 2);
    });

    it("both queues refuse non-TLS access", () => {
      for (const queue of [publisher.queue, publisher.deadLetterQueue]) {
        template.hasResourceProperties("AWS::SQS::QueuePolicy", {
          Queues: [{ Ref: logicalIdOf(stack, queue) }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
            ]),
          },
        });
      }
    });

    it("alarms as soon as one message is visible in the DLQ, to the alarm topic", () => {
      expect(logicalIdOf(stack, publisher.deadLetterAlarm)).toBe(
        Object.keys(
          template.findResources("AWS::CloudWatch::Alarm", {
            Properties: { MetricName: "ApproximateNumberOfMessagesVisible" },
          }),
        )[0],
      );
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        AlarmActions: [{ Ref: logicalIdOf(stack, publisher.alarmTopic) }],
        Namespace: "AWS/SQS",
        MetricName: "ApproximateNumberOfMessagesVisible",
        Dimensions: [
          {
            Name: "QueueName",
            Value: { "Fn::GetAtt": [logicalIdOf(stack, publisher.deadLetterQueue), "QueueName"] },
          },
        ],
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        EvaluationPeriods: 1,
      });
    });
  });

  describe("alarm topic and alarms", () => {
    const topicRef = () => ({ Ref: logicalIdOf(stack, publisher.alarmTopic) });
    const alarmsByName = (): Record<string, Json> =>
      Object.fromEntries(
        resourcesOfType("AWS::CloudWatch::Alarm").map(([, alarm]) => [
          propsOf(alarm).AlarmName as string,
          propsOf(alarm),
        ]),
      );
    const ruleId = (schedule: string) =>
      Object.keys(
        template.findResources("AWS::Events::Rule", { Properties: { ScheduleExpression: schedule } }),
      )[0] as string;

    it("has one topic, encrypted with a rotated key of its own that CloudWatch may use", () => {
      template.resourceCountIs("AWS::SNS::Topic", 1);
      const [[keyId, key]] = resourcesOfType("AWS::KMS::Key") as [[string, Json]];
      template.hasResourceProperties("AWS::SNS::Topic", {
        KmsMasterKeyId: { "Fn::GetAtt": [keyId, "Arn"] },
      });
      expect(propsOf(key).EnableKeyRotation).toBe(true);
      const statements = (propsOf(key).KeyPolicy as { Statement: Statement[] }).Statement;
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        }),
      );
    });

    it("the topic refuses publishing without TLS, and lets only this account's alarms publish", () => {
      const [[, policy]] = resourcesOfType("AWS::SNS::TopicPolicy") as [[string, Json]];
      expect(propsOf(policy).Topics).toEqual([topicRef()]);
      const statements = (propsOf(policy).PolicyDocument as { Statement: Statement[] }).Statement;
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: "Deny",
          Action: "sns:Publish",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }),
      );
      const allow = statements.filter((s) => s.Effect === "Allow");
      expect(allow).toHaveLength(1);
      expect(allow[0]?.Principal).toEqual({ Service: "cloudwatch.amazonaws.com" });
      expect(allow[0]?.Action).toBe("sns:Publish");
      expect(allow[0]?.Resource).toEqual(topicRef());
      expect(allow[0]?.Condition?.StringEquals).toEqual({ "aws:SourceAccount": { Ref: "AWS::AccountId" } });
      expect(render(((allow[0]?.Condition?.ArnLike ?? {}) as Json)["aws:SourceArn"], names)).toBe(
        "arn:AWS::Partition:cloudwatch:AWS::Region:AWS::AccountId:alarm:*",
      );
    });

    it("subscribes no one when no alarmEmail is given", () => {
      template.resourceCountIs("AWS::SNS::Subscription", 0);
    });

    it("outputs the topic's ARN", () => {
      template.hasOutput("AlarmTopicArn", { Value: topicRef() });
    });

    it("has exactly the pipeline's alarms, each publishing to the topic, missing data not breaching", () => {
      const alarms = alarmsByName();
      expect(Object.keys(alarms).sort()).toEqual(
        [
          "Test-RegenerateErrors",
          "Test-RegenerateThrottles",
          "Test-ReconcileErrors",
          "Test-ReconcileThrottles",
          "Test-DeadLetterQueue",
          "Test-QueueAge",
          "Test-PublishScheduleFailed",
          "Test-ReconcileRunFailed",
          "Test-WholeSiteRunFailed",
          "Test-WholeSiteRunTimedOut",
          "Test-WholeSiteRunAborted",
        ].sort(),
      );
      for (const [name, alarm] of Object.entries(alarms)) {
        expect(alarm.AlarmActions, name).toEqual([topicRef()]);
        expect(alarm.TreatMissingData, name).toBe("notBreaching");
        expect(alarm.EvaluationPeriods, name).toBe(1);
        expect(alarm.ActionsEnabled ?? true, name).toBe(true);
        // Says what happened and what to do, in a notification-sized text.
        const description = render(alarm.AlarmDescription, names);
        expect(description, name).toMatch(/^feedpub: /);
        expect(description.length, name).toBeLessThan(1024);
      }
    });

    it.each([
      ["Regenerate", "Errors", true],
      ["Regenerate", "Throttles", true],
      // A daily run: five quiet minutes after a failure say nothing, so no OK message.
      ["Reconcile", "Errors", false],
      ["Reconcile", "Throttles", true],
    ] as const)("%s %s: any in 5 minutes (Sum >= 1), OK notified: %s", (fn, metric, ok) => {
      const alarm = alarmsByName()[`Test-${fn}${metric}`] ?? {};
      const target = fn === "Regenerate" ? publisher.regenerateFunction : publisher.reconcileFunction;
      expect(alarm).toMatchObject({
        Namespace: "AWS/Lambda",
        MetricName: metric,
        Dimensions: [{ Name: "FunctionName", Value: { Ref: logicalIdOf(stack, target) } }],
        Statistic: "Sum",
        Period: 300,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      });
      expect(alarm.OKActions).toEqual(ok ? [topicRef()] : undefined);
      // The notification names the log group to read.
      if (metric === "Errors")
        expect(render(alarm.AlarmDescription, names)).toContain(`${fn.toLowerCase()}Logs`);
    });

    it("dead-letter queue: any visible message (Maximum >= 1), OK once emptied", () => {
      expect(alarmsByName()["Test-DeadLetterQueue"]).toMatchObject({
        Namespace: "AWS/SQS",
        MetricName: "ApproximateNumberOfMessagesVisible",
        Dimensions: [
          {
            Name: "QueueName",
            Value: { "Fn::GetAtt": [logicalIdOf(stack, publisher.deadLetterQueue), "QueueName"] },
          },
        ],
        Statistic: "Maximum",
        Period: 300,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        OKActions: [topicRef()],
      });
    });

    it("queue age: above two visibility timeouts, i.e. two failed receives, well before the DLQ", () => {
      const [, queue] = resourcesOfType("AWS::SQS::Queue").find(
        ([id]) => id === logicalIdOf(stack, publisher.queue),
      ) ?? [undefined, {}];
      const visibility = propsOf(queue).VisibilityTimeout as number;
      const alarm = alarmsByName()["Test-QueueAge"] ?? {};
      expect(alarm).toMatchObject({
        Namespace: "AWS/SQS",
        MetricName: "ApproximateAgeOfOldestMessage",
        Dimensions: [
          { Name: "QueueName", Value: { "Fn::GetAtt": [logicalIdOf(stack, publisher.queue), "QueueName"] } },
        ],
        Statistic: "Maximum",
        Period: 300,
        Threshold: 2 * visibility,
        ComparisonOperator: "GreaterThanThreshold",
        OKActions: [topicRef()],
      });
      // Not raised by one retried message (one visibility timeout plus a regeneration and the
      // batching window), but raised before the fifth receive dead-letters the message.
      const threshold = alarm.Threshold as number;
      expect(threshold).toBeGreaterThan(visibility + FUNCTION_SIZING.regenerate.timeout.toSeconds() + 5);
      expect(threshold).toBeLessThan(5 * visibility);
    });

    it.each([
      ["PublishScheduleFailed", "rate(5 minutes)", "regenerate", true],
      ["ReconcileRunFailed", "rate(1 day)", "reconcile", false],
    ] as const)(
      "%s: runs of %s that EventBridge could not invoke or Lambda dropped after retries",
      (name, schedule, fn, ok) => {
        const alarm = alarmsByName()[`Test-${name}`] ?? {};
        const target = fn === "regenerate" ? publisher.regenerateFunction : publisher.reconcileFunction;
        expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold" });
        expect(alarm.OKActions).toEqual(ok ? [topicRef()] : undefined);
        const metrics = alarm.Metrics as Json[];
        const returned = metrics.filter((m) => m.ReturnData !== false);
        expect(returned).toHaveLength(1);
        const expression = returned[0]?.Expression as string;
        const stats = Object.fromEntries(
          metrics
            .filter((m) => m.MetricStat)
            .map((m) => {
              const stat = m.MetricStat as { Metric: Json; Period: number; Stat: string };
              return [m.Id as string, { ...stat.Metric, Period: stat.Period, Stat: stat.Stat }];
            }),
        );
        expect(Object.values(stats)).toEqual(
          expect.arrayContaining([
            {
              Namespace: "AWS/Events",
              MetricName: "FailedInvocations",
              Dimensions: [{ Name: "RuleName", Value: { Ref: ruleId(schedule) } }],
              Period: 300,
              Stat: "Sum",
            },
            {
              Namespace: "AWS/Lambda",
              MetricName: "AsyncEventsDropped",
              Dimensions: [{ Name: "FunctionName", Value: { Ref: logicalIdOf(stack, target) } }],
              Period: 300,
              Stat: "Sum",
            },
          ]),
        );
        expect(Object.keys(stats)).toHaveLength(2);
        // The sum of both, each counted as 0 while it reports nothing.
        const filled = Object.keys(stats).map((id) => `FILL(${id}, 0)`);
        expect(expression.split(" + ").sort()).toEqual(filled.sort());
      },
    );
  });

  describe("functions", () => {
    const cases = [
      ["regenerate", () => publisher.regenerateFunction, FUNCTION_SIZING.regenerate] as const,
      ["reconcile", () => publisher.reconcileFunction, FUNCTION_SIZING.reconcile] as const,
    ];

    it.each(cases)(
      "%s: node22 on arm64, JSON logs to its own log group, sized from FUNCTION_SIZING",
      (_, fn, size) => {
        const id = logicalIdOf(stack, fn());
        const props = propsOf(template.findResources("AWS::Lambda::Function")[id] as Json);
        expect(props).toMatchObject({
          Runtime: "nodejs22.x",
          Architectures: ["arm64"],
          Handler: "index.handler",
          Timeout: size.timeout.toSeconds(),
          MemorySize: size.memorySize,
          LoggingConfig: {
            LogFormat: "JSON",
            LogGroup: { Ref: stack.getLogicalId(fn().logGroup.node.defaultChild as CfnRole) },
          },
        });
        expect(props.ReservedConcurrentExecutions).toBeUndefined();
      },
    );

    it.each(cases)("%s: environment is exactly BUCKET_NAME, SITE_CONFIG and STATE_MACHINE_ARN", (_, fn) => {
      const props = propsOf(
        template.findResources("AWS::Lambda::Function")[logicalIdOf(stack, fn())] as Json,
      );
      const variables = (props.Environment as Json).Variables as Json;
      expect(Object.keys(variables).sort()).toEqual(["BUCKET_NAME", "SITE_CONFIG", "STATE_MACHINE_ARN"]);
      expect(variables.BUCKET_NAME).toEqual({ Ref: logicalIdOf(stack, publisher.bucket) });
      expect(variables.STATE_MACHINE_ARN).toEqual({ Ref: logicalIdOf(stack, publisher.stateMachine) });

      // The settings as given (the handlers parse them, so the written form, not the parsed one).
      const siteConfig = JSON.parse(render(variables.SITE_CONFIG, names));
      expect(siteConfig).toEqual({
        title: "Test feeds",
        url: "https://blog.example.org",
        feedsUrl: "https://distribution.DomainName/feeds/",
        description: "Notes",
        language: "en-GB",
        author: { name: "Ann Editor", email: "ann@example.org" },
        itemLimit: 20,
      });
      // The handlers' own parser accepts it once the domain is known, defaults filled in.
      const deployed = { ...siteConfig, feedsUrl: "https://d111111abcdef8.cloudfront.net/feeds/" };
      expect(parseConfig(deployed)).toEqual({
        ...deployed,
        url: "https://blog.example.org/",
        permalink: "/:path/",
        sectionDepth: 1,
        languageFeeds: "auto",
      });
    });

    it("keeps 30 days of logs by default", () => {
      // Regenerate, Reconcile, the four whole-site stages and the state machine.
      template.resourceCountIs("AWS::Logs::LogGroup", 7);
      template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 });
    });

    it("regenerate consumes the queue in batches with partial failures and capped concurrency", () => {
      template.resourceCountIs("AWS::Lambda::EventSourceMapping", 1);
      template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
        EventSourceArn: { "Fn::GetAtt": [logicalIdOf(stack, publisher.queue), "Arn"] },
        FunctionName: { Ref: logicalIdOf(stack, publisher.regenerateFunction) },
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 5,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
        ScalingConfig: { MaximumConcurrency: 2 },
      });
    });

    it("reconcile runs once a day", () => {
      template.hasResourceProperties("AWS::Events::Rule", {
        ScheduleExpression: "rate(1 day)",
        State: "ENABLED",
        Targets: [
          Match.objectLike({
            Arn: { "Fn::GetAtt": [logicalIdOf(stack, publisher.reconcileFunction), "Arn"] },
          }),
        ],
      });
    });

    it("checks for scheduled articles every 5 minutes by invoking regenerate, which EventBridge may call", () => {
      const regenerate = logicalIdOf(stack, publisher.regenerateFunction);
      template.hasResourceProperties("AWS::Events::Rule", {
        ScheduleExpression: "rate(5 minutes)",
        State: "ENABLED",
        Targets: [
          Match.objectLike({
            Arn: { "Fn::GetAtt": [regenerate, "Arn"] },
            RetryPolicy: { MaximumRetryAttempts: 2 },
          }),
        ],
      });
      template.hasResourceProperties("AWS::Lambda::Permission", {
        Action: "lambda:InvokeFunction",
        Principal: "events.amazonaws.com",
        FunctionName: { "Fn::GetAtt": [regenerate, "Arn"] },
      });
    });

    it("regenerate's bundle is found through the aws:asset:path metadata", () => {
      const resource = template.findResources("AWS::Lambda::Function")[
        logicalIdOf(stack, publisher.regenerateFunction)
      ] as Json;
      const metadata = resource.Metadata as Json;
      expect(metadata["aws:asset:property"]).toBe("Code");
      const bundle = join(app.outdir, metadata["aws:asset:path"] as string, "index.js");
      expect(existsSync(bundle)).toBe(true);
      const code = readFileSync(bundle, "utf8");
      // CommonJS output, as the runtime loads it with no package.json beside it.
      expect(code).toMatch(/module\.exports/);
      // The SDK stays a runtime require (the Lambda runtime provides it), never bundled.
      expect(code).not.toMatch(/@smithy\//);
      for (const sdkImport of code.match(/@aws-sdk\/[\w-]+/g) ?? []) {
        expect(code).toContain(`require("${sdkImport}")`);
      }
    });

    it("bundles our XML writer in place of xml-js, which offers all feed calls (no sax)", () => {
      // The bundles alias "xml-js" to xml-writer.ts, which exports js2xml alone; a feed release
      // calling anything else from xml-js would break only in Lambda, so check feed's calls here.
      const feedSource = readFileSync(
        new URL("../../node_modules/feed/lib/feed.js", import.meta.url),
        "utf8",
      );
      expect(feedSource).toMatch(/^import \* as convert\S* from "xml-js";$/m);
      const calls = new Set([...feedSource.matchAll(/\bconvert(?:\$\d+)?\.(\w+)/g)].map((m) => m[1]));
      expect([...calls]).toEqual(["js2xml"]);

      const resource = template.findResources("AWS::Lambda::Function")[
        logicalIdOf(stack, publisher.regenerateFunction)
      ] as Json;
      const bundle = join(app.outdir, (resource.Metadata as Json)["aws:asset:path"] as string, "index.js");
      const code = readFileSync(bundle, "utf8");
      expect(code).not.toContain("SAXParser");
      expect(code).not.toContain("fullTagEmptyElement"); // one of xml-js's js2xml options
      expect(code).toContain("only feed's options are supported"); // our writer's refusal
    });

    it("bundles only js-yaml's loader, with the names front matter imports from it", async () => {
      // The bundles alias "js-yaml" to a shim; it must offer what the source imports, and the
      // objects must be the ones the loader itself uses (YAMLException identity matters).
      const source = readFileSync(new URL("../../functions/core/front-matter.ts", import.meta.url), "utf8");
      const imported =
        /import \{([^}]*)\} from "js-yaml"/
          .exec(source)?.[1]
          ?.split(",")
          .map((n) => n.trim()) ?? [];
      const shim = createRequire(import.meta.url)("../../functions/js-yaml-loader.cjs") as Record<
        string,
        unknown
      >;
      const real = (await import("js-yaml")) as Record<string, unknown>;
      for (const name of imported) expect(shim[name], name).toBeDefined();
      expect(() => (shim.load as (s: string) => unknown)("a: [")).toThrow(shim.YAMLException as never);

      const resource = template.findResources("AWS::Lambda::Function")[
        logicalIdOf(stack, publisher.regenerateFunction)
      ] as Json;
      const bundle = join(app.outdir, (resource.Metadata as Json)["aws:asset:path"] as string, "index.js");
      const code = readFileSync(bundle, "utf8");
      expect(code).not.toContain("unacceptable kind of an object to dump");
      expect(real.dump).toBeDefined(); // the message above really is the writer's
    });
  });

  describe("IAM", () => {
    /** Every (action, resource) pair granted to a role through AWS::IAM::Policy resources. */
    function grantsOf(roleConstruct: { node: { defaultChild?: unknown } }): string[] {
      const roleId = logicalIdOf(stack, roleConstruct);
      const role = propsOf(template.findResources("AWS::IAM::Role")[roleId] as Json);
      expect(role.ManagedPolicyArns).toBeUndefined();
      expect(role.Policies).toBeUndefined();

      const pairs: string[] = [];
      for (const [, policy] of resourcesOfType("AWS::IAM::Policy")) {
        const props = propsOf(policy);
        if (!asList(props.Roles as unknown[]).some((r) => (r as Json).Ref === roleId)) continue;
        for (const statement of (props.PolicyDocument as { Statement: Statement[] }).Statement) {
          expect(statement.Effect).toBe("Allow");
          expect(statement.NotAction).toBeUndefined();
          expect(statement.NotResource).toBeUndefined();
          for (const action of asList(statement.Action)) {
            expect(action).not.toContain("*");
            for (const resource of asList(statement.Resource))
              pairs.push(`${action} ${render(resource, names)}`);
          }
        }
      }
      return pairs.sort();
    }

    const s3Grants = [
      "s3:DeleteObject bucket.Arn/_state/catalog/*",
      "s3:DeleteObject bucket.Arn/feeds/*",
      "s3:GetObject bucket.Arn/_state/*",
      "s3:GetObject bucket.Arn/content/*",
      "s3:GetObject bucket.Arn/feeds/*",
      // The editors' outcome tags: on content/ only, the current version only.
      "s3:GetObjectTagging bucket.Arn/content/*",
      "s3:ListBucket bucket.Arn",
      "s3:PutObject bucket.Arn/_state/*",
      "s3:PutObject bucket.Arn/feeds/*",
      "s3:PutObjectTagging bucket.Arn/content/*",
    ];

    it("regenerate: exact S3 prefixes, its log group, and consuming the queue", () => {
      // biome-ignore lint/style/noNonNullAssertion: the construct always passes a role
      expect(grantsOf(publisher.regenerateFunction.role!)).toEqual(
        [
          ...s3Grants,
          "logs:CreateLogStream regenerateLogs.Arn",
          "logs:PutLogEvents regenerateLogs.Arn",
          "sqs:ChangeMessageVisibility queue.Arn",
          "sqs:DeleteMessage queue.Arn",
          "sqs:GetQueueAttributes queue.Arn",
          "sqs:GetQueueUrl queue.Arn",
          "sqs:ReceiveMessage queue.Arn",
          "states:StartExecution wholeSite",
        ].sort(),
      );
    });

    it("reconcile: exact S3 prefixes and its log group", () => {
      // biome-ignore lint/style/noNonNullAssertion: the construct always passes a role
      expect(grantsOf(publisher.reconcileFunction.role!)).toEqual(
        [
          ...s3Grants,
          "logs:CreateLogStream reconcileLogs.Arn",
          "logs:PutLogEvents reconcileLogs.Arn",
          "states:StartExecution wholeSite",
        ].sort(),
      );
    });
  });

  describe("CloudFront", () => {
    /** Allow statements of every bucket policy in the stack. */
    function allowStatements(): { bucket: string; statement: Statement }[] {
      return resourcesOfType("AWS::S3::BucketPolicy").flatMap(([, policy]) =>
        (propsOf(policy).PolicyDocument as { Statement: Statement[] }).Statement.filter(
          (s) => s.Effect === "Allow",
        ).map((statement) => ({ bucket: render(propsOf(policy).Bucket, names), statement })),
      );
    }

    it("reaches the bucket through Origin Access Control (no OAI)", () => {
      template.resourceCountIs("AWS::CloudFront::OriginAccessControl", 1);
      template.hasResourceProperties("AWS::CloudFront::OriginAccessControl", {
        OriginAccessControlConfig: {
          OriginAccessControlOriginType: "s3",
          SigningBehavior: "always",
          SigningProtocol: "sigv4",
        },
      });
      template.resourceCountIs("AWS::CloudFront::CloudFrontOriginAccessIdentity", 0);
      template.hasResourceProperties("AWS::CloudFront::Distribution", {
        DistributionConfig: {
          Origins: [
            Match.objectLike({
              DomainName: { "Fn::GetAtt": [logicalIdOf(stack, publisher.bucket), "RegionalDomainName"] },
              OriginAccessControlId: Match.anyValue(),
              S3OriginConfig: { OriginAccessIdentity: "" },
            }),
          ],
        },
      });
    });

    it("the bucket policy lets this distribution read feeds/* and nothing else", () => {
      const onBucket = allowStatements()
        .filter((s) => s.bucket === "bucket")
        .map((s) => s.statement);
      expect(onBucket).toHaveLength(1);
      const statement = onBucket[0] as Statement;
      expect(statement.Principal).toEqual({ Service: "cloudfront.amazonaws.com" });
      expect(asList(statement.Action)).toEqual(["s3:GetObject"]);
      expect(asList(statement.Resource).map((r) => render(r, names))).toEqual([
        `bucket.Arn/${FEEDS_PREFIX}*`,
      ]);
      // Only this distribution, not any distribution in the account.
      expect(Object.keys(statement.Condition ?? {})).toEqual(["StringEquals"]);
      const sourceArn = (statement.Condition?.StringEquals as Json | undefined)?.["AWS:SourceArn"];
      expect(render(sourceArn, names)).toBe(
        "arn:AWS::Partition:cloudfront::AWS::AccountId:distribution/distribution",
      );
    });

    it("no bucket policy grants content/, _state/ or the whole bucket to CloudFront or to anyone", () => {
      for (const { bucket, statement } of allowStatements()) {
        const resources = asList(statement.Resource).map((r) => render(r, names));
        const principal = JSON.stringify(statement.Principal);
        expect(principal).not.toMatch(/"\*"/);
        for (const resource of resources) {
          expect(resource).not.toMatch(/\/(content|_state)\//);
          expect(resource).not.toMatch(/\.Arn\/\*$/);
          if (principal.includes("cloudfront")) expect(resource).toBe(`${bucket}.Arn/feeds/*`);
        }
      }
    });

    it("redirects to HTTPS, compresses, caches for minutes and adds security headers", () => {
      template.hasResourceProperties("AWS::CloudFront::Distribution", {
        DistributionConfig: Match.objectLike({
          DefaultCacheBehavior: Match.objectLike({
            ViewerProtocolPolicy: "redirect-to-https",
            Compress: true,
            AllowedMethods: ["GET", "HEAD"],
            CachePolicyId: Match.anyValue(),
            ResponseHeadersPolicyId: Match.anyValue(),
          }),
          HttpVersion: "http2and3",
          PriceClass: "PriceClass_100",
          Logging: {
            Bucket: { "Fn::GetAtt": [logicalIdOf(stack, publisher.logBucket), "RegionalDomainName"] },
            Prefix: "cloudfront/",
          },
        }),
      });
      template.hasResourceProperties("AWS::CloudFront::CachePolicy", {
        CachePolicyConfig: Match.objectLike({
          DefaultTTL: 300,
          MaxTTL: 3600,
          MinTTL: 0,
          ParametersInCacheKeyAndForwardedToOrigin: {
            EnableAcceptEncodingGzip: true,
            EnableAcceptEncodingBrotli: true,
            CookiesConfig: { CookieBehavior: "none" },
            HeadersConfig: { HeaderBehavior: "none" },
            QueryStringsConfig: { QueryStringBehavior: "none" },
          },
        }),
      });
      template.hasResourceProperties("AWS::CloudFront::ResponseHeadersPolicy", {
        ResponseHeadersPolicyConfig: Match.objectLike({
          SecurityHeadersConfig: Match.objectLike({
            StrictTransportSecurity: Match.objectLike({ Override: true, AccessControlMaxAgeSec: 31536000 }),
            ContentTypeOptions: { Override: true },
            FrameOptions: { FrameOption: "DENY", Override: true },
            ReferrerPolicy: Match.objectLike({ Override: true }),
            ContentSecurityPolicy: {
              ContentSecurityPolicy: FEEDS_CSP,
              Override: true,
            },
          }),
        }),
      });
    });

    it("CSP: no script but this origin's XSLT, no style but its stylesheet, nothing else loads", () => {
      const directives = Object.fromEntries(
        FEEDS_CSP.split(";")
          .map((d) => d.trim().split(/\s+/))
          .map(([k, ...v]) => [k, v]),
      );
      expect(directives).toEqual({
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
      });
    });

    it("a viewer-response function gives browsers application/xml and readers the feed types, as the local server does", () => {
      const [[id, fn]] = resourcesOfType("AWS::CloudFront::Function") as [[string, Json]];
      const props = propsOf(fn) as { FunctionCode: string; FunctionConfig: { Runtime: string } };
      expect(props.FunctionConfig.Runtime).toBe("cloudfront-js-2.0");
      const [[, distribution]] = resourcesOfType("AWS::CloudFront::Distribution") as [[string, Json]];
      const behavior = ((propsOf(distribution).DistributionConfig as Json).DefaultCacheBehavior ??
        {}) as Json;
      expect(behavior.FunctionAssociations).toEqual([
        { EventType: "viewer-response", FunctionARN: { "Fn::GetAtt": [id, "FunctionARN"] } },
      ]);
      // The function's own code, run on CloudFront-shaped events, against the local server's rule.
      const handler = new Function(`${props.FunctionCode}\nreturn handler;`)() as (event: unknown) => {
        headers: Record<string, { value: string }>;
      };
      const accepts = [
        undefined,
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8",
        "*/*",
        "TEXT/HTML",
        // q-values (RFC 9110): q=0 refuses, the higher q wins, the more specific range decides.
        "text/html;q=0",
        "text/html;q=0, */*",
        "text/html;q=0.5, application/rss+xml",
        "text/html, application/rss+xml;q=0.4, application/atom+xml;q=0.4",
        "text/*;q=0.9, */*;q=0.1",
        "text/*, text/html;q=0",
        "application/rss+xml;q=0.2, text/html;q=0.2",
        "text/html;q=2, application/rss+xml",
        "nonsense, text/html",
      ];
      const types = [
        "application/rss+xml; charset=utf-8",
        "application/atom+xml; charset=utf-8",
        "application/feed+json; charset=utf-8",
        "text/html; charset=utf-8",
        "text/xsl; charset=utf-8",
      ];
      for (const accept of accepts)
        for (const type of types) {
          const out = handler({
            request: { headers: accept === undefined ? {} : { accept: { value: accept } } },
            response: { headers: { "content-type": { value: type } } },
          });
          expect(out.headers["content-type"]?.value, `${type} for ${accept}`).toBe(
            negotiatedType(type, accept),
          );
          expect(out.headers.vary?.value, `${type} for ${accept}`).toBe(
            variesByAccept(type) ? "Accept" : undefined,
          );
        }
    });

    it("uses the default certificate without a custom domain", () => {
      const [[, distribution]] = resourcesOfType("AWS::CloudFront::Distribution") as [[string, Json]];
      const config = propsOf(distribution).DistributionConfig as Json;
      expect(config.Aliases).toBeUndefined();
      expect(config.ViewerCertificate).toBeUndefined();
    });
  });

  it("outputs the feed URLs, the bucket, the upload prefix and the DLQ", () => {
    const domain = { "Fn::GetAtt": [logicalIdOf(stack, publisher.distribution), "DomainName"] };
    for (const [id, file] of [
      ["RssFeedUrl", "rss.xml"],
      ["AtomFeedUrl", "atom.xml"],
      ["JsonFeedUrl", "feed.json"],
    ] as const) {
      template.hasOutput(id, { Value: { "Fn::Join": ["", ["https://", domain, `/feeds/${file}`]] } });
    }
    template.hasOutput("BucketName", { Value: { Ref: logicalIdOf(stack, publisher.bucket) } });
    template.hasOutput("ContentPrefix", {
      Value: { "Fn::Join": ["", ["s3://", { Ref: logicalIdOf(stack, publisher.bucket) }, "/content/"]] },
    });
    template.hasOutput("DeadLetterQueueUrl", {
      Value: { Ref: logicalIdOf(stack, publisher.deadLetterQueue) },
    });
  });

  describe("cdk-nag", () => {
    it("AwsSolutions reports no unacknowledged error or warning", () => {
      const report = new AwsSolutionsChecks().validateScope(stack);
      expect(report.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
      expect(report.success).toBe(true);
    });

    it("the check is live: an unhardened bucket in a fresh app is reported", () => {
      const canary = new Stack(new App(), "Canary");
      new s3.Bucket(canary, "Plain");
      const rules = new AwsSolutionsChecks().validateScope(canary).violations.map((v) => v.ruleName);
      expect(rules).toEqual(expect.arrayContaining(["AwsSolutions-S1", "AwsSolutions-S10"]));
    });

    it("synth leaves no unacknowledged warning or error annotation", () => {
      expect(Annotations.fromStack(stack).findWarning("*", Match.anyValue())).toEqual([]);
      expect(Annotations.fromStack(stack).findError("*", Match.anyValue())).toEqual([]);
    });
  });
});

describe("FeedPublisher (custom domain)", () => {
  let template: Template;
  let stack: Stack;

  beforeAll(() => {
    // The CloudFormation schema validation already ran on the first synth, and so did the
    // bundling of every function; skip both here.
    const app = new App({
      context: { ...APP_CONTEXT, "aws:cdk:bundling-stacks": [] },
      builtinCloudFormationValidation: false,
    });
    stack = new Stack(app, "Custom");
    new FeedPublisher(stack, "FeedPublisher", {
      site: { title: "Custom", url: "https://example.org/", hub: "https://hub.example.org/" },
      domainName: "feeds.example.org",
      reconcileSchedule: Schedule.rate(Duration.hours(1)),
      logRetention: RetentionDays.ONE_WEEK,
      alarmEmail: "ops+feeds@example.org",
      certificate: Certificate.fromCertificateArn(
        stack,
        "Cert",
        "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
      ),
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    template = Template.fromStack(stack);
  });

  it("passes the WebSub hub to every function, checked like every site setting", () => {
    const withHub = template.findResources("AWS::Lambda::Function", {
      Properties: {
        Environment: {
          Variables: { SITE_CONFIG: Match.stringLikeRegexp('"hub":"https://hub.example.org/"') },
        },
      },
    });
    // Regenerate, Reconcile and the four whole-site stages.
    expect(Object.keys(withHub)).toHaveLength(6);
    const bad = new Stack(new App({ context: APP_CONTEXT }), "BadHub");
    expect(
      () =>
        new FeedPublisher(bad, "FeedPublisher", {
          site: { title: "T", url: "https://example.org/", hub: "ftp://x/" },
        }),
    ).toThrow(/hub: must be an absolute http\(s\) URL/);
  });

  it("serves the domain with its certificate over TLS 1.2+", () => {
    template.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        Aliases: ["feeds.example.org"],
        ViewerCertificate: {
          AcmCertificateArn:
            "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
          MinimumProtocolVersion: "TLSv1.2_2021",
          SslSupportMethod: "sni-only",
        },
      }),
    });
  });

  it("points feedsUrl and the outputs at the domain", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: { SITE_CONFIG: Match.stringLikeRegexp('"feedsUrl":"https://feeds.example.org/feeds/"') },
      },
    });
    template.hasOutput("RssFeedUrl", { Value: "https://feeds.example.org/feeds/rss.xml" });
  });

  it("fills in the defaults and honours schedule and log retention", () => {
    // No itemLimit given: none is passed, and the handlers' parser takes its default (50).
    const functions = Object.values(template.findResources("AWS::Lambda::Function")) as Json[];
    const configs = functions
      .map(
        (fn) =>
          (((fn.Properties as Json).Environment as Json | undefined)?.Variables as Json | undefined)
            ?.SITE_CONFIG,
      )
      .filter((value) => value !== undefined)
      .map((value) => render(value, {}));
    expect(configs).toHaveLength(6);
    for (const config of configs) {
      expect(config).not.toContain("itemLimit");
      expect(
        parseConfig({ ...JSON.parse(config), feedsUrl: "https://cdn.example.org/feeds/" }).itemLimit,
      ).toBe(50);
    }
    template.hasResourceProperties("AWS::Events::Rule", { ScheduleExpression: "rate(1 hour)" });
    template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: 7 });
  });

  it("subscribes the alarmEmail to the alarm topic", () => {
    template.resourceCountIs("AWS::SNS::Subscription", 1);
    const topics = Object.keys(template.findResources("AWS::SNS::Topic"));
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "ops+feeds@example.org",
      TopicArn: { Ref: topics[0] },
    });
    // The whole-site alarm follows the schedule it watches.
    const [ruleId] = Object.keys(
      template.findResources("AWS::Events::Rule", { Properties: { ScheduleExpression: "rate(1 hour)" } }),
    );
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmName: "Custom-ReconcileRunFailed",
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ Dimensions: [{ Name: "RuleName", Value: { Ref: ruleId } }] }),
          }),
        }),
      ]),
    });
  });

  it("needs no CFR4 acknowledgement and is nag-clean", () => {
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
    const acknowledged = JSON.stringify(stack.node.findAll().flatMap((c) => c.node.metadata));
    expect(acknowledged).not.toContain("AwsSolutions-CFR4");
  });
});

describe("FeedPublisher props validation", () => {
  const attempt =
    (props: Partial<FeedPublisherProps>, build?: (stack: Stack) => Partial<FeedPublisherProps>) => () => {
      const stack = new Stack(new App(), "Bad");
      new FeedPublisher(stack, "FeedPublisher", { site: SITE, ...props, ...build?.(stack) });
    };

  it("rejects a domain without a certificate", () => {
    expect(attempt({ domainName: "feeds.example.org" })).toThrow(/domainName and certificate/);
  });

  it("rejects a certificate outside us-east-1", () => {
    expect(
      attempt({ domainName: "feeds.example.org" }, (stack) => ({
        certificate: Certificate.fromCertificateArn(
          stack,
          "Cert",
          "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
        ),
      })),
    ).toThrow(/us-east-1/);
  });

  it("refuses an alarmEmail that is not one plain email address, before bundling", () => {
    for (const address of [
      "ops",
      "ops@",
      "@example.org",
      "ops@localhost",
      "ops@example.org.",
      "ops@-example.org",
      "ops@exa_mple.org",
      "ops@192.168.0.1",
      "o ps@example.org",
      "ops..team@example.org",
      ".ops@example.org",
      '"ops"@example.org',
      "Ops <ops@example.org>",
      "ops@example.org, dev@example.org",
      "ops@example.org\n",
      `${"o".repeat(65)}@example.org`,
      `ops@${"a".repeat(250)}.org`,
      "opé@example.org",
    ]) {
      expect(alarmEmailProblem(address), address).toBe(
        `must be one email address like ops@example.org, got ${JSON.stringify(address.length > 80 ? `${address.slice(0, 80)}...` : address)}`,
      );
    }
    const stack = new Stack(new App(), "BadEmail");
    expect(
      () => new FeedPublisher(stack, "FeedPublisher", { site: SITE, alarmEmail: "ops at example.org" }),
    ).toThrow(
      'FeedPublisher: alarmEmail must be one email address like ops@example.org, got "ops at example.org"',
    );
    // Refused before anything was built, so before esbuild bundled a function.
    expect(stack.node.findAll().filter((c) => c instanceof LambdaFunction)).toEqual([]);
  });

  it("accepts ordinary addresses, tagged and in subdomains", () => {
    for (const address of [
      "ops@example.org",
      "ops+feeds@example.org",
      "first.last@mail.news.example.co.uk",
      "O'Brien_1@Example.ORG",
      `${"o".repeat(64)}@example.org`,
    ])
      expect(alarmEmailProblem(address), address).toBeUndefined();
  });

  it("rejects bad site settings at synth time, naming the field", () => {
    expect(attempt({ site: { title: "x", url: "example.com" } })).toThrow(/url: must be an absolute/);
    expect(attempt({ itemLimit: 0 })).toThrow(/itemLimit/);
  });
});

describe("FeedAlarms, extended with whole-site work", () => {
  it("adds one alarm for another whole-site run, to the same topic, notified once per failure", () => {
    // Bundling skipped: this looks at the alarms only.
    const app = new App({
      context: { ...APP_CONTEXT, "aws:cdk:bundling-stacks": [] },
      builtinCloudFormationValidation: false,
    });
    const stack = new Stack(app, "More");
    const publisher = new FeedPublisher(stack, "FeedPublisher", { site: SITE });
    // What a Step Functions rebuild would pass: stateMachine.metricFailed().
    const failed = new Metric({
      namespace: "AWS/States",
      metricName: "ExecutionsFailed",
      dimensionsMap: { StateMachineArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:rebuild" },
      statistic: "Sum",
    });
    const before = publisher.alarms.alarms.length;
    const alarm = publisher.alarms.watchWholeSiteRun(
      "RebuildFailed",
      failed,
      "feedpub: a whole-site rebuild failed. Read its execution history.",
    );
    expect(publisher.alarms.alarms).toHaveLength(before + 1);
    expect(publisher.alarms.alarms).toContain(alarm);

    const template = Template.fromStack(stack);
    const topic = stack.getLogicalId(publisher.alarmTopic.node.defaultChild as CfnRole);
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmName: "More-RebuildFailed",
      Namespace: "AWS/States",
      MetricName: "ExecutionsFailed",
      Statistic: "Sum",
      Period: 300,
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
      AlarmActions: [{ Ref: topic }],
      OKActions: Match.absent(),
    });
  });
});
