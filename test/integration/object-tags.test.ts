/**
 * The outcome tags editors see where they upload (issue 13, point 9): after a regeneration each
 * article it read carries `feedpub-status` and `feedpub-reason`, on moto's real S3 API. The
 * first part runs the Regenerate handler on moto's own S3 event notifications; the second runs
 * the engine with the clock passed in, one bucket per test, counting requests.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { applyChanges, CONTENT_PREFIX, publishAll } from "../../functions/engine/publish.ts";
import { PUBLISHED_REASON, readStatus } from "../../functions/engine/status.ts";
import { writeTags } from "../../functions/engine/tagging.ts";
import type { ObjectTagging } from "../../functions/storage/port.ts";
import { S3Storage } from "../../functions/storage/s3-storage.ts";
import { CountingStorage } from "../app/counting-storage.ts";
import { type HandlerHarness, startHandlerHarness } from "../support/handler-harness.ts";
import { createBucket, motoEnv } from "../support/moto.ts";
import { drainQueue, isS3TestEvent, sqsEvent } from "../support/s3-events.ts";

const REPO = new URL("../..", import.meta.url).pathname;
const BUCKET = "tags-site";
const SITE = { title: "Tags Site", url: "https://tags.example/" };
const config = parseConfig(SITE);

let harness: HandlerHarness;
let s3: S3Client;
let sqs: SQSClient;
let queueUrl: string;

beforeAll(async () => {
  harness = await startHandlerHarness(BUCKET, SITE);
  ({ s3, sqs, queueUrl } = harness);
}, 60_000);

afterAll(async () => {
  await harness?.stop();
});

const article = (title: string, extra = "") =>
  `---\ntitle: ${JSON.stringify(title)}\n${extra}---\nAbout ${title}.\n`;
const BROKEN = "---\ntitle: [unclosed\n---\nBroken.\n";

/** The object's tags as `aws s3api get-object-tagging` shows them, as a record. */
async function tagsOf(bucket: string, key: string): Promise<Record<string, string>> {
  const out = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  return Object.fromEntries((out.TagSet ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""]));
}

const etagOf = async (bucket: string, key: string) =>
  (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag;

describe("the Regenerate handler tags what it read, on moto's S3 events", { timeout: 60_000 }, () => {
  const events = () => drainQueue(sqs, queueUrl, { waitMs: 1200 });
  const put = (key: string, body: string, tagging?: string) =>
    s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: body,
        ...(tagging ? { Tagging: tagging } : {}),
      }),
    );
  const regenerate = async () => {
    const records = (await events()).filter((record) => !isS3TestEvent(record));
    expect(records.length).toBeGreaterThan(0);
    expect((await harness.handler(sqsEvent(records))).batchItemFailures).toEqual([]);
  };

  it("published, held (draft, scheduled with its date) and rejected (with the reason)", async () => {
    const files = {
      "content/good.md": article("Good", "date: 2026-03-01T10:00:00Z\n"),
      "content/draft.md": article("Draft", "draft: true\n"),
      "content/later.md": article("Later", "date: 2099-01-01T00:00:00Z\n"),
      "content/bad.md": BROKEN,
    };
    for (const [key, body] of Object.entries(files)) await put(key, body);
    const before = Object.fromEntries(
      await Promise.all(Object.keys(files).map(async (key) => [key, await etagOf(BUCKET, key)])),
    );
    await regenerate();

    expect(await tagsOf(BUCKET, "content/good.md")).toEqual({
      "feedpub-status": "published",
      "feedpub-reason": PUBLISHED_REASON,
    });
    expect(await tagsOf(BUCKET, "content/draft.md")).toEqual({
      "feedpub-status": "held",
      "feedpub-reason": "draft",
    });
    expect(await tagsOf(BUCKET, "content/later.md")).toEqual({
      "feedpub-status": "held",
      "feedpub-reason": "scheduled until 2099-01-01T00:00:00Z",
    });
    const bad = await tagsOf(BUCKET, "content/bad.md");
    expect(bad["feedpub-status"]).toBe("rejected");
    expect(bad["feedpub-reason"]).toMatch(/^line 2: front matter is not valid YAML/);

    // Tags are metadata: no ETag moved, and no ObjectCreated event came of them.
    for (const [key, etag] of Object.entries(before)) expect(await etagOf(BUCKET, key)).toBe(etag);
    expect(await events()).toEqual([]);

    // `feedpub status` judges each file the same way.
    const status = await readStatus(new S3Storage(s3, BUCKET), config);
    for (const { file, status: outcome, reason } of status.files)
      expect(await tagsOf(BUCKET, CONTENT_PREFIX + file)).toEqual({
        "feedpub-status": outcome,
        "feedpub-reason": reason,
      });
    expect(status.files.map((file) => file.file)).toEqual(["bad.md", "draft.md", "good.md", "later.md"]);
  });

  it("an edit that fixes a rejected file flips its tags; the editor's own tags stay", async () => {
    await put("content/fixme.md", BROKEN, "project=spring&owner=Ana");
    await regenerate();
    expect(await tagsOf(BUCKET, "content/fixme.md")).toMatchObject({
      project: "spring",
      owner: "Ana",
      "feedpub-status": "rejected",
    });

    await put("content/fixme.md", article("Fixed", "date: 2026-03-02T10:00:00Z\n"), "project=summer");
    await regenerate();
    expect(await tagsOf(BUCKET, "content/fixme.md")).toEqual({
      project: "summer",
      "feedpub-status": "published",
      "feedpub-reason": PUBLISHED_REASON,
    });

    // A tag the editor adds later stays through the next regeneration of the file.
    const current = await tagsOf(BUCKET, "content/fixme.md");
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: BUCKET,
        Key: "content/fixme.md",
        Tagging: {
          TagSet: Object.entries({ ...current, reviewed: "yes" }).map(([Key, Value]) => ({ Key, Value })),
        },
      }),
    );
    await put("content/fixme.md", article("Fixed", "draft: true\n"), "project=summer&reviewed=yes");
    await regenerate();
    expect(await tagsOf(BUCKET, "content/fixme.md")).toEqual({
      project: "summer",
      reviewed: "yes",
      "feedpub-status": "held",
      "feedpub-reason": "draft",
    });
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "content/fixme.md" }));
    await regenerate();
  });
});

/** A counting storage that also counts (and forwards) the tagging requests. */
class CountingTagged extends CountingStorage {
  readonly tagging: ObjectTagging;
  constructor(inner: S3Storage) {
    super(inner);
    this.tagging = {
      read: (key) => {
        this.calls.push(`GET-TAGS ${key}`);
        return inner.tagging.read(key);
      },
      write: (key, tags) => {
        this.calls.push(`PUT-TAGS ${key}`);
        return inner.tagging.write(key, tags);
      },
    };
  }
}

describe("the engine's tags, with the clock passed in", () => {
  let buckets = 0;
  const NOW = new Date("2026-06-15T12:00:00Z");

  async function site() {
    const bucket = `tags-engine-${++buckets}`;
    await createBucket(s3, bucket);
    const content = new CountingTagged(new S3Storage(s3, bucket, CONTENT_PREFIX));
    const output = new S3Storage(s3, bucket);
    const put = (key: string, body: string) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: CONTENT_PREFIX + key, Body: body }));
    const upload = async (keys: string[], now: Date) => {
      const report = await applyChanges({ content, output, config, keys, now });
      const tagging = await writeTags(content, report.tags);
      return { report, tagging };
    };
    const rebuild = async (now: Date, force = false) => {
      const report = await publishAll({ content, output, config, now, ...(force ? { force } : {}) });
      return { report, tagging: await writeTags(content, report.tags) };
    };
    const tags = (key: string) => tagsOf(bucket, CONTENT_PREFIX + key);
    const calls = () => content.calls.splice(0);
    return { bucket, content, output, put, upload, rebuild, tags, calls };
  }

  it("an upload costs two tagging requests; a reconcile of what is tagged reads nothing again", async () => {
    const s = await site();
    for (let i = 1; i <= 5; i++) await s.put(`a${i}.md`, article(`A${i}`, `date: 2026-06-0${i}T10:00:00Z\n`));
    await s.rebuild(NOW);
    s.calls();

    await s.put("new.md", article("New", "date: 2026-06-10T10:00:00Z\n"));
    const etag = await etagOf(s.bucket, `${CONTENT_PREFIX}new.md`);
    const { tagging } = await s.upload(["new.md"], NOW);
    expect(tagging).toMatchObject({ tagged: 1, unchanged: 0, failed: [] });
    expect(s.calls().filter((call) => call.includes("-TAGS"))).toEqual([
      "GET-TAGS new.md",
      "PUT-TAGS new.md",
    ]);
    expect(await etagOf(s.bucket, `${CONTENT_PREFIX}new.md`)).toBe(etag);

    // The same event again: the tags are looked at (an upload replaces them) but not rewritten.
    const again = await s.upload(["new.md"], NOW);
    expect(again.tagging).toMatchObject({ tagged: 0, unchanged: 1 });
    expect(s.calls().filter((call) => call.includes("-TAGS"))).toEqual(["GET-TAGS new.md"]);

    // The listing shows the ETag the catalog recorded: no article is read, nothing is tagged.
    const reconcile = await s.rebuild(new Date(NOW.getTime() + 3600_000));
    expect(reconcile.report.read).toBe(0);
    expect(reconcile.report.tags.outcomes).toEqual([]);
    expect(s.calls().filter((call) => !call.startsWith("LIST"))).toEqual([]);
  });

  it("a rebuild tags the articles it read; --force every one, writing only what is wrong", async () => {
    const s = await site();
    for (let i = 1; i <= 4; i++) await s.put(`b${i}.md`, article(`B${i}`, `date: 2026-05-0${i}T10:00:00Z\n`));
    const first = await s.rebuild(NOW);
    expect(first.tagging).toMatchObject({ tagged: 4, failed: [] });
    s.calls();

    // Edited behind the handler's back (a lost event): the reconcile reads and tags it alone.
    await s.put("b2.md", BROKEN);
    const second = await s.rebuild(NOW);
    expect(second.report.tags.outcomes.map((outcome) => outcome.file)).toEqual(["b2.md"]);
    expect((await s.tags("b2.md"))["feedpub-status"]).toBe("rejected");
    s.calls();

    const forced = await s.rebuild(NOW, true);
    expect(forced.report.tags.outcomes).toHaveLength(4);
    expect(forced.tagging).toMatchObject({ tagged: 0, unchanged: 4 });
    expect(s.calls().filter((call) => call.startsWith("PUT-TAGS"))).toEqual([]);

    // New settings read every article again, but the same bytes keep their outcome: no tag is looked at.
    const retitled = parseConfig({ ...SITE, title: "Renamed" });
    const resettled = await publishAll({ content: s.content, output: s.output, config: retitled, now: NOW });
    expect(resettled.read).toBe(4);
    expect(resettled.tags.outcomes).toEqual([]);
  });

  it("a scheduled article's tag flips in the run that publishes it, and an expired one's too", async () => {
    const s = await site();
    await s.put("old.md", article("Old", "date: 2026-06-01T10:00:00Z\n"));
    await s.rebuild(NOW);
    await s.put("soon.md", article("Soon", "date: 2026-06-15T13:00:00Z\n"));
    await s.put(
      "brief.md",
      article("Brief", "date: 2026-06-14T10:00:00Z\nexpiryDate: 2026-06-15T14:00:00Z\n"),
    );
    await s.upload(["soon.md", "brief.md"], NOW);
    expect(await s.tags("soon.md")).toEqual({
      "feedpub-status": "held",
      "feedpub-reason": "scheduled until 2026-06-15T13:00:00Z",
    });
    expect((await s.tags("brief.md"))["feedpub-status"]).toBe("published");
    s.calls();

    // The publish schedule's run (no keys) after the hour: soon.md came due.
    const due = await s.upload([], new Date("2026-06-15T13:05:00Z"));
    expect(due.report.changed).toBe(true);
    expect(due.report.tags.outcomes.map((outcome) => outcome.file)).toEqual(["soon.md"]);
    expect((await s.tags("soon.md"))["feedpub-status"]).toBe("published");

    const gone = await s.upload([], new Date("2026-06-15T14:05:00Z"));
    expect(gone.report.tags.outcomes.map((outcome) => outcome.file)).toEqual(["brief.md"]);
    expect(await s.tags("brief.md")).toEqual({
      "feedpub-status": "held",
      "feedpub-reason": "expired since 2026-06-15T14:00:00Z",
    });
    // Nothing more changes: the next run reports nothing to tag.
    const quiet = await s.upload([], new Date("2026-06-15T14:10:00Z"));
    expect(quiet.report.tags.outcomes).toEqual([]);
    // And `feedpub status` says what the tags say.
    const status = await readStatus(s.output, config, new Date("2026-06-15T14:10:00Z"));
    for (const file of status.files)
      expect(await s.tags(file.file)).toEqual({
        "feedpub-status": file.status,
        "feedpub-reason": file.reason,
      });
  });

  it("an article deleted before its tags are written is skipped as gone, not failed", async () => {
    const s = await site();
    await s.put("brief.md", article("Brief", "date: 2026-06-01T10:00:00Z\n"));
    const { report } = await s.upload(["brief.md"], NOW);
    await s3.send(new DeleteObjectCommand({ Bucket: s.bucket, Key: `${CONTENT_PREFIX}brief.md` }));
    expect(await writeTags(s.content, report.tags)).toMatchObject({ gone: 1, tagged: 0, failed: [] });
    // The adapter itself: no tags to read, and a write finds no object (the bucket is versioned
    // in production, where the current version is then a delete marker).
    expect(await s.content.tagging.read("brief.md")).toBeUndefined();
    expect(await s.content.tagging.write("brief.md", [{ key: "k", value: "v" }])).toBe(false);
  });

  it("keeps the editor's tags: only the status fits beside nine, nothing beside ten", async () => {
    const s = await site();
    const own = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v${i}`).join("&");
    for (const [key, n] of [
      ["nine.md", 9],
      ["ten.md", 10],
    ] as const)
      await s3.send(
        new PutObjectCommand({
          Bucket: s.bucket,
          Key: CONTENT_PREFIX + key,
          Body: article(key, "date: 2026-06-01T10:00:00Z\n"),
          Tagging: own(n),
        }),
      );
    const { tagging } = await s.rebuild(NOW);
    expect(tagging.tagged).toBe(1);
    expect(tagging.failed).toEqual([{ file: "ten.md", reason: expect.stringMatching(/no room/) }]);
    const nine = await s.tags("nine.md");
    expect(Object.keys(nine)).toHaveLength(10);
    expect(nine).toMatchObject({ k8: "v8", "feedpub-status": "published" });
    expect(await s.tags("ten.md")).toEqual(
      Object.fromEntries(
        own(10)
          .split("&")
          .map((kv) => kv.split("=")),
      ),
    );
  });

  it("a hostile reason becomes a tag value S3 accepts", async () => {
    const s = await site();
    // The reason quotes the value: markup, quotes, commas, brackets, an escaped control character.
    await s.put(
      "hostile.md",
      `---\ntitle: Hostile\ndraft: "<b>제목</b> & \\u0007 \\"x\\", [y] café"\n---\nBody.\n`,
    );
    const { tagging } = await s.rebuild(NOW);
    expect(tagging).toMatchObject({ tagged: 1, failed: [] });
    const reason = (await s.tags("hostile.md"))["feedpub-reason"] ?? "";
    expect(reason).toMatch(/^[\p{L}\p{N} _.:/=+@-]{1,256}$/u);
    expect(reason).toBe("line 3: draft: must be true or false got string b 제목 /b u0007 x y café");
    const status = await readStatus(s.output, config, NOW);
    expect(status.files).toEqual([{ file: "hostile.md", status: "rejected", reason }]);
  });
});

describe("the command line on a bucket", { timeout: 60_000 }, () => {
  it("feedpub rebuild --bucket tags what it read; status --bucket --files says the same", async () => {
    const bucket = "tags-cli";
    await createBucket(s3, bucket);
    const dir = await mkdtemp(join(tmpdir(), "feedpub-tags-cli-"));
    try {
      const configFile = join(dir, "feedpub.config.yaml");
      await writeFile(configFile, `title: ${SITE.title}\nurl: ${SITE.url}\n`);
      for (const [key, body] of Object.entries({
        "a.md": article("A", "date: 2026-01-01T10:00:00Z\n"),
        "d.md": article("D", "draft: true\n"),
        "bad.md": BROKEN,
      }))
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: CONTENT_PREFIX + key, Body: body }));
      const cli = (...args: string[]) =>
        spawnSync(process.execPath, [join(REPO, "bin/feedpub.mjs"), ...args, "--config", configFile], {
          cwd: dir,
          env: { ...process.env, ...motoEnv(harness.moto.endpoint) },
          encoding: "utf8",
        });
      const rebuilt = cli("rebuild", "--bucket", bucket);
      expect(rebuilt.status, rebuilt.stderr).toBe(0);
      expect(rebuilt.stderr).not.toContain("object tags not written");
      const status = cli("status", "--bucket", bucket, "--files");
      expect(status.status, status.stderr).toBe(0);
      const lines = status.stdout.split("\n").filter((line) => /^(published|held|rejected) /.test(line));
      expect(lines).toHaveLength(3);
      for (const line of lines) {
        const [, outcome, key, reason] = /^(\w+) +s3:\/\/tags-cli\/(\S+): (.*)$/.exec(line) ?? [];
        expect(await tagsOf(bucket, key ?? "")).toEqual({
          "feedpub-status": outcome,
          "feedpub-reason": reason,
        });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
