import type { ArticleProblem } from "../core/errors.ts";
import { MAX_MEDIA_BYTES, MEDIA_PREFIX } from "../core/media.ts";
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

/**
 * Why a media file beside the articles cannot be published, from its key and size alone (as
 * listed), or undefined: a name the storage refuses, here or under feeds/media/, or a file over
 * the size a Lambda copies.
 */
export function mediaProblem(key: string, size: number): ArticleProblem | undefined {
  const refused = keyProblem(key);
  if (refused) return refused;
  if (keyProblem(`${MEDIA_PREFIX}${key}`))
    return {
      file: key,
      reason: `the file cannot be published: its name under ${MEDIA_PREFIX} would pass S3's limit of 1,024 bytes; shorten its path`,
    };
  if (size > MAX_MEDIA_BYTES)
    return {
      file: key,
      reason: `media file too large (${Math.ceil(size / 1048576)} MiB > ${MAX_MEDIA_BYTES / 1048576} MiB): host it elsewhere and link it with an http(s) URL`,
    };
  return undefined;
}
