import type { ArticleProblem } from "../core/errors.ts";

/** `file:line: reason`, the form editors and editors' tools (vim, VS Code) understand. */
export function formatProblem(problem: ArticleProblem, prefix: string): string {
  const file = problem.file.startsWith("_state/") ? problem.file : `${prefix}${problem.file}`;
  return `${file}${problem.line !== undefined ? `:${problem.line}` : ""}: ${problem.reason}`;
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
