import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.ts";
import { applyChanges, CONTENT_PREFIX, publishAll } from "../../functions/engine/publish.ts";
import { S3Storage } from "../../functions/storage/s3-storage.ts";
import { createBucket, type Moto, s3Client, startMoto } from "../support/moto.ts";
import { catalogPaths } from "../support/state.ts";

const BUCKET = "concurrent-site";
const config = parseConfig({ title: "Concurrent", url: "https://concurrent.example/", itemLimit: 100 });
let moto: Moto;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMoto();
  s3 = s3Client(moto.endpoint);
  await createBucket(s3, BUCKET);
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});

describe("concurrent regenerations against a real S3 API", () => {
  it("lose no update: every article uploaded in parallel ends up in the index and the feeds", async () => {
    // Each invocation has its own client, as separate Lambda containers would.
    const stores = () => {
      const client = s3Client(moto.endpoint);
      return {
        content: new S3Storage(client, BUCKET, CONTENT_PREFIX),
        output: new S3Storage(client, BUCKET),
      };
    };
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "content/first.md",
        Body: "---\ntitle: First\ndate: 2025-01-01\n---\nx",
      }),
    );
    await publishAll({ ...stores(), config });

    const names = Array.from({ length: 10 }, (_, i) => `c${i}.md`);
    await Promise.all(
      names.map((name, i) =>
        s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: `content/${name}`,
            Body: `---\ntitle: C${i}\ndate: 2025-02-${String(i + 1).padStart(2, "0")}\n---\nx`,
          }),
        ),
      ),
    );
    const reports = await Promise.all(
      names.map((name) => applyChanges({ ...stores(), config, keys: [name] })),
    );
    // The conditional index write really was contended, and every invocation still finished.
    expect(reports.reduce((sum, report) => sum + report.retries, 0)).toBeGreaterThan(0);

    const { output } = stores();
    // One catalog row per article.
    expect(await catalogPaths(output)).toEqual(["first.md", ...names].sort());
    const feed = JSON.parse(Buffer.from((await output.get("feeds/feed.json"))?.body ?? []).toString()) as {
      items: { title: string }[];
    };
    expect(feed.items.map((item) => item.title).sort()).toEqual(
      ["First", ...names.map((_, i) => `C${i}`)].sort(),
    );
    // And a full rebuild finds nothing to correct.
    expect((await publishAll({ ...stores(), config })).written).toEqual([]);
    // Ten regenerations racing for one index on one moto: 11 s on a saturated 2-core machine.
  }, 90_000);
});
