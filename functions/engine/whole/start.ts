import { randomBytes } from "node:crypto";
import type { SiteConfig } from "../../core/config.ts";
import { PreconditionFailedError } from "../../storage/errors.ts";
import type { Storage } from "../../storage/port.ts";
import { currentMonth } from "../families/archive.ts";
import { emptyIndex, INDEX_KEY, serializeIndex, type WholeSiteClaim } from "../state/head.ts";
import type { LoadedIndex } from "../store.ts";
import { manifestKey, newRunId, type RunManifest, SHUFFLE_GROUPS } from "./layout.ts";
import { writeJson } from "./parts.ts";

/** Starts the state machine for a run (execution name and input: the run id). */
export type RunStarter = (run: string) => Promise<void>;

/** How long a run may take before another may start in its place (the state machine's timeout). */
export const RUN_LEASE_MS = 2 * 60 * 60 * 1000;

/** Why the loaded head calls for whole-site work, if it does. */
export function wholeSiteReason(loaded: LoadedIndex, now: Date): string | undefined {
  const claim = loaded.index.wholeSite;
  if (claim && claim.until <= now.getTime()) return `retry:${claim.reason}`;
  if (loaded.legacy) return "legacy";
  return loaded.state === "ok" ? undefined : loaded.state;
}

/** Whether a run owns the head now. */
export function liveClaim(loaded: LoadedIndex, now: Date): WholeSiteClaim | undefined {
  const claim = loaded.index.wholeSite;
  return claim && claim.until > now.getTime() ? claim : undefined;
}

/**
 * Claims the head for a new run and starts it: the claim is a conditional write of the head as
 * stored plus the run's mark, so of two invocations that find the same reason only one starts a
 * run (the other's write fails, and it finds the run under way when it reads the head again).
 * With no usable head, the mark goes on an empty one that says so ("blind"): uploads then only
 * leave a note for the run, and no feed is made from an empty catalog.
 */
export async function startWholeSite(
  output: Storage,
  config: SiteConfig,
  loaded: LoadedIndex,
  options: { reason: string; now: Date; start: RunStarter; shuffleGroups?: number; groupTarget?: number },
): Promise<string> {
  const { now } = options;
  const run = newRunId(now, randomBytes(4).toString("hex"));
  const claim: WholeSiteClaim = {
    run,
    reason: options.reason,
    until: now.getTime() + RUN_LEASE_MS,
    ...(usable(loaded) ? {} : { blind: true as const }),
  };
  const body = usable(loaded)
    ? await markedHead(output, loaded, claim)
    : serializeIndex({ ...emptyIndex(config), wholeSite: claim });
  await output.put(INDEX_KEY, body, {
    contentType: "application/json",
    cacheControl: "no-store",
    ...(loaded.etag === undefined ? { ifNoneMatch: "*" as const } : { ifMatch: loaded.etag }),
  });
  const manifest: RunManifest = {
    run,
    now: now.toISOString(),
    reason: options.reason,
    shuffleGroups: options.shuffleGroups ?? SHUFFLE_GROUPS,
    ...(options.groupTarget ? { groupTarget: options.groupTarget } : {}),
    open: currentMonth(loaded.index.archive, now),
  };
  await writeJson(output, manifestKey(run), manifest);
  await options.start(run);
  return run;
}

/**
 * Whether the stored head is kept (with the claim added): any readable one. A head of an earlier
 * layout is kept too, since it holds the first-seen dates the run's groups read; uploads only
 * leave notes under it (see applyChanges), as under a blind claim.
 */
function usable(loaded: LoadedIndex): boolean {
  return loaded.state === "ok" || loaded.state === "settings-changed";
}

/** The stored head's bytes with the run's mark: nothing else of it changes. */
async function markedHead(output: Storage, loaded: LoadedIndex, claim: WholeSiteClaim): Promise<string> {
  const object = await output.get(INDEX_KEY);
  if (!object || object.etag !== loaded.etag) throw new PreconditionFailedError(INDEX_KEY);
  const value = JSON.parse(Buffer.from(object.body).toString("utf8")) as Record<string, unknown>;
  return `${JSON.stringify({ ...value, wholeSite: claim })}\n`;
}
