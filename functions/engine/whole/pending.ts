import type { SiteConfig } from "../../core/config.ts";
import { applyChanges } from "../apply.ts";
import type { Stores } from "../stores.ts";
import { PENDING_PREFIX, pendingKey } from "./layout.ts";
import { readJson, writeJson } from "./parts.ts";

/** Keys applied again per regeneration after a run's commit. */
const CHUNK = 200;

/** Notes that an upload came while a whole-site run was under way: its reduce applies it again. */
export function notePending(stores: Stores, keys: readonly string[]): Promise<unknown> {
  return Promise.all(keys.map((key) => writeJson(stores.output, pendingKey(key), { key })));
}

/**
 * Applies again, on top of the head a run just committed, every upload noted while it was under
 * way (the run's listing may predate it), then removes the notes. Returns how many keys.
 */
export async function reapplyPending(stores: Stores, config: SiteConfig, now?: Date): Promise<number> {
  const notes = new Map<string, string>();
  for await (const info of stores.output.list(PENDING_PREFIX)) {
    const note = await readJson<{ key?: unknown }>(stores.output, info.key);
    if (typeof note?.key === "string") notes.set(info.key, note.key);
  }
  const entries = [...notes];
  for (let i = 0; i < entries.length; i += CHUNK) {
    const chunk = entries.slice(i, i + CHUNK);
    await applyChanges({ ...stores, config, keys: chunk.map(([, key]) => key), ...(now ? { now } : {}) });
    for (const [note] of chunk) await stores.output.delete(note);
  }
  return entries.length;
}
