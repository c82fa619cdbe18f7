import type { ArticleProblem } from "../core/errors.ts";
import { InvalidKeyError } from "../storage/errors.ts";
import { checkKey } from "../storage/keys.ts";

/**
 * Failures that belong to one stored object, not to the build: its name is one the storage port
 * refuses (a backslash or a control character, more than 1,024 bytes), or the object itself cannot
 * be read (a local file without read permission; an S3 object archived to Glacier). Anything else
 * (the network, S3 throttling or a missing permission on the whole bucket) stays the build's
 * failure, so that a retry can succeed instead of every article being reported.
 */
export function objectProblem(key: string, error: unknown): ArticleProblem | undefined {
  if (error instanceof InvalidKeyError) return { file: key, reason: keyReason(error.reason) };
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const name = (error as Error | undefined)?.name;
  if (code === "EACCES" || code === "EPERM" || name === "InvalidObjectState")
    return { file: key, reason: `the file cannot be read: ${(error as Error).message.split("\n")[0]}` };
  return undefined;
}

/** The problem of a key the storage port would refuse, or undefined for a usable one. */
export function keyProblem(key: string): ArticleProblem | undefined {
  try {
    checkKey(key);
    return undefined;
  } catch (error) {
    return objectProblem(key, error);
  }
}

function keyReason(reason: string): string {
  return `the file name cannot be published: ${reason}; rename the file`;
}

/** Runs `read`, turning a failure of that one object into its problem; other failures are thrown. */
export async function orProblem<T>(key: string, read: () => Promise<T>): Promise<T | ArticleProblem> {
  try {
    return await read();
  } catch (error) {
    const problem = objectProblem(key, error);
    if (problem) return problem;
    throw error;
  }
}
