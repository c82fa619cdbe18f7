/**
 * scripts/ensure-test-tools.sh, run before every `npm test`: with moto_server missing it installs
 * it with pipx or pip where it can, and otherwise stops in one line before any test runs. Each
 * case runs the real script with bash under a PATH of its own (a temporary bin folder of symlinks
 * to the few tools it needs, plus shims standing in for pipx and python3), so nothing on this
 * machine is installed or removed.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findMotoServer } from "../support/moto.ts";
import { REPO } from "./cli.ts";

const SCRIPT = join(REPO, "scripts", "ensure-test-tools.sh");
/** What the script runs besides bash builtins; xmllint keeps its apt part satisfied. */
const TOOLS = ["bash", "id", "mktemp", "rm", "grep", "tail", "xmllint", "chmod"];
const FAKE_MOTO = "#!/bin/sh\necho fake moto_server\n";

const made: string[] = [];
afterAll(() => Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true }))));

function which(tool: string): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return join(dir, tool);
    } catch {
      // not here
    }
  }
  throw new Error(`${tool} is needed to run this test`);
}

interface Box {
  readonly home: string;
  readonly bin: string;
  readonly log: string;
}

/** A HOME and a bin folder holding only the basic tools: no moto_server, pip, pipx or python3. */
async function makeBox(omit: readonly string[] = []): Promise<Box> {
  const home = await mkdtemp(join(tmpdir(), "feedpub-tools-"));
  made.push(home);
  const bin = join(home, "bin");
  await mkdir(bin);
  for (const tool of TOOLS) if (!omit.includes(tool)) await symlink(which(tool), join(bin, tool));
  return { home, bin, log: join(home, "calls.log") };
}

async function shim(dir: string, name: string, body: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), `#!${which("bash")}\n${body}`);
  await chmod(join(dir, name), 0o755);
}

function run(box: Box) {
  const result = spawnSync(join(box.bin, "bash"), [SCRIPT], {
    env: { PATH: box.bin, HOME: box.home },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const calls = (box: Box) => readFile(box.log, "utf8").catch(() => "");

describe("ensure-test-tools.sh and moto_server", () => {
  it("with moto_server, pip and pipx all absent: one line naming moto_server and how to install it, exit 1", async () => {
    const box = await makeBox();
    const result = run(box);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "missing test tools: moto_server; install with: pipx install 'moto[server]' (or python3 -m pip install --user 'moto[server]')\n",
    );
  });

  it("installs moto_server with pipx when it is missing, and then succeeds", async () => {
    const box = await makeBox();
    // A pipx that "installs" moto_server into a folder on PATH, as pipx does into ~/.local/bin.
    await shim(
      box.bin,
      "pipx",
      `echo "pipx $*" >> ${JSON.stringify(box.log)}\n` +
        `[ "$1" = install ] || exit 2\n` +
        `printf '%s' ${JSON.stringify(FAKE_MOTO)} > ${JSON.stringify(join(box.bin, "moto_server"))}\n` +
        `chmod +x ${JSON.stringify(join(box.bin, "moto_server"))}\n`,
    );
    const result = run(box);
    expect(result.stderr).toBe("installing moto[server] with pipx (needed by the integration tests)\n");
    expect(result.code).toBe(0);
    expect(await calls(box)).toMatch(/^pipx install .*moto\[server\]\n$/);
    // What the integration tests will run is the one pipx installed.
    expect(findMotoServer(box.bin)).toBe(join(box.bin, "moto_server"));
  });

  it("falls back to pip --user when pipx fails, and names the installer's own error if pip cannot install either", async () => {
    const box = await makeBox();
    await shim(
      box.bin,
      "pipx",
      `echo "pipx $*" >> ${JSON.stringify(box.log)}\necho "pipx: no network" >&2\nexit 1\n`,
    );
    await shim(
      box.bin,
      "python3",
      `echo "python3 $*" >> ${JSON.stringify(box.log)}\n` +
        `case "$*" in "-m pip --version") exit 0;; "-m pip install"*) echo "ERROR: No matching distribution" >&2; exit 1;; *) exit 1;; esac\n`,
    );
    const result = run(box);
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines.slice(0, 2)).toEqual([
      "installing moto[server] with pipx (needed by the integration tests)",
      "installing moto[server] with pip (needed by the integration tests)",
    ]);
    // Still one line to act on, with the last installer's own reason.
    expect(lines.slice(2)).toEqual([
      "missing test tools: moto_server; install with: pipx install 'moto[server]' (or python3 -m pip install --user 'moto[server]'; pip failed: ERROR: No matching distribution)",
    ]);
    expect(await calls(box)).toMatch(/python3 -m pip install --user .*moto\[server\]/);
  });

  it("says which folder to add to PATH when pip installed moto_server where PATH does not look", async () => {
    const box = await makeBox();
    const userBin = join(box.home, ".local", "bin");
    await shim(
      box.bin,
      "python3",
      `case "$*" in "-m pip --version") exit 0;;\n` +
        `"-m pip install"*) mkdir -p ${JSON.stringify(userBin)}; printf '%s' ${JSON.stringify(FAKE_MOTO)} > ${JSON.stringify(join(userBin, "moto_server"))}; chmod +x ${JSON.stringify(join(userBin, "moto_server"))};;\n` +
        `"-c import os, sysconfig"*) echo /nowhere/bin; echo ${JSON.stringify(userBin)};;\n` +
        `*) exit 1;; esac\n`,
    );
    await symlink(which("mkdir"), join(box.bin, "mkdir"));
    const result = run(box);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      "installing moto[server] with pip (needed by the integration tests)",
      `missing test tools: moto_server; moto_server is in ${userBin}, which is not on PATH: export PATH="${userBin}:$PATH"`,
    ]);
  });

  it("reports a missing apt package and moto_server together, still in one line", async () => {
    // Without apt-get on PATH the script cannot install xmllint, even as root.
    const box = await makeBox(["xmllint"]);
    const result = run(box);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "missing test tools: libxml2-utils moto_server; install with: sudo apt-get install libxml2-utils; " +
        "install with: pipx install 'moto[server]' (or python3 -m pip install --user 'moto[server]')\n",
    );
  });

  it("with every tool present prints nothing, installs nothing and exits 0", async () => {
    const box = await makeBox();
    await shim(box.bin, "moto_server", FAKE_MOTO);
    await shim(box.bin, "pipx", `echo "pipx $*" >> ${JSON.stringify(box.log)}\nexit 1\n`);
    const result = run(box);
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await calls(box)).toBe("");
  });
});
