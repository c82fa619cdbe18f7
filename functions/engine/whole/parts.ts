import type { Storage } from "../../storage/port.ts";
import { manifestKey, type RunManifest } from "./layout.ts";

/** Writes a run's partial result (private, never cached). */
export function writeJson(output: Storage, key: string, value: unknown): Promise<unknown> {
  return output.put(key, `${JSON.stringify(value)}\n`, {
    contentType: "application/json",
    cacheControl: "no-store",
  });
}

/** Reads a run's partial result; undefined when it is not there. */
export async function readJson<T>(output: Storage, key: string): Promise<T | undefined> {
  const object = await output.get(key);
  return object ? (JSON.parse(Buffer.from(object.body).toString("utf8")) as T) : undefined;
}

/** Reads a partial result that must be there: a missing one means the run lost its folder. */
export async function requireJson<T>(output: Storage, key: string): Promise<T> {
  const value = await readJson<T>(output, key);
  if (value === undefined) throw new Error(`${key} is missing: the run's partial results are gone`);
  return value;
}

export function readManifest(output: Storage, run: string): Promise<RunManifest> {
  return requireJson<RunManifest>(output, manifestKey(run));
}

/** Every key under a prefix. */
export async function listKeys(output: Storage, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of output.list(prefix)) keys.push(info.key);
  return keys;
}
