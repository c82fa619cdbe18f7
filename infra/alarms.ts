/**
 * Alarms that reach someone: one encrypted SNS topic (optionally with an email subscription) and
 * the CloudWatch alarms of the pipeline, each with the topic as its alarm action. Wiring only: the
 * FeedPublisher hands over the pipeline's parts; this construct knows what to watch on each and how
 * to say what a notification means. More alarms go through `alarm()` or `watchWholeSiteRun()`.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, Token } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

/**
 * The window every alarm looks at. Five minutes is the publish schedule's rate, so a schedule
 * that fails every run keeps its alarm raised instead of flapping between ALARM and OK.
 */
export const ALARM_PERIOD = Duration.minutes(5);

/** Longest address SNS and SMTP take (RFC 5321: 64 for the local part, 254 in all). */
const EMAIL_LIMITS = { local: 64, total: 254 } as const;
/** RFC 5322 dot-atom local part; quoted local parts and IP-literal domains are refused. */
const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** A DNS host name with at least two labels and an alphabetic top-level domain. */
const EMAIL_DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;

/**
 * Why `address` cannot receive the alarms, or undefined if it can. SNS itself only fails the
 * deploy (or, for a typo in the domain, never delivers), so the address is checked at synth time.
 */
export function alarmEmailProblem(address: string): string | undefined {
  const at = address.lastIndexOf("@");
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const valid =
    at > 0 &&
    address.length <= EMAIL_LIMITS.total &&
    local.length <= EMAIL_LIMITS.local &&
    EMAIL_LOCAL.test(local) &&
    EMAIL_DOMAIN.test(domain);
  if (valid) return undefined;
  const shown = address.length > 80 ? `${address.slice(0, 80)}...` : address;
  return `must be one email address like ops@example.org, got ${JSON.stringify(shown)}`;
}

/** The parts of the pipeline whose failures nobody would otherwise see. */
export interface WatchedPipeline {
  /** The function fed by the queue and invoked by the publish schedule. */
  readonly regenerate: lambda.Function;
  /** The scheduled full rebuild. */
  readonly reconcile: lambda.Function;
  /** Queue of S3 events consumed by `regenerate`. */
  readonly queue: sqs.IQueue;
  /** Its visibility timeout: how long a message that failed waits for its retry. */
  readonly queueVisibility: Duration;
  /** Where the queue's messages go after five failed receives. */
  readonly deadLetterQueue: sqs.IQueue;
  /** Rule invoking `regenerate` to publish articles whose time has come. */
  readonly publishSchedule: events.IRule;
  /** Rule invoking `reconcile`. */
  readonly reconcileSchedule: events.IRule;
}

/** Throws, naming the setting, when `address` (if given) cannot receive the alarms. */
export function checkAlarmEmail(address: string | undefined): void {
  if (address === undefined || Token.isUnresolved(address)) return;
  const problem = alarmEmailProblem(address);
  if (problem) throw new Error(`FeedPublisher: alarmEmail ${problem}`);
}

/** Properties of {@link FeedAlarms}. */
export interface FeedAlarmsProps {
  /** What to watch. */
  readonly pipeline: WatchedPipeline;
  /**
   * Email address subscribed to the topic. SNS sends it a confirmation message first; alarms
   * reach it only once the link in that message is followed.
   * @default - no subscription: subscribe to the topic yourself
   */
  readonly email?: string;
}

/** How one alarm is raised, and whether its recovery is worth a message too. */
export interface FeedAlarmOptions {
  /** What is measured. */
  readonly metric: cloudwatch.IMetric;
  /** What happened and what to do, in a sentence or two: the body of the notification. */
  readonly description: string;
  /**
   * The alarm is raised when the metric is at or above this value for one period.
   * @default 1 (a count: any failure)
   */
  readonly threshold?: number;
  /**
   * Raised only above the threshold, not at it.
   * @default false
   */
  readonly strictlyAbove?: boolean;
  /**
   * Also notify when the alarm returns to OK. Only meaningful where "no data" means "healthy
   * again": a metric reported every period (the queues) or a function invoked every period. For a
   * daily run, five quiet minutes after a failure say nothing, so such alarms notify only once.
   */
  readonly notifyRecovery: boolean;
}

/**
 * The alarm topic and the alarms publishing to it. Every alarm is named `<stack>-<id>`, so the
 * subject of a notification says which stack and what: `ALARM: "Feedpub-RegenerateErrors"`.
 */
export class FeedAlarms extends Construct {
  /** Where every alarm (and OK, where it means something) is published. */
  public readonly topic: sns.Topic;
  /** Every alarm created so far, in order. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** Raised while the dead-letter queue holds any message. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: FeedAlarmsProps) {
    super(scope, id);
    checkAlarmEmail(props.email);
    const stack = Stack.of(this);
    // CloudWatch cannot publish to a topic encrypted with the AWS managed key (alias/aws/sns),
    // whose policy cannot name it; hence a key of our own. It encrypts only these notifications,
    // which SNS holds for seconds, so it goes with the stack (after KMS's waiting period).
    const key = new kms.Key(this, "TopicKey", {
      description: "feedpub: encrypts the alarm notifications topic",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // No condition keys here: the topic policy below already limits publishing to this account's
    // alarms, and a condition the KMS request does not carry would drop every notification unseen.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "CloudWatchAlarmsEncrypt",
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      }),
    );
    this.topic = new sns.Topic(this, "Topic", {
      displayName: "feedpub alarms",
      masterKey: key,
      enforceSSL: true,
    });
    // The topic policy CDK writes for enforceSSL replaces SNS's default one, so CloudWatch needs
    // its own statement; confined to alarms of this account and region (confused deputy).
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "CloudWatchAlarmsPublish",
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { "aws:SourceAccount": stack.account },
          ArnLike: {
            "aws:SourceArn": stack.formatArn({
              service: "cloudwatch",
              resource: "alarm",
              resourceName: "*",
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    if (props.email !== undefined) this.topic.addSubscription(new EmailSubscription(props.email));
    this.action = new SnsAction(this.topic);
    this.deadLetterAlarm = this.watchPipeline(props.pipeline);
  }

  /**
   * What can go wrong without anyone seeing it: each function's errors and throttles, S3 events
   * stuck in the queue or dead-lettered, and scheduled runs that never completed.
   */
  private watchPipeline(pipeline: WatchedPipeline): cloudwatch.Alarm {
    const { regenerate, reconcile } = pipeline;
    this.watchFunction("Regenerate", regenerate, {
      failed: "queued uploads are retried and the publish schedule runs again, so act if it repeats.",
      // It runs every 5 minutes, so a quiet period after a failure means it works again.
      notifyRecovery: true,
    });
    this.watchFunction("Reconcile", reconcile, {
      failed: "Lambda retries it twice, and ReconcileRunFailed follows if both retries fail too.",
      notifyRecovery: false,
    });
    const deadLetterAlarm = this.watchDeadLetterQueue(pipeline.deadLetterQueue, regenerate);
    // A healthy queue drains in seconds (the 5 s batching window plus a regeneration; a burst of
    // 1,000 uploads takes 10 regenerations). A message that failed once waits one visibility
    // timeout for its retry, so only one older than two has failed twice or is not consumed at all
    // (mapping disabled, function unable to start): the case the DLQ alarm never sees, since
    // unreceived messages never reach the DLQ. Five failures (about 30 minutes) dead-letter it.
    this.watchQueueAge(pipeline.queue, Duration.seconds(2 * pipeline.queueVisibility.toSeconds()));
    this.alarm("PublishScheduleFailed", {
      metric: scheduledRunFailures(pipeline.publishSchedule, regenerate),
      description: `feedpub: a scheduled publish run did not complete (EventBridge could not invoke Regenerate, or it failed three times), so articles whose publishDate has come may not be in the feeds yet. Find the error in ${regenerate.logGroup.logGroupName}; the next run publishes them once the cause is fixed.`,
      notifyRecovery: true,
    });
    // Whole-site work. A Step Functions rebuild adds its own: watchWholeSiteRun(id, sm.metricFailed(), ...).
    this.watchWholeSiteRun(
      "ReconcileRunFailed",
      scheduledRunFailures(pipeline.reconcileSchedule, reconcile),
      `feedpub: the scheduled full rebuild (Reconcile) did not complete (EventBridge could not invoke it, or it failed three times), so anything an S3 event missed stays unrepaired. Find the error in ${reconcile.logGroup.logGroupName}, fix it, then run aws lambda invoke --function-name ${reconcile.functionName} --invocation-type Event /dev/null (or feedpub rebuild --bucket).`,
    );
    return deadLetterAlarm;
  }

  /**
   * An alarm on `options.metric` over one {@link ALARM_PERIOD}, publishing to the topic. Missing
   * data is not breaching: every metric watched here is a count or an age that is simply not
   * reported while nothing happens.
   */
  public alarm(id: string, options: FeedAlarmOptions): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `${Stack.of(this).stackName}-${id}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold ?? 1,
      evaluationPeriods: 1,
      comparisonOperator: options.strictlyAbove
        ? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
        : cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    if (options.notifyRecovery) alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }

  /**
   * `<id>Errors` and `<id>Throttles` of one function. Errors counts invocations that threw,
   * timed out or ran out of memory; `failed` says what that means for the feeds and what to do.
   */
  public watchFunction(
    id: string,
    fn: lambda.Function,
    options: { failed: string; notifyRecovery: boolean },
  ): void {
    this.alarm(`${id}Errors`, {
      metric: fn.metricErrors({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
      description: `feedpub: the ${id} function failed (an error, a timeout or out of memory) in the last ${ALARM_PERIOD.toHumanString()}; ${options.failed} Its log group ${fn.logGroup.logGroupName} has the error.`,
      notifyRecovery: options.notifyRecovery,
    });
    this.alarm(`${id}Throttles`, {
      metric: fn.metricThrottles({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
      description: `feedpub: Lambda refused to run the ${id} function (throttled) in the last ${ALARM_PERIOD.toHumanString()}, so its work is delayed and retried. feedpub runs at most a few functions at once: look for what uses up the account's concurrency (or a reserved concurrency of 0 on ${id}), or ask for a higher quota.`,
      notifyRecovery: true,
    });
  }

  /** Raised while any message is in the dead-letter queue; OK again once it is emptied. */
  public watchDeadLetterQueue(queue: sqs.IQueue, consumer: lambda.Function): cloudwatch.Alarm {
    return this.alarm("DeadLetterQueue", {
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: ALARM_PERIOD,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      description: `feedpub: S3 events failed to regenerate the feeds five times and are in the dead-letter queue, so those uploads or deletions are missing from the feeds. Find "regeneration failed" in ${consumer.logGroup.logGroupName} for the keys and the reason, fix it, then rebuild (feedpub rebuild --bucket, or invoke the Reconcile function) and purge the dead-letter queue.`,
      notifyRecovery: true,
    });
  }

  /** Raised when the oldest S3 event in the queue is older than `maxAge`. */
  public watchQueueAge(queue: sqs.IQueue, maxAge: Duration): cloudwatch.Alarm {
    return this.alarm("QueueAge", {
      metric: queue.metricApproximateAgeOfOldestMessage({
        period: ALARM_PERIOD,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: maxAge.toSeconds(),
      strictlyAbove: true,
      description: `feedpub: an S3 event has waited more than ${maxAge.toHumanString()} in the queue, where uploads normally spend seconds, so regenerations keep failing or nothing consumes the queue. Check the Regenerate errors and throttles alarms and its log group, and that the queue's event source mapping is enabled.`,
      notifyRecovery: true,
    });
  }

  /**
   * An alarm for a whole-site run (today the scheduled Reconcile; later a state machine: pass
   * `stateMachine.metricFailed()` as `failures`). Raised once per failed run, no OK message: a run
   * is a daily event, and the next one succeeding is the only recovery there is.
   */
  public watchWholeSiteRun(id: string, failures: cloudwatch.IMetric, description: string): cloudwatch.Alarm {
    return this.alarm(id, { metric: failures, description, notifyRecovery: false });
  }
}

/**
 * Runs of a schedule that did not complete: EventBridge could not invoke the function
 * (FailedInvocations of the rule), or Lambda gave up on the event after the function failed it
 * and its retries (AsyncEventsDropped). Each function's schedule is its only asynchronous caller,
 * so dropped events are exactly lost scheduled runs.
 */
export function scheduledRunFailures(rule: events.IRule, fn: lambda.IFunction): cloudwatch.IMetric {
  return new cloudwatch.MathExpression({
    expression: "FILL(notInvoked, 0) + FILL(dropped, 0)",
    usingMetrics: {
      notInvoked: new cloudwatch.Metric({
        namespace: "AWS/Events",
        metricName: "FailedInvocations",
        dimensionsMap: { RuleName: rule.ruleName },
        statistic: cloudwatch.Stats.SUM,
      }),
      dropped: fn.metric("AsyncEventsDropped", { statistic: cloudwatch.Stats.SUM }),
    },
    label: "failed scheduled runs",
    period: ALARM_PERIOD,
  });
}
