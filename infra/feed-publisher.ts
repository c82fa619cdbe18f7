import { CfnOutput, Duration, Stack, Validations } from "aws-cdk-lib";
import type { ICertificate } from "aws-cdk-lib/aws-certificatemanager";
import type * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import type * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3n from "aws-cdk-lib/aws-s3-notifications";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { checkAlarmEmail, FeedAlarms } from "./alarms.ts";
import { createFeedsDistribution } from "./distribution.ts";
import {
  CONTENT_PREFIX,
  createFunction,
  FEEDS_PREFIX,
  type FunctionOptions,
  grantList,
  grantObjects,
  HANDLERS_DIR,
  STATE_PREFIX,
} from "./functions.ts";
import { type FeedSiteProps, validatedSiteSettings } from "./site-settings.ts";
import { WHOLE_SITE_LIFECYCLE_RULES, WholeSiteRuns } from "./whole-site.ts";

export { CONTENT_PREFIX, FEEDS_PREFIX, FUNCTION_RUNTIME, STATE_PREFIX } from "./functions.ts";
export type { FeedAuthorProps, FeedSiteProps } from "./site-settings.ts";

/**
 * Timeouts and memory, sized from BENCHMARKS.md (10,000 articles on moto): one regeneration
 * peaks at about 112 MB resident and takes well under a second, so 512 MB (for the CPU share
 * Lambda gives with it, which shortens each regeneration) with a 60 s ceiling for a 100-event
 * batch; a full rebuild peaks at about 280 MB and took about a minute against moto, so 1 GB
 * and 5 minutes. The queue's visibility timeout is derived from the regenerate timeout.
 */
export const FUNCTION_SIZING = {
  regenerate: { timeout: Duration.seconds(60), memorySize: 512 },
  reconcile: { timeout: Duration.minutes(5), memorySize: 1024 },
} as const;

/** How many S3 events one regeneration may take, and how long Lambda waits to fill a batch. */
const BATCH_SIZE = 100;
const MAX_BATCHING_WINDOW = Duration.seconds(5);
/** AWS guidance for SQS event sources: at least 6x the function timeout, plus the batching window. */
const QUEUE_VISIBILITY = Duration.seconds(
  6 * FUNCTION_SIZING.regenerate.timeout.toSeconds() + MAX_BATCHING_WINDOW.toSeconds(),
);

/** Properties of a {@link FeedPublisher}. */
export interface FeedPublisherProps {
  /** Site settings written into the feeds. */
  readonly site: FeedSiteProps;
  /**
   * Newest items per feed (1–1000).
   * @default 50 (the core's DEFAULT_ITEM_LIMIT)
   */
  readonly itemLimit?: number;
  /**
   * Custom domain served by CloudFront (e.g. "feeds.example.com"); requires `certificate`.
   * @default - the distribution's own *.cloudfront.net domain
   */
  readonly domainName?: string;
  /**
   * ACM certificate for `domainName`. CloudFront only accepts certificates in us-east-1,
   * whatever region the stack is deployed to.
   * @default - none (required when `domainName` is set)
   */
  readonly certificate?: ICertificate;
  /**
   * When the reconcile function rebuilds every feed from scratch. Articles scheduled for a later
   * date (publishDate) appear at the first run after that date unless an upload happens sooner.
   * @default - once a day
   */
  readonly reconcileSchedule?: events.Schedule;
  /**
   * How often scheduled articles are checked for (default every 5 minutes): a future-dated
   * article appears within this time of its date without another upload. Each check that finds
   * nothing due costs one S3 GET.
   */
  readonly publishSchedule?: events.Schedule;
  /**
   * Retention of both functions' log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Email address subscribed to the alarm topic (SNS asks it to confirm first). Checked at synth.
   * @default - none: subscribe to the topic (output `AlarmTopicArn`) yourself
   */
  readonly alarmEmail?: string;
  /**
   * Children each Distributed Map of a whole-site run runs at once (1–10000).
   * @default 100
   */
  readonly wholeSiteConcurrency?: number;
  /**
   * Articles listed per shuffle child of a whole-site run (1–100000).
   * @default 2000
   */
  readonly shuffleBatchSize?: number;
}

/**
 * Feed publishing pipeline: editors upload under `content/` in a private bucket; each upload or
 * delete reaches the regenerate function through an SQS queue; a scheduled reconcile rebuilds
 * everything; CloudFront serves `feeds/` and nothing else. Wiring only: the behaviour lives in
 * functions/handlers.
 *
 * Stack outputs are named `RssFeedUrl`, `AtomFeedUrl`, `JsonFeedUrl`, `BucketName`,
 * `ContentPrefix`, `DeadLetterQueueUrl`, `AlarmTopicArn` and `WholeSiteStateMachineArn`, so use one
 * FeedPublisher per stack.
 */
export class FeedPublisher extends Construct {
  /** The bucket holding `content/`, `feeds/` and `_state/`. */
  public readonly bucket: s3.Bucket;
  /** Bucket receiving the S3 server access logs and the CloudFront access logs. */
  public readonly logBucket: s3.Bucket;
  /** Queue of S3 events for `content/`, consumed by the regenerate function. */
  public readonly queue: sqs.Queue;
  /** Messages that failed five times. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Alarm raised while the dead-letter queue holds any message (one of `alarms.alarms`). */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  /** The alarms of the pipeline and their topic. */
  public readonly alarms: FeedAlarms;
  /** Where every alarm is published: subscribe to it (or pass `alarmEmail`). */
  public readonly alarmTopic: sns.Topic;
  /** Rebuilds the feeds after uploads and deletes. */
  public readonly regenerateFunction: nodejs.NodejsFunction;
  /** Scheduled full rebuild. */
  public readonly reconcileFunction: nodejs.NodejsFunction;
  /** Whole-site map/reduce runs, which Regenerate and Reconcile start. */
  public readonly wholeSite: WholeSiteRuns;
  /** The state machine of `wholeSite`. */
  public readonly stateMachine: sfn.StateMachine;
  /** Serves `feeds/` only. */
  public readonly distribution: cloudfront.Distribution;
  /** Domain the feeds are served from: `domainName` or the distribution's domain. */
  public readonly feedsDomainName: string;

  constructor(scope: Construct, id: string, props: FeedPublisherProps) {
    super(scope, id);
    // Before anything is bundled: a bad address should fail at once, not after esbuild.
    checkAlarmEmail(props.alarmEmail);
    const stack = Stack.of(this);
    const siteSettings = validatedSiteSettings(props.site, props.itemLimit);

    this.logBucket = new s3.Bucket(this, "LogBucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logging writes through ACLs, so this bucket cannot enforce bucket-owner.
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [
        {
          id: "expire-logs",
          expiration: Duration.days(90),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    // No AwsSolutions-S1 finding to acknowledge: cdk-nag accepts a bucket that is itself a log target.

    this.bucket = new s3.Bucket(this, "Bucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: "s3-access/",
      lifecycleRules: [
        {
          id: "expire-old-versions",
          noncurrentVersionExpiration: Duration.days(30),
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        ...WHOLE_SITE_LIFECYCLE_RULES,
      ],
    });

    this.deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // No AwsSolutions-SQS3 finding: cdk-nag recognises a queue used as another queue's DLQ.
    this.queue = new sqs.Queue(this, "Queue", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: QUEUE_VISIBILITY,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });

    // The functions write only feeds/ and _state/, so filtering on content/ keeps them from
    // triggering themselves.
    const toQueue = new s3n.SqsDestination(this.queue);
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, toQueue, { prefix: CONTENT_PREFIX });
    this.bucket.addEventNotification(s3.EventType.OBJECT_REMOVED, toQueue, { prefix: CONTENT_PREFIX });
    this.acknowledgeNotificationsHandler();

    this.distribution = createFeedsDistribution(this, {
      bucket: this.bucket,
      logBucket: this.logBucket,
      feedsPrefix: FEEDS_PREFIX,
      domainName: props.domainName,
      certificate: props.certificate,
    });
    this.feedsDomainName = props.domainName ?? this.distribution.distributionDomainName;
    const feedsUrl = siteSettings.feedsUrl ?? `https://${this.feedsDomainName}/${FEEDS_PREFIX}`;

    const environment = {
      BUCKET_NAME: this.bucket.bucketName,
      // toJsonString keeps the distribution's domain name (a token) valid inside the JSON.
      SITE_CONFIG: stack.toJsonString({ ...siteSettings, feedsUrl }),
    };
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.wholeSite = new WholeSiteRuns(this, "WholeSite", {
      bucket: this.bucket,
      environment,
      logRetention,
      concurrency: props.wholeSiteConcurrency,
      shuffleBatchSize: props.shuffleBatchSize,
    });
    this.stateMachine = this.wholeSite.stateMachine;
    const starterEnvironment = { ...environment, STATE_MACHINE_ARN: this.stateMachine.stateMachineArn };

    this.regenerateFunction = this.createFunction("Regenerate", {
      entry: `${HANDLERS_DIR}regenerate.ts`,
      description: "feedpub: regenerate feeds/ after uploads and deletes under content/",
      environment: starterEnvironment,
      logRetention,
      ...FUNCTION_SIZING.regenerate,
    });
    this.regenerateFunction.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: BATCH_SIZE,
        // A burst of uploads becomes a few regenerations rather than one per object.
        maxBatchingWindow: MAX_BATCHING_WINDOW,
        reportBatchItemFailures: true,
        // Caps parallel regenerations without reserved concurrency, which would throttle the
        // poller and push healthy messages into the DLQ.
        maxConcurrency: 2,
      }),
    );

    this.reconcileFunction = this.createFunction("Reconcile", {
      entry: `${HANDLERS_DIR}reconcile.ts`,
      description: "feedpub: scheduled full rebuild of feeds/ from content/",
      environment: starterEnvironment,
      logRetention,
      ...FUNCTION_SIZING.reconcile,
    });
    const reconcileSchedule = new events.Rule(this, "ReconcileSchedule", {
      description: "feedpub: scheduled full rebuild (catches lost events and scheduled articles)",
      schedule: props.reconcileSchedule ?? events.Schedule.rate(Duration.days(1)),
      targets: [new targets.LambdaFunction(this.reconcileFunction, { retryAttempts: 2 })],
    });

    const publishSchedule = new events.Rule(this, "PublishSchedule", {
      description: "feedpub: publish scheduled articles whose time has come (one index read if none)",
      schedule: props.publishSchedule ?? events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(this.regenerateFunction, { retryAttempts: 2 })],
    });

    this.alarms = new FeedAlarms(this, "Alarms", {
      email: props.alarmEmail,
      pipeline: {
        regenerate: this.regenerateFunction,
        reconcile: this.reconcileFunction,
        queue: this.queue,
        queueVisibility: QUEUE_VISIBILITY,
        deadLetterQueue: this.deadLetterQueue,
        publishSchedule,
        reconcileSchedule,
      },
    });
    this.wholeSite.watchRuns(this.alarms);
    this.alarmTopic = this.alarms.topic;
    this.deadLetterAlarm = this.alarms.deadLetterAlarm;

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description }).overrideLogicalId(id);
    output("FeedsUrl", feedsUrl, "Where feeds/ is served: the feedsUrl of feedpub.config.yaml");
    output("LandingPageUrl", `${feedsUrl}index.html`, "The page to give readers: every feed, to subscribe");
    output("RssFeedUrl", `${feedsUrl}rss.xml`, "RSS 2.0 feed");
    output("AtomFeedUrl", `${feedsUrl}atom.xml`, "Atom 1.0 feed");
    output("JsonFeedUrl", `${feedsUrl}feed.json`, "JSON Feed 1.1");
    output("BucketName", this.bucket.bucketName, "Bucket holding content/, feeds/ and _state/");
    output("ContentPrefix", `s3://${this.bucket.bucketName}/${CONTENT_PREFIX}`, "Upload articles here");
    output("DeadLetterQueueUrl", this.deadLetterQueue.queueUrl, "S3 events that failed five times");
    output("AlarmTopicArn", this.alarmTopic.topicArn, "SNS topic of every alarm: subscribe to it to be told");
    output("WholeSiteStateMachineArn", this.stateMachine.stateMachineArn, "State machine of whole-site runs");
    // With a custom domain, the target of its DNS record (CNAME or alias).
    output(
      "DistributionDomainName",
      this.distribution.distributionDomainName,
      "CloudFront's own domain; point a custom domain's DNS here",
    );
  }

  /** A function of the pipeline: its own role and log group, and the pipeline's S3 access. */
  private createFunction(id: string, options: FunctionOptions): nodejs.NodejsFunction {
    const fn = createFunction(this, id, options);
    const grant = (sid: string, actions: string[], prefixes: string[]) =>
      grantObjects(fn, this.bucket, { sid, actions, prefixes });
    grant("ReadContent", ["s3:GetObject"], [CONTENT_PREFIX]);
    // The outcome tags editors see on their articles (feedpub-status, feedpub-reason). Reading the
    // tag set first is what keeps the editor's own tags (S3 replaces the whole set) and skips a
    // write when the tags are right already. Tags change no ETag, and s3:ObjectTagging:* events
    // are not among the notifications, so tagging triggers nothing. Current versions only: a
    // version id would need the s3:*ObjectVersionTagging actions.
    grant("TagContent", ["s3:GetObjectTagging", "s3:PutObjectTagging"], [CONTENT_PREFIX]);
    grant("ReadWriteFeedsAndState", ["s3:GetObject", "s3:PutObject"], [FEEDS_PREFIX, STATE_PREFIX]);
    // Deletes: catalog shards no index names any more (the full rebuild collects them), the feeds
    // of a tag no article has any more, and published media whose source was deleted.
    grant("DeleteOldStateAndFeeds", ["s3:DeleteObject"], [`${STATE_PREFIX}catalog/`, FEEDS_PREFIX]);
    // The reconcile lists content/; both rely on 404 for deleted articles (see grantList).
    grantList(fn, this.bucket);
    // They start whole-site runs; reading or stopping executions is not theirs to do.
    this.stateMachine.grantStartExecution(fn);
    return fn;
  }

  /**
   * Bucket notifications are configured by a stack-wide singleton Lambda that CDK creates; its
   * role is not ours to shape, so its one finding is acknowledged on it alone. (Its
   * s3:PutBucketNotification statement is already scoped to this bucket, so no IAM5.)
   */
  private acknowledgeNotificationsHandler(): void {
    const handler = Stack.of(this).node.tryFindChild(
      "BucketNotificationsHandler050a0587b7544547bf325f094a3db834",
    );
    if (!handler) return;
    Validations.of(handler).acknowledge({
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      reason:
        "CDK's BucketNotificationsHandler, a deploy-time custom resource whose role CDK creates, logs through the AWS managed basic execution policy; it never runs on the request path.",
    });
  }
}
