/**
 * Whole-site runs (a settings change, lost state, a forced or first rebuild) as a map/reduce on
 * Step Functions: a Distributed Map reads the listing of content/ itself and shuffles it in
 * batches, a second one renders each group of articles, and one reduce merges and commits
 * (engine/whole/layout.ts has the objects each stage leaves under _state/runs/<run>/). Wiring only:
 * the four stages are functions/handlers/whole-*.ts. Execution input: {"run": "<run id>"}.
 */
import { Duration, Stack, Token, Validations } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { ALARM_PERIOD, type FeedAlarms } from "./alarms.ts";
import {
  CONTENT_PREFIX,
  createFunction,
  FEEDS_PREFIX,
  grantList,
  grantObjects,
  HANDLERS_DIR,
  STATE_PREFIX,
} from "./functions.ts";

/** Where the stages write: the run's own folder, and the uploads a run has to apply again. */
export const RUNS_PREFIX = `${STATE_PREFIX}runs/`;
export const PENDING_PREFIX = `${STATE_PREFIX}pending/`;
const CATALOG_PREFIX = `${STATE_PREFIX}catalog/`;
const MEDIA_PREFIX = `${FEEDS_PREFIX}media/`;

/**
 * Rules for the site bucket: a run's parts are read within its two hours, pending uploads by the
 * next run's reduce. Their old versions are never read, so they go after a day, not after 30.
 */
export const WHOLE_SITE_LIFECYCLE_RULES: s3.LifecycleRule[] = [
  { id: "expire-run-parts", prefix: RUNS_PREFIX, expiration: Duration.days(2) },
  { id: "expire-pending-uploads", prefix: PENDING_PREFIX, expiration: Duration.days(7) },
].map((rule) => ({ ...rule, noncurrentVersionExpiration: Duration.days(1) }));

/**
 * A shuffle batch is a listing slice and a few media copies; a group reads, parses and renders
 * about GROUP_TARGET (4,000) articles, and the reduce merges every group's candidates and writes
 * every feed, so those two get the memory (and the CPU share that comes with it) and the longest
 * timeout Lambda allows.
 */
export const WHOLE_SITE_SIZING = {
  shuffle: { timeout: Duration.minutes(2), memorySize: 256 },
  plan: { timeout: Duration.minutes(1), memorySize: 256 },
  group: { timeout: Duration.minutes(15), memorySize: 1024 },
  reduce: { timeout: Duration.minutes(15), memorySize: 1024 },
} as const;

type Stage = keyof typeof WHOLE_SITE_SIZING;
type Access = { sid: string; actions: string[]; prefixes: string[] };
const read = (sid: string, ...prefixes: string[]): Access => ({ sid, actions: ["s3:GetObject"], prefixes });
const write = (sid: string, ...prefixes: string[]): Access => ({ sid, actions: ["s3:PutObject"], prefixes });
const ANY_OBJECT_ACCESS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"];

/** Each stage's S3 access (least privilege), beside the s3:ListBucket all four need. */
const STAGE_ACCESS: Record<Stage, Access[]> = {
  shuffle: [
    read("ReadContent", CONTENT_PREFIX),
    write("WriteParts", RUNS_PREFIX),
    // Media is published as the listing goes by: copied from content/, removed when its source is gone.
    { sid: "PublishMedia", actions: ANY_OBJECT_ACCESS, prefixes: [MEDIA_PREFIX] },
  ],
  plan: [read("ReadState", STATE_PREFIX), write("WriteParts", RUNS_PREFIX)],
  group: [
    read("ReadContentAndState", CONTENT_PREFIX, STATE_PREFIX),
    // Its catalog shards are written whole, and only the reduce's commit makes them current.
    write("WriteShardsAndParts", CATALOG_PREFIX, RUNS_PREFIX),
  ],
  reduce: [
    read("ReadContent", CONTENT_PREFIX),
    // Deletes: feeds no article belongs to any more, old shards, the run's parts, applied pending uploads.
    { sid: "WriteFeedsAndState", actions: ANY_OBJECT_ACCESS, prefixes: [FEEDS_PREFIX, STATE_PREFIX] },
    // Re-applying the pending uploads sets their outcome tags, as a regeneration does.
    {
      sid: "TagContent",
      actions: ["s3:GetObjectTagging", "s3:PutObjectTagging"],
      prefixes: [CONTENT_PREFIX],
    },
  ],
};

/** A run that takes longer has stalled: the alarm says so rather than letting it hang. */
export const WHOLE_SITE_TIMEOUT = Duration.hours(2);
/** Step Functions' own ceiling for a batch's input (the Items plus BatchInput). */
const MAX_BATCH_BYTES = 256 * 1024;
/** Errors of the Lambda service, not of our code: retried with backoff; anything else fails the run. */
const LAMBDA_SERVICE_ERRORS = [
  "Lambda.ClientExecutionTimeoutException",
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  // Throttled: the account's concurrency is shared, and 100 children start within seconds.
  "Lambda.TooManyRequestsException",
];

/** Properties of {@link WholeSiteRuns}. */
export interface WholeSiteRunsProps {
  /** The site bucket (content/, feeds/, _state/). */
  readonly bucket: s3.Bucket;
  /** The functions' environment: the same BUCKET_NAME and SITE_CONFIG as Regenerate's. */
  readonly environment: Record<string, string>;
  /** Retention of the functions' and the state machine's log groups. */
  readonly logRetention: logs.RetentionDays;
  /**
   * Children each Distributed Map runs at once (1–10000).
   * @default 100
   */
  readonly concurrency?: number;
  /**
   * Listed objects of content/ per shuffle child (1–100000); a batch also stops at 256 KB.
   * @default 2000
   */
  readonly shuffleBatchSize?: number;
}

/** The four stage functions and the state machine running them. */
export class WholeSiteRuns extends Construct {
  public readonly shuffleFunction: lambda.Function;
  public readonly planFunction: lambda.Function;
  public readonly groupFunction: lambda.Function;
  public readonly reduceFunction: lambda.Function;
  /** Standard state machine; start it with {"run": id} and the run id as execution name. */
  public readonly stateMachine: sfn.StateMachine;
  /** Where the state machine logs every state transition (without the data passed). */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WholeSiteRunsProps) {
    super(scope, id);
    const concurrency = checkedCount("wholeSiteConcurrency", props.concurrency ?? 100, 10_000);
    const batchSize = checkedCount("shuffleBatchSize", props.shuffleBatchSize ?? 2000, 100_000);
    const { bucket } = props;
    const stage = (name: Stage, id: string, description: string) => {
      const fn = createFunction(this, id, {
        entry: `${HANDLERS_DIR}whole-${name}.ts`,
        description: `feedpub whole-site run: ${description}`,
        environment: props.environment,
        logRetention: props.logRetention,
        ...WHOLE_SITE_SIZING[name],
      });
      for (const grant of STAGE_ACCESS[name]) grantObjects(fn, bucket, grant);
      grantList(fn, bucket);
      return fn;
    };
    this.shuffleFunction = stage("shuffle", "Shuffle", "split a batch of the content/ listing by group");
    this.planFunction = stage("plan", "Plan", "count the shuffled articles and choose the groups");
    this.groupFunction = stage("group", "Group", "read, parse and render one group of articles");
    this.reduceFunction = stage("reduce", "Reduce", "merge the groups, write every feed and commit");

    this.logGroup = new logs.LogGroup(this, "StateMachineLogs", { retention: props.logRetention });
    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      comment: "feedpub whole-site run: shuffle content/, render each group, reduce and commit",
      definitionBody: sfn.DefinitionBody.fromChainable(this.definition(bucket, concurrency, batchSize)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: WHOLE_SITE_TIMEOUT,
      tracingEnabled: true,
      // ALL for the transitions (which step failed, and when); no execution data, which would
      // copy every batch of up to 256 KB into the logs.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.acknowledgeStateMachineRole();
  }

  /** Shuffle → PlanGroups → Groups → Reduce; any error but a Lambda service error fails the run. */
  private definition(bucket: s3.IBucket, concurrency: number, batchSize: number): sfn.IChainable {
    const states = new Construct(this, "States");
    const shuffle = new sfn.DistributedMap(states, "Shuffle", {
      label: "Shuffle",
      itemReader: new sfn.S3ObjectsItemReader({ bucket, prefix: CONTENT_PREFIX }),
      // Only what the shuffle reads: the listing also carries LastModified and StorageClass.
      itemSelector: {
        Key: sfn.JsonPath.stringAt("$$.Map.Item.Value.Key"),
        // The ItemReader names S3's ETag "Etag" in each listed item.
        ETag: sfn.JsonPath.stringAt("$$.Map.Item.Value.Etag"),
        Size: sfn.JsonPath.numberAt("$$.Map.Item.Value.Size"),
      },
      itemBatcher: new sfn.ItemBatcher({
        maxItemsPerBatch: batchSize,
        maxInputBytesPerBatch: MAX_BATCH_BYTES,
        batchInput: { "run.$": "$.run" },
      }),
      maxConcurrency: concurrency,
      // Every child writes its results to S3; the map's own output would only grow with the site.
      resultPath: sfn.JsonPath.DISCARD,
    });
    shuffle.itemProcessor(invoke(states, "ShuffleBatch", this.shuffleFunction));

    const groups = new sfn.DistributedMap(states, "Groups", {
      label: "Groups",
      itemsPath: "$.groups",
      itemSelector: {
        run: sfn.JsonPath.stringAt("$.run"),
        group: sfn.JsonPath.numberAt("$$.Map.Item.Value"),
      },
      maxConcurrency: concurrency,
      resultPath: sfn.JsonPath.DISCARD,
    });
    groups.itemProcessor(invoke(states, "Group", this.groupFunction));

    const runOnly = { run: sfn.JsonPath.stringAt("$.run") };
    return shuffle
      .next(invoke(states, "PlanGroups", this.planFunction, runOnly))
      .next(groups)
      .next(invoke(states, "Reduce", this.reduceFunction, runOnly));
  }

  /**
   * Alarms for runs that did not complete, one per way of ending: failed, timed out, stopped.
   * A run is occasional, so each notifies once, without an OK message.
   */
  public watchRuns(alarms: FeedAlarms): cloudwatch.Alarm[] {
    const sm = this.stateMachine;
    const options = { period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM };
    const unpublished = `so the site-wide change it was started for (settings, a rebuild) is not fully published. Its execution history in the Step Functions console (state machine ${sm.stateMachineName}) shows the step that`;
    const rerun = "then start a new run (invoke the Reconcile function, or feedpub rebuild --bucket).";
    return [
      alarms.watchWholeSiteRun(
        "WholeSiteRunFailed",
        sm.metricFailed(options),
        `feedpub: a whole-site run failed, ${unpublished} failed and links to its function's log; fix the cause, ${rerun}`,
      ),
      alarms.watchWholeSiteRun(
        "WholeSiteRunTimedOut",
        sm.metricTimedOut(options),
        `feedpub: a whole-site run took longer than ${WHOLE_SITE_TIMEOUT.toHumanString()} and was stopped, ${unpublished} was running; look for throttled or slow children, ${rerun}`,
      ),
      alarms.watchWholeSiteRun(
        "WholeSiteRunAborted",
        sm.metricAborted(options),
        `feedpub: a whole-site run was stopped (StopExecution), ${unpublished} was running; if nobody meant to stop it, ${rerun}`,
      ),
    ];
  }

  /** The findings CDK's own grants to the state machine's role raise, each for a reason AWS sets. */
  private acknowledgeStateMachineRole(): void {
    const stack = Stack.of(this);
    const role = this.stateMachine.role;
    Validations.of(role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "X-Ray (PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs vended delivery (logs:*LogDelivery*, *ResourcePolicy*, DescribeLogGroups) take no resource ARN; CDK grants exactly these for tracing and logging.",
    });
    // Added by CDK for the Distributed Maps: describing and stopping this state machine's
    // executions, and redriving its Map Runs' children (execution names are only known at start).
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${stack.getLogicalId(this.stateMachine.node.defaultChild as sfn.CfnStateMachine)}"}]}]}`;
    const mapPolicy = this.stateMachine.node.findChild("DistributedMapPolicy");
    for (const run of ["", "/Shuffle", "/Groups"]) {
      Validations.of(mapPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${executions}${run}:*]`,
        reason: `Executions${run ? ` of the ${run.slice(1)} Map Run` : ""} of this state machine only, whose names are the run ids given at start; CDK grants these for Distributed Map child executions.`,
      });
    }
    for (const fn of [this.shuffleFunction, this.planFunction, this.groupFunction, this.reduceFunction]) {
      const fnId = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
        reason: `Versions and aliases of the ${fn.node.id} function only (LambdaInvoke grants the function ARN and its qualified ARNs).`,
      });
    }
  }
}

/** A Lambda task whose output is the function's result alone (not the invocation's metadata). */
function invoke(
  scope: Construct,
  id: string,
  fn: lambda.IFunction,
  payload?: Record<string, unknown>,
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: fn,
    ...(payload ? { payload: sfn.TaskInput.fromObject(payload) } : {}),
    outputPath: "$.Payload",
    retryOnServiceExceptions: false,
  });
  task.addRetry({
    errors: LAMBDA_SERVICE_ERRORS,
    interval: Duration.seconds(2),
    maxAttempts: 6,
    backoffRate: 2,
  });
  return task;
}

/** `value`, checked to be a whole number from 1 to `max` (a token is taken as it is). */
function checkedCount(setting: string, value: number, max: number): number {
  if (Token.isUnresolved(value) || (Number.isInteger(value) && value >= 1 && value <= max)) return value;
  throw new Error(`FeedPublisher: ${setting} must be a whole number from 1 to ${max}, got ${value}`);
}
