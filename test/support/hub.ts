import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the hub received. */
export interface HubRequest {
  readonly method: string;
  readonly contentType: string;
  readonly params: Record<string, string>;
}

/**
 * A local WebSub hub for tests: records every request and answers with the scripted statuses in
 * order ("hang" never answers, "drop" closes the connection), then 204 No Content.
 */
export interface TestHub {
  readonly url: string;
  readonly requests: HubRequest[];
  script(...answers: (number | "hang" | "drop")[]): void;
  close(): Promise<void>;
}

export async function startHub(): Promise<TestHub> {
  const requests: HubRequest[] = [];
  let answers: (number | "hang" | "drop")[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      requests.push({
        method: req.method ?? "",
        contentType: req.headers["content-type"] ?? "",
        params: Object.fromEntries(new URLSearchParams(body)),
      });
      const answer = answers.shift() ?? 204;
      if (answer === "hang") return;
      if (answer === "drop") {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hub`,
    requests,
    script: (...next) => {
      answers = next;
    },
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
