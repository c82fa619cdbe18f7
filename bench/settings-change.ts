/**
 * Section 10 of BENCHMARKS.md: a settings change on the bench's bucket (moto), as a deploy with a
 * new site title makes one. The synthesized Regenerate bundle, with the stack's settings and a state
 * machine of moto's Step Functions, gets uploads one after the other in fresh processes; then the
 * run it started is driven stage by stage with the synthesized whole-site bundles, as the state
 * machine would (test/support/state-machine-driver.ts); then one more upload. Each invocation's
 * time and peak memory are reported, and what the feeds show afterwards.
 */
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { CreateStateMachineCommand, ListExecutionsCommand, SFNClient } from "@aws-sdk/client-sfn";
import { CONTENT_PREFIX, INDEX_KEY } from "../functions/engine/publish.ts";
import type { FeedIndex } from "../functions/engine/state/head.ts";
import { S3Storage } from "../functions/storage/s3-storage.ts";
import { type Deployed, type Invocation, invokeFresh } from "../test/support/deployed.ts";
import { FAKE_CREDENTIALS, MOTO_ACCOUNT, MOTO_REGION, type Moto } from "../test/support/moto.ts";
import {
  deployedStarter,
  driveRun,
  type Stage,
  synthesizedMachine,
} from "../test/support/state-machine-driver.ts";
import { seedBody } from "./corpus.ts";

const UPLOADS_DURING = 5;

interface UploadRow {
  readonly when: string;
  readonly invocation: Invocation;
  readonly failures: number;
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** The bucket through the storage port, as the functions read it. */
function bucketOf(s3: S3Client, bucket: string) {
  const storage = new S3Storage(s3, bucket);
  return {
    text: async (key: string) => {
      const got = await storage.get(key);
      return got ? Buffer.from(got.body).toString("utf8") : undefined;
    },
    keysUnder: async (prefix: string) => {
      const keys: string[] = [];
      for await (const info of storage.list(prefix)) keys.push(info.key);
      return keys;
    },
  };
}

/**
 * The settings change, measured; `cdkOut` holds the synthesized stack. Returns the section's
 * lines. Afterwards the bucket's state is the stack's settings (section 4's cold starts measure
 * an upload, not this).
 */
export async function settingsChange(input: {
  moto: Moto;
  s3: S3Client;
  bucket: string;
  cdkOut: string;
  articles: number;
  oldTitle: string;
  log: (line: string) => void;
}): Promise<string[]> {
  const { moto, s3, bucket, log } = input;
  const stored = bucketOf(s3, bucket);
  const aws = {
    endpoint: moto.endpoint,
    region: MOTO_REGION,
    accessKeyId: FAKE_CREDENTIALS.accessKeyId,
    secretAccessKey: FAKE_CREDENTIALS.secretAccessKey,
  };
  const machine = await synthesizedMachine(input.cdkOut, {
    bucket,
    distributionDomain: "d111111abcdef8.cloudfront.net",
  });
  const sfn = new SFNClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: FAKE_CREDENTIALS });
  try {
    // moto's Step Functions records executions; the driver below plays the definition's part.
    const created = await sfn.send(
      new CreateStateMachineCommand({
        name: `WholeSite-${bucket}`,
        definition: JSON.stringify({ StartAt: "Run", States: { Run: { Type: "Pass", End: true } } }),
        roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/feedpub-whole-site`,
      }),
    );
    const stateMachineArn = created.stateMachineArn ?? "";
    const starter = await deployedStarter(input.cdkOut, "Regenerate", machine, stateMachineArn);
    const regenerate: Deployed = {
      ...starter,
      environment: { ...starter.environment, AWS_ENDPOINT_URL_SFN: moto.endpoint },
    };
    const newTitle = (JSON.parse(regenerate.environment.SITE_CONFIG ?? "{}") as { title: string }).title;
    const executions = async () =>
      ((await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? []).length;
    const body = await seedBody();
    const titles: string[] = [];
    const upload = async (n: number, when: string): Promise<UploadRow> => {
      const key = `news/settings-change-${n}.md`;
      const title = `Settings change upload ${n}`;
      titles.push(title);
      const date = new Date(Date.now() - 60_000 * (10 - n)).toISOString();
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: CONTENT_PREFIX + key,
          Body: `---\ntitle: "${title}"\ndate: ${date}\n---\n${body}\n`,
        }),
      );
      const event = {
        Records: [
          {
            messageId: `settings-${n}`,
            body: JSON.stringify({
              Records: [{ eventName: "ObjectCreated:Put", s3: { object: { key: CONTENT_PREFIX + key } } }],
            }),
          },
        ],
      };
      const invocation = await invokeFresh(regenerate, event, aws);
      const result = invocation.result as { batchItemFailures?: unknown[] } | null;
      return { when, invocation, failures: result?.batchItemFailures?.length ?? 1 };
    };

    log(`  ${UPLOADS_DURING} uploads to Regenerate with the stack's settings`);
    const rows: UploadRow[] = [];
    for (let n = 1; n <= UPLOADS_DURING; n++)
      rows.push(await upload(n, n === 1 ? "first after the change" : "while the run is under way"));
    const started = await executions();
    const head = JSON.parse((await stored.text(INDEX_KEY)) ?? "{}") as FeedIndex;
    const run = head.wholeSite?.run ?? "";
    const pending = (await stored.keysUnder("_state/pending/")).length;

    log("  driving the run with the synthesized stage bundles");
    const stages = new Map<Stage, Invocation[]>();
    const began = performance.now();
    const driven = await driveRun(machine, {
      s3,
      bucket,
      run,
      aws,
      concurrency: 2,
      onInvoke: (stage, invocation) => {
        stages.set(stage, [...(stages.get(stage) ?? []), invocation]);
      },
    });
    const runMs = performance.now() - began;
    rows.push(await upload(UPLOADS_DURING + 1, "after the run committed"));

    log("  checking the feeds");
    let feeds = 0;
    let stale = 0;
    for (const key of await stored.keysUnder("feeds/")) {
      if (!key.endsWith("feed.json")) continue;
      feeds++;
      const feed = JSON.parse((await stored.text(key)) ?? "{}") as { title?: string };
      if (!feed.title?.includes(newTitle) || feed.title.includes(input.oldTitle)) stale++;
    }
    const main = JSON.parse((await stored.text("feeds/feed.json")) ?? "{}") as {
      items?: { title?: string }[];
    };
    const shown = new Set((main.items ?? []).map((item) => item.title));
    const inFeed = titles.filter((title) => shown.has(title)).length;
    const after = JSON.parse((await stored.text(INDEX_KEY)) ?? "{}") as FeedIndex;

    const stageRow = (stage: Stage, label: string) => {
      const list = stages.get(stage) ?? [];
      const longest = Math.max(...list.map((i) => i.wallMs));
      const handler = Math.max(...list.map((i) => i.firstEventMs));
      const rss = Math.max(...list.map((i) => i.maxRssBytes));
      return `| ${label} | ${list.length} | ${s(handler)} (${s(longest)} with its process) | ${mb(rss)} |`;
    };
    return [
      `## 10. A settings change at ${input.articles.toLocaleString("en-US")} articles (moto, the synthesized bundles)`,
      "",
      `Section 2's bucket, built with the bench's settings (title "${input.oldTitle}"), then the synthesized`,
      `Regenerate bundle with the stack's settings (title "${newTitle}") and a state machine of moto's`,
      "Step Functions: a deploy that changes the site's settings. Each invocation is a fresh Node process",
      "against moto with one upload's SQS event (an article dated now). The run Regenerate started is then",
      "driven with the synthesized stage bundles, two children at a time, as the state machine would.",
      "Before issue 15 the first upload after a settings change turned into a full rebuild, killed by its",
      "60 s timeout, and so was every later one.",
      "",
      "| upload | handler time (with its process) | peak RSS | failed messages |",
      "| --- | --- | --- | ---: |",
      ...rows.map(
        (row, i) =>
          `| ${i + 1}: ${row.when} | ${s(row.invocation.firstEventMs)} (${s(row.invocation.wallMs)}) | ${mb(row.invocation.maxRssBytes)} | **${row.failures}** |`,
      ),
      "",
      `Executions started: **${started}** (run \`${run}\`); uploads noted for the reduce: ${pending}.`,
      "",
      "| stage of the run | invocations | longest handler time | peak RSS |",
      "| --- | ---: | --- | --- |",
      stageRow("shuffle", "Shuffle (Distributed Map)"),
      stageRow("plan", "PlanGroups"),
      stageRow("group", "Groups (Distributed Map)"),
      stageRow("reduce", "Reduce"),
      `| **the run, driven here two children at a time** | ${driven.batches.length + driven.groups.length + 2} | **${s(runMs)}** | — |`,
      "",
      `Afterwards: ${feeds - stale} of ${feeds} feeds carry the new title (**${stale}** do not), ` +
        `${inFeed} of ${titles.length} uploads are in the main feed, the head's claim is ` +
        `${after.wholeSite ? "still set" : "released"}, and ${(await stored.keysUnder("_state/pending/")).length} notes remain.`,
      "",
    ];
  } finally {
    sfn.destroy();
  }
}
