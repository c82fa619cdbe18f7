/**
 * The messages of the command line itself, from the real CLI: each command's --help, unknown and
 * misused options, unknown commands (checked before the config is read), and how bin/feedpub.mjs
 * loads the CLI (the bundle when it is fresh, rebuilt when it is stale, tsx when it cannot be).
 */
import { cp, mkdir, readdir, readFile, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, makeSite, REPO, removeSites, runCli, type Site } from "./cli.ts";

const COMMANDS = ["build", "check", "serve", "status", "rebuild"];
let site: Site;

beforeAll(async () => {
  site = await makeSite();
});

afterAll(removeSites);

const run = (...args: string[]) => runCli(args, { cwd: site.dir });
const firstLine = (text: string) => text.split("\n")[0];

describe("feedpub <command> --help", () => {
  it.each(COMMANDS)("%s --help prints that command's usage and exits 0", async (command) => {
    const result = await run(command, "--help");

    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(new RegExp(`^Usage:\\n {2}feedpub ${command}( |\\n)`));
    for (const other of COMMANDS.filter((c) => c !== command))
      expect(result.stdout).not.toContain(`feedpub ${other} `);
  });

  it("-h works too, before or after the command; --help alone prints every command", async () => {
    expect((await run("-h", "check")).stdout).toMatch(/^Usage:\n {2}feedpub check \[--content DIR\]/);
    const all = await run("--help");
    expect(all.code).toBe(0);
    for (const command of COMMANDS) expect(all.stdout).toContain(`\n  feedpub ${command} `);
    const none = await run();
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(all.stdout);
  });
});

describe("options a command does not take", () => {
  it("names the option and the command, lists its options, suggests the near one, prints its usage", async () => {
    const result = await run("build", "--forse");

    expect(result.code).toBe(2);
    expect(firstLine(result.stderr)).toBe(
      "feedpub: unknown option --forse for build (options: --content, --out, --config, --strict, --ping, --force, --help); did you mean --force?",
    );
    expect(result.stderr).toContain("\n\nUsage:\n  feedpub build [--content DIR]");
    // Node's own advice ("place it at the end of the command after '--'") is never the fix here.
    expect(result.stderr).not.toContain("'--'");
    expect(result.stdout).toBe("");
  });

  it("suggests an option cut short, and nothing when no option is near", async () => {
    expect(firstLine((await run("status", "--cont", "x")).stderr)).toMatch(
      /^feedpub: unknown option --cont for status \(options: [^)]*\); did you mean --content\?$/,
    );
    expect(firstLine((await run("build", "-x")).stderr)).toMatch(
      /^feedpub: unknown option -x for build \([^)]*\)$/,
    );
    expect(firstLine((await run("build", "--verbose")).stderr)).toMatch(/\(options: [^)]*\)$/);
  });

  it("refuses an option of another command", async () => {
    const result = await run("check", "--force");

    expect(result.code).toBe(2);
    expect(firstLine(result.stderr)).toBe(
      "feedpub: unknown option --force for check (options: --content, --config, --strict, --help)",
    );
    expect(result.stderr).toContain("Usage:\n  feedpub check ");
  });

  it("says when an option lacks its value, has one it does not take, or an argument is extra", async () => {
    const missing = await run("build", "--content");
    expect(missing.code).toBe(2);
    expect(firstLine(missing.stderr)).toBe("feedpub: option --content of build needs a value");
    const extra = await run("build", "--force=yes");
    expect(firstLine(extra.stderr)).toBe("feedpub: option --force of build takes no value");
    const argument = await run("build", "now");
    expect(argument.code).toBe(2);
    expect(firstLine(argument.stderr)).toBe('feedpub: unexpected argument "now" for build');
    expect(argument.stderr).toContain("Usage:\n  feedpub build ");
  });
});

describe("unknown commands", () => {
  it("are reported before the config is read, with a suggestion, whatever the config", async () => {
    const broken = await makeSite({ config: "title: [unclosed\nurl: https://x.example/\n" });

    const result = await runCli(["biuld"], { cwd: broken.dir });

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'feedpub: unknown command "biuld" (commands: build, check, serve, status, rebuild); did you mean build?\n' +
        "Run feedpub --help for the usage of each.\n",
    );
    // A known command still reports the broken config.
    const known = await runCli(["build"], { cwd: broken.dir });
    expect(known.code).toBe(2);
    expect(known.stderr).toMatch(/^feedpub\.config\.yaml: .*\n {2}- not valid YAML: .* at line 1, column/);
  });

  it("suggest nothing for a word that is no near miss", async () => {
    const result = await run("frobnicate");

    expect(result.code).toBe(2);
    expect(firstLine(result.stderr)).toBe(
      'feedpub: unknown command "frobnicate" (commands: build, check, serve, status, rebuild)',
    );
  });
});

/**
 * A copy of bin/feedpub.mjs in a folder of its own, with a stand-in bundle, sources and compile
 * script, so the test decides which is newer (by setting mtimes, never by waiting).
 */
async function loaderFixture(compile: string): Promise<{ dir: string; bin: string }> {
  const dir = (await makeSite()).dir;
  await mkdir(join(dir, "bin"));
  await cp(BIN, join(dir, "bin", "feedpub.mjs"));
  await mkdir(join(dir, "functions", "cli"), { recursive: true });
  await writeFile(
    join(dir, "functions", "cli", "main.ts"),
    'export async function main(): Promise<number> {\n  process.stdout.write("from sources\\n");\n  return 0;\n}\n',
  );
  await mkdir(join(dir, "dist"));
  await writeFile(
    join(dir, "dist", "feedpub.mjs"),
    'export async function main() { process.stdout.write("from bundle v1\\n"); return 0; }\n',
  );
  // The compile script writes a new bundle (with a chunk) where it is told, as esbuild does.
  await writeFile(
    join(dir, "make.mjs"),
    `import { mkdirSync, writeFileSync } from "node:fs";
const out = process.argv.find((a) => a.startsWith("--outdir=")).slice(9);
mkdirSync(out + "/chunks", { recursive: true });
writeFileSync(out + "/chunks/part-ABC.mjs", 'export const v = "v2";\\n');
writeFileSync(out + "/feedpub.mjs", 'import { v } from "./chunks/part-ABC.mjs";\\nexport async function main() { process.stdout.write("from bundle " + v + "\\\\n"); return 0; }\\n');
`,
  );
  await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module", scripts: { compile } }));
  await symlink(join(REPO, "node_modules"), join(dir, "node_modules"));
  return { dir, bin: join(dir, "bin", "feedpub.mjs") };
}

async function setAges(dir: string, { sources, bundle }: { sources: number; bundle: number }) {
  const at = (seconds: number) => new Date(Date.UTC(2025, 0, 1) + seconds * 1000);
  await utimes(join(dir, "functions", "cli", "main.ts"), at(sources), at(sources));
  await utimes(join(dir, "dist", "feedpub.mjs"), at(bundle), at(bundle));
}

const runBin = async (fixture: { dir: string; bin: string }) => {
  const { spawnSync } = await import("node:child_process");
  const result = spawnSync(process.execPath, [fixture.bin], {
    cwd: fixture.dir,
    encoding: "utf8",
    env: { ...process.env, FEEDPUB_DEBUG_LOADER: "1" },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

describe("bin/feedpub.mjs", () => {
  it("runs the bundle when it is newer than every source", async () => {
    const fixture = await loaderFixture("exit 1");
    await setAges(fixture.dir, { sources: 0, bundle: 10 });

    const result = await runBin(fixture);

    expect(result.stdout).toBe("from bundle v1\n");
    expect(result.stderr).toBe("feedpub: loaded from bundle\n");
  });

  it("rebuilds a stale bundle once with the compile script, then runs it", async () => {
    const fixture = await loaderFixture("node make.mjs");
    await setAges(fixture.dir, { sources: 10, bundle: 0 });

    const first = await runBin(fixture);
    const second = await runBin(fixture);

    expect(first.stdout).toBe("from bundle v2\n");
    expect(first.stderr).toBe("feedpub: loaded from rebuilt bundle\n");
    expect(second.stderr).toBe("feedpub: loaded from bundle\n");
    expect(await readFile(join(fixture.dir, "dist", "feedpub.mjs"), "utf8")).toContain(
      "./chunks/part-ABC.mjs",
    );
    // The private compile folder is gone; only the bundle and its chunks are left.
    expect((await readdir(join(fixture.dir, "dist"))).sort()).toEqual(["chunks", "feedpub.mjs"]);
  });

  it("falls back to the sources (tsx) when the bundle cannot be rebuilt", async () => {
    const fixture = await loaderFixture("echo broken >&2; exit 1");
    await setAges(fixture.dir, { sources: 10, bundle: 0 });

    const result = await runBin(fixture);

    expect(result.stdout).toBe("from sources\n");
    expect(result.stderr).toBe("feedpub: loaded from tsx\n");
    expect(await readFile(join(fixture.dir, "dist", "feedpub.mjs"), "utf8")).toContain("v1");
  });
});
