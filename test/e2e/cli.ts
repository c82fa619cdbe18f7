/**
 * Runs the real `feedpub` binary (bin/feedpub.mjs) as a child process, in temporary site folders,
 * for the end-to-end tests. Never touches the repository's own content/ or public/.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = join(REPO, "bin", "feedpub.mjs");

export const SITE_CONFIG = `title: E2E Test Site
url: https://e2e.example.org/
description: Feeds written by the end-to-end tests.
language: en
author:
  name: Test Desk
  email: desk@e2e.example.org
itemLimit: 50
`;

export interface Site {
  /** The temporary folder; also the working directory for commands. */
  readonly dir: string;
  readonly content: string;
  readonly out: string;
  readonly config: string;
}

const made: string[] = [];

/**
 * A fresh site: DIR/feedpub.config.yaml, DIR/content/ (a copy of `copyContentFrom` when given,
 * otherwise empty), and DIR/public/ as the output folder (not created).
 */
export async function makeSite(
  options: { config?: string; copyContentFrom?: string; files?: Record<string, string | Uint8Array> } = {},
): Promise<Site> {
  const dir = await mkdtemp(join(tmpdir(), "feedpub-e2e-"));
  made.push(dir);
  const site = {
    dir,
    content: join(dir, "content"),
    out: join(dir, "public"),
    config: join(dir, "feedpub.config.yaml"),
  };
  await writeFile(site.config, options.config ?? SITE_CONFIG);
  if (options.copyContentFrom) await cp(options.copyContentFrom, site.content, { recursive: true });
  else await mkdir(site.content);
  for (const [name, body] of Object.entries(options.files ?? {})) await writeArticle(site, name, body);
  return site;
}

/** Writes a file under the site's content folder, creating folders on the way. */
export async function writeArticle(site: Site, name: string, body: string | Uint8Array): Promise<void> {
  const path = join(site.content, ...name.split("/"));
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, body);
}

/** Removes every temporary site made so far (call from afterAll). */
export async function removeSites(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const CHILD_ENV = (): NodeJS.ProcessEnv => {
  // No PORT from the outside world leaks into the tests; CI=1 keeps progress lines off.
  const { PORT: _port, ...env } = process.env;
  return { ...env, CI: "1", NO_COLOR: "1" };
};

/** Runs `node bin/feedpub.mjs ...args` to completion (killed after `timeoutMs`). */
export function runCli(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...CHILD_ENV(), ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `build` for a site with explicit --content/--out/--config. */
export function build(site: Site, ...extra: string[]): Promise<RunResult> {
  return runCli(["build", "--content", site.content, "--out", site.out, "--config", site.config, ...extra], {
    cwd: site.dir,
  });
}

export interface Server {
  readonly pid: number;
  readonly port: number;
  readonly base: string;
  /** Everything the server printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** How many rebuilds the server has reported so far. */
  rebuilds(): number;
  /** SIGTERM, then SIGKILL after 5 s; resolves with how the process ended. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/**
 * Starts `node bin/feedpub.mjs serve ...args` and resolves once it prints its
 * "serving http://localhost:PORT/..." line (the port is read from that line, so `--port 0` works).
 */
export function startServer(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Server> {
  const child = spawn(process.execPath, [BIN, "serve", ...args], {
    cwd: options.cwd,
    env: { ...CHILD_ENV(), ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => running.delete(child));
  const stop = async () => {
    await stopChild(child, exited);
    return { code: child.exitCode, signal: child.signalCode };
  };
  return new Promise((ready, fail) => {
    const timeout = setTimeout(() => {
      cleanup();
      void stop().then(() =>
        fail(new Error(`feedpub serve did not start in time\nstdout:\n${stdout}\nstderr:\n${stderr}`)),
      );
    }, options.timeoutMs ?? 20_000);
    const onData = () => {
      const match = /serving http:\/\/localhost:(\d+)\//.exec(stdout);
      if (!match?.[1] || child.pid === undefined) return;
      cleanup();
      const port = Number(match[1]);
      ready({
        pid: child.pid,
        port,
        base: `http://127.0.0.1:${port}`,
        stdout: () => stdout,
        stderr: () => stderr,
        rebuilds: () => stdout.match(/^rebuilt in \d+ ms$/gm)?.length ?? 0,
        stop,
      });
    };
    const onExit = (code: number | null) => {
      cleanup();
      fail(new Error(`feedpub serve exited early (${code})\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    };
    const cleanup = () => {
      clearTimeout(timeout);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
    };
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}

/** SIGTERM (the server shuts down cleanly), then SIGKILL if it is still there after 5 s. */
async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Stops every server started by startServer that is still running (call from afterEach). */
export async function stopAllServers(): Promise<void> {
  await Promise.all(
    [...running].map((child) => stopChild(child, new Promise((r) => child.once("exit", () => r())))),
  );
  running.clear();
}

/**
 * Polls `probe` every 100 ms until it returns true (or stops throwing), failing after `timeoutMs`
 * with the last error. For "the feed changes after a file does" style waits: the default is
 * generous, as a rebuild (about 0.1 s here) and a probe that reads the feeds with three readers
 * can take seconds on a saturated machine; a rebuild that never comes still fails.
 */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await probe()) return;
      last = undefined;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export async function readText(path: string): Promise<string> {
  return readFile(path, "utf8");
}
