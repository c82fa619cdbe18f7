/**
 * A worker thread for test/unit/port-storage.test.ts: reaches the main thread's storage through a
 * PortStorage only, does what a group worker does (reads, writes, a conditional write that loses,
 * listings read to the end and left early) and reports what it saw to its parent.
 */
import { parentPort, workerData } from "node:worker_threads";
import { PreconditionFailedError } from "../../functions/storage/errors.ts";
import { PortStorage } from "../../functions/storage/port-storage.ts";

const { port } = workerData as { port: import("node:worker_threads").MessagePort };
const storage = new PortStorage(port);
const text = (body: Uint8Array | undefined) => (body ? Buffer.from(body).toString("utf8") : undefined);

const seeded = await storage.get("in/seed.md");
const missing = await storage.get("in/missing.md");
const bytes = new TextEncoder().encode("written as bytes");
const written = await storage.put("out/bytes.txt", bytes, { contentType: "text/plain" });
await storage.put("out/text.txt", "written as text");
let conflict = "";
try {
  await storage.put("in/seed.md", "should not land", { ifNoneMatch: "*" });
} catch (error) {
  conflict = `${(error as Error).name} ${error instanceof PreconditionFailedError}`;
}
const listed: string[] = [];
for await (const info of storage.list("many/")) listed.push(info.key);
const firstThree: string[] = [];
for await (const info of storage.list("many/")) {
  firstThree.push(info.key);
  if (firstThree.length === 3) break;
}
await storage.delete("in/delete-me.md");

parentPort?.postMessage({
  seeded: { text: text(seeded?.body), etag: seeded?.etag, size: seeded?.size },
  missing: missing === undefined,
  written: written.etag,
  // Still readable after the put: the port sent a copy, the caller's buffer was not detached.
  bytesAfterPut: Buffer.from(bytes).toString("utf8"),
  conflict,
  listed: { count: listed.length, first: listed[0], last: listed[listed.length - 1] },
  firstThree,
});
