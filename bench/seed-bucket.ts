import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { seedBody } from "./corpus.ts";

/** `count` seed-shaped articles under `<prefix>news/`, an hour apart from 2020-01-01, 32 PUTs at a time. */
export async function seedBucket(s3: S3Client, bucket: string, prefix: string, count: number): Promise<void> {
  const body = await seedBody();
  let next = 0;
  const start = Date.UTC(2020, 0, 1);
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < count) {
        const i = next++;
        const date = new Date(start + i * 3_600_000).toISOString();
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `${prefix}news/article-${String(i).padStart(5, "0")}.md`,
            Body: `---\ntitle: "Article ${i}"\ndate: ${date}\ntags: [korea, t${i % 37}]\n---\n${body}\n`,
          }),
        );
      }
    }),
  );
}
