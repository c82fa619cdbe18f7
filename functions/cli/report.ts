import type { ArticleProblem } from "../core/errors.ts";
import { escapeControls } from "../core/text.ts";

/**
 * `file:line: reason`, the form editors and editors' tools (vim, VS Code) understand. File names
 * and reasons come from uploaders: control characters are written as escapes, so a name or a
 * value can neither drive the terminal (clear it, retitle it) nor fake a line of its own.
 */
export function formatProblem(problem: ArticleProblem, prefix: string): string {
  const file = problem.file.startsWith("_state/") ? problem.file : `${prefix}${problem.file}`;
  return escapeControls(`${file}${problem.line !== undefined ? `:${problem.line}` : ""}: ${problem.reason}`);
}

/** `file: warning: reason`: something to fix that does not keep the article out of the feeds. */
export function formatWarning(warning: ArticleProblem, prefix: string): string {
  return formatProblem({ file: warning.file, reason: `warning: ${warning.reason}` }, prefix);
}

/** "1 warning", "2 warnings". */
export function countOf(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** A progress line for big folders, shown only on an interactive terminal outside CI. */
export function progressReporter(
  stream: NodeJS.WriteStream,
  label: string,
): ((done: number, total: number) => void) | undefined {
  if (!stream.isTTY || process.env.CI) return undefined;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done !== total && now - last < 100) return;
    last = now;
    stream.write(`\r${label} ${done}/${total}${done === total ? "\n" : ""}`);
  };
}
