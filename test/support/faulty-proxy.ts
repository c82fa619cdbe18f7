/**
 * A small HTTP proxy in front of moto that fails chosen requests, for fault-injection tests.
 *
 * Every request is forwarded unchanged to `target` (moto does not check signatures, so the Host
 * header the client signed for the proxy is harmless) and counted. A fault plan, counted from
 * the moment it is set, makes the n-th request (1-based) fail instead of reaching moto:
 * - "500": `500 InternalError` with S3's XML error body;
 * - "503": `503 SlowDown` with S3's XML error body;
 * - "reset": the client's socket is destroyed without any response;
 * - "timeout": the request is held, unanswered, until the client gives up (the client needs a
 *   short request timeout);
 * - "lost": the request IS forwarded and carried out by moto, then the client's socket is
 *   destroyed instead of answering (a response lost on the way back: the write happened, but the
 *   client cannot know).
 * Except for "lost", a failed request never reaches moto, so the fault never changes the bucket.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export type FaultKind = "500" | "503" | "reset" | "timeout" | "lost";
/** The faults that never reach moto. */
export const FAULT_KINDS: readonly FaultKind[] = ["500", "503", "reset", "timeout"];

/** Which requests fail: by position (1-based, counted from `setPlan`), or every one. */
export type FaultPlan = { readonly at: ReadonlyMap<number, FaultKind> } | { readonly every: FaultKind };

export interface FaultyProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Requests received since the proxy started (failed ones included). */
  requests(): number;
  /** Requests received since the plan was last set. */
  requestsSincePlan(): number;
  /** Replaces the plan and restarts its count; `undefined` (or no argument) forwards everything. */
  setPlan(plan?: FaultPlan): void;
  /** Shorthand: request n (1-based, from now) fails with `kind`; every other one is forwarded. */
  fail(n: number, kind: FaultKind): void;
  /**
   * Resolves once no forwarded request is in flight: a caller that failed fast (one of several
   * parallel requests failed) may leave others still running; wait before reading the bucket.
   */
  settled(): Promise<void>;
  /** Closes the listener and every connection, held ones included. */
  close(): Promise<void>;
}

const ERROR_BODIES: Record<"500" | "503", { code: string; message: string }> = {
  "500": { code: "InternalError", message: "We encountered an internal error. Please try again." },
  "503": { code: "SlowDown", message: "Please reduce your request rate." },
};

function errorXml(kind: "500" | "503", resource: string): string {
  const { code, message } = ERROR_BODIES[kind];
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
    `<Resource>${resource.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</Resource>` +
    "<RequestId>FAULTYPROXY0000</RequestId></Error>"
  );
}

export async function startFaultyProxy(target: string): Promise<FaultyProxy> {
  const upstream = new URL(target);
  let total = 0;
  let sincePlan = 0;
  let plan: FaultPlan | undefined;
  const sockets = new Set<Socket>();
  let inFlight = 0;

  const faultFor = (position: number): FaultKind | undefined => {
    if (!plan) return undefined;
    return "every" in plan ? plan.every : plan.at.get(position);
  };

  const forward = (req: IncomingMessage, res: ServerResponse, lose = false) => {
    inFlight++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight--;
    };
    res.on("finish", finish);
    res.on("close", finish);
    const outgoing = httpRequest(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        if (lose) {
          answer.resume();
          answer.on("end", () => {
            req.socket.destroy();
            finish();
          });
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    outgoing.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`faulty proxy: upstream error: ${error.message}`);
    });
    req.pipe(outgoing);
  };

  const server = createServer((req, res) => {
    total++;
    const kind = faultFor(++sincePlan);
    if (kind === undefined || kind === "lost") {
      forward(req, res, kind === "lost");
      return;
    }
    if (kind === "reset") {
      req.socket.destroy();
      return;
    }
    // Read the whole request first, as a server would, then answer (or never answer).
    req.resume();
    req.on("end", () => {
      if (kind === "timeout") return; // held until the client (or close()) ends the socket
      const body = errorXml(kind, req.url ?? "/");
      res.writeHead(Number(kind), {
        "content-type": "application/xml",
        "content-length": Buffer.byteLength(body),
        "x-amz-request-id": "FAULTYPROXY0000",
      });
      res.end(body);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("faulty proxy: no port");

  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    requests: () => total,
    requestsSincePlan: () => sincePlan,
    setPlan(next) {
      plan = next;
      sincePlan = 0;
    },
    fail(n, kind) {
      plan = { at: new Map([[n, kind]]) };
      sincePlan = 0;
    },
    async settled() {
      while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
