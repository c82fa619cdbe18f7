/**
 * A real S3/SQS API for integration tests: moto's standalone server (`moto_server`), started on a
 * free port per test file and stopped by PID. Tests never skip when moto is missing: they fail with
 * the install hint, because an S3 adapter that was never run against an S3 API is not tested.
 *
 * Product code needs no test switches: the AWS SDK reads AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_SQS
 * (see `motoEnv`), and the product creates `new S3Client({ forcePathStyle: true })` when an S3
 * endpoint is set, exactly as `s3Client` below does.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";

export const MOTO_REGION = "us-east-1";
/** moto's default account; ARNs it builds (queues, buckets) use it. */
export const MOTO_ACCOUNT = "123456789012";
export const FAKE_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" } as const;

const INSTALL_HINT = "moto_server is required for the S3 integration tests: pip install 'moto[server]'";
/**
 * moto_server takes 5 s to answer on a saturated 2-core machine (Python imports), more when two
 * test files start one at once; this only bounds a server that never answers. Within the 60 s
 * the integration tests' beforeAll hooks allow.
 */
const READY_TIMEOUT_MS = 40_000;
const STOP_TIMEOUT_MS = 5_000;

export interface Moto {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** Kills the server by PID and resolves once it has exited (idempotent). */
  stop(): Promise<void>;
}

/** The first `moto_server` executable on PATH, or undefined. */
export function findMotoServer(path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "moto_server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A TCP port that was free a moment ago (listen on 0, read the port, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not read the port of a listening socket"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** If a test run dies before afterAll, do not leave moto servers behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of running) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
}

/**
 * Starts `moto_server -H 127.0.0.1 -p PORT` on a free port and waits until it answers HTTP.
 * Throws (never skips) when moto_server is not on PATH, and with moto's stderr when it exits
 * early or does not answer within 40 s. Retries once on a new port if the port was taken.
 */
export async function startMoto(): Promise<Moto> {
  const executable = findMotoServer();
  if (!executable) throw new Error(`${INSTALL_HINT} (not found on PATH)`);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(executable, await freePort());
    } catch (error) {
      lastError = error;
      // Only a lost race for the port is worth another try.
      if (!(error instanceof MotoExitedError) || !/address already in use/i.test(error.stderr)) throw error;
    }
  }
  throw lastError;
}

class MotoExitedError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = "MotoExitedError";
  }
}

async function startOnce(executable: string, port: number): Promise<Moto> {
  const child = spawn(executable, ["-H", "127.0.0.1", "-p", String(port)], {
    detached: false,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
  });
  installExitHook();
  running.add(child);
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    // Keep the start (why it failed) and the end (the latest requests), not megabytes of logs.
    stderr = stderr.length < 64_000 ? stderr + chunk : stderr.slice(0, 32_000) + chunk;
  });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      running.delete(child);
      resolve();
    });
  });
  const spawnError = new Promise<never>((_, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "ENOENT"
          ? new Error(`${INSTALL_HINT} (could not run ${executable})`)
          : new Error(`could not start ${executable}: ${error.message}`),
      );
    });
  });
  spawnError.catch(() => {}); // observed below; never an unhandled rejection

  const stop = async (): Promise<void> => {
    // No PID: the spawn itself failed, there is nothing to kill or wait for.
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new MotoExitedError(
          `moto_server exited (code ${child.exitCode}, signal ${child.signalCode}) before answering on ${endpoint}; stderr:\n${stderr}`,
          stderr,
        );
      }
      const answered = await Promise.race([
        fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) }).then(
          async (response) => {
            await response.arrayBuffer();
            return true;
          },
          () => false,
        ),
        spawnError,
      ]);
      if (answered) break;
      if (Date.now() > deadline) {
        throw new Error(
          `moto_server did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000} s; stderr:\n${stderr}`,
        );
      }
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  if (child.pid === undefined) throw new Error("moto_server started without a PID");
  return { endpoint, port, pid: child.pid, stop };
}

/** Forgets every bucket, queue and object (moto's POST /moto-api/reset). */
export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
}

/** An S3 client for moto: path-style addressing, fake credentials, us-east-1. */
export function s3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: MOTO_REGION,
    credentials: FAKE_CREDENTIALS,
    forcePathStyle: true,
  });
}

/** An SQS client for moto: fake credentials, us-east-1. */
export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: MOTO_REGION, credentials: FAKE_CREDENTIALS });
}

export async function createBucket(s3: S3Client, name: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
}

/**
 * The environment under which product code (which builds its own clients from the environment)
 * talks to moto: endpoints, fake credentials, region. Apply with `useMotoEnv`.
 */
export function motoEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
    AWS_REGION: MOTO_REGION,
  };
}

/** Sets `motoEnv(endpoint)` in process.env; returns a function that restores the old values. */
export function useMotoEnv(endpoint: string): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(motoEnv(endpoint))) {
    saved.set(name, process.env[name]);
    process.env[name] = value;
  }
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
