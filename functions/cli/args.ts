import { type ParseArgsConfig, parseArgs } from "node:util";

/**
 * The command line of `feedpub`, read before anything else (the config file included), so a
 * mistyped command or option is reported as such whatever state the site is in. Each command
 * accepts the options its synopsis line in USAGE names, and `--help` prints that command's part of
 * USAGE: the usage text is the one list of what each command takes.
 */

type Options = NonNullable<ParseArgsConfig["options"]>;

/** What main() runs, or what it prints and the exit code it returns instead. */
export type CommandLine =
  | { readonly command: string; readonly values: Record<string, unknown> }
  | { readonly exit: number; readonly stream: "stdout" | "stderr"; readonly text: string };

/** Each command of USAGE, in its order, with its part of USAGE and the options it accepts. */
export function commandsOf(usage: string): Map<string, { usage: string; options: string[] }> {
  const commands = new Map<string, { usage: string; options: string[] }>();
  const blocks = usage.split(/\n(?= {2}feedpub [a-z])/).slice(1);
  for (const block of blocks) {
    const synopsis = /^ {2}feedpub ([a-z]+)(.*)/.exec(block);
    if (!synopsis?.[1]) continue;
    const options = [...(synopsis[2] ?? "").matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1] ?? "");
    commands.set(synopsis[1], { usage: `Usage:\n${block.trimEnd()}\n`, options: [...options, "help"] });
  }
  return commands;
}

export function parseCommandLine(argv: readonly string[], usage: string, options: Options): CommandLine {
  const commands = commandsOf(usage);
  // A first, lenient pass only finds the command and --help; unknown options are judged below.
  const loose = parseArgs({ args: [...argv], options, allowPositionals: true, strict: false });
  const [command, ...extra] = loose.positionals;
  const help = loose.values.help === true;
  if (command === undefined) return { exit: help ? 0 : 2, stream: help ? "stdout" : "stderr", text: usage };
  const known = commands.get(command);
  if (!known) return unknownCommand(command, [...commands.keys()]);
  if (help) return { exit: 0, stream: "stdout", text: known.usage };
  const own = Object.fromEntries(Object.entries(options).filter(([name]) => known.options.includes(name)));
  const fail = (reason: string): CommandLine => ({
    exit: 2,
    stream: "stderr",
    text: `feedpub: ${reason}\n\n${known.usage}`,
  });
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: [...argv], options: own, allowPositionals: true, strict: true }).values;
  } catch (error) {
    return fail(optionProblem(error as Error & { code?: string }, command, known.options));
  }
  if (extra.length) return fail(`unexpected argument ${JSON.stringify(extra[0])} for ${command}`);
  return { command, values: { ...defaultsOf(options), ...values } };
}

function unknownCommand(command: string, names: readonly string[]): CommandLine {
  const near = nearest(command, names);
  return {
    exit: 2,
    stream: "stderr",
    text:
      `feedpub: unknown command ${JSON.stringify(command)} (commands: ${names.join(", ")})` +
      `${near ? `; did you mean ${near}?` : ""}\nRun feedpub --help for the usage of each.\n`,
  };
}

/** parseArgs' errors in our words: its own advise `--` for a typo, which is never the fix here. */
function optionProblem(error: Error & { code?: string }, command: string, names: readonly string[]): string {
  const list = names.map((name) => `--${name}`).join(", ");
  const option = /'(-[^ ']*)/.exec(error.message)?.[1] ?? "";
  if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const near = option.startsWith("--") ? nearest(option.slice(2), names) : undefined;
    return `unknown option ${option} for ${command} (options: ${list})${near ? `; did you mean --${near}?` : ""}`;
  }
  if (error.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return /does not take an argument/.test(error.message)
      ? `option ${option} of ${command} takes no value`
      : `option ${option} of ${command} needs a value`;
  }
  return `${error.message} (${command})`;
}

/** The values an option gets when it is not given, so every command sees each option's default. */
function defaultsOf(options: Options): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(options).flatMap(([name, option]) =>
      option.default === undefined ? [] : [[name, option.default]],
    ),
  );
}

/** The name `word` is likely a typo of (its start, or a letter or two off), else undefined. */
export function nearest(word: string, names: readonly string[]): string | undefined {
  // A name cut short (`--cont`) is meant whole, however many letters are missing.
  const started = names.filter((name) => word.length >= 2 && name.startsWith(word.toLowerCase()));
  if (started.length === 1) return started[0];
  const limit = word.length <= 3 ? 1 : 2;
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(word.toLowerCase(), name);
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Edits (insert, delete, replace, swap two neighbours) that turn a into b: `biuld` is one from `build`. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = d;
    }
  }
  return at(a.length, b.length);
}
