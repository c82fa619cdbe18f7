import { connect } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { makeSite, removeSites, startServer } from "./cli.ts";

/** Whether a TCP connection to host:port is accepted (true) or refused (false). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });
}

const ARTICLE = { "a.md": "---\ntitle: A\ndate: 2024-01-01\n---\nA.\n" };

describe("feedpub serve listens on loopback only unless told otherwise", () => {
  afterAll(removeSites);

  it("binds 127.0.0.1 by default: IPv4 loopback answers, the IPv6 wildcard does not", async () => {
    const site = await makeSite({ files: ARTICLE });
    const server = await startServer(["--port", "0"], { cwd: site.dir });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/feeds/rss.xml`);
      expect(response.status).toBe(200);
      // Listening on every interface (Node's default, "::") would accept this one too.
      expect(await accepts("::1", server.port)).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it("--host chooses the address", async () => {
    const site = await makeSite({ files: ARTICLE });
    const server = await startServer(["--port", "0", "--host", "::1"], { cwd: site.dir });
    try {
      expect(await accepts("::1", server.port)).toBe(true);
      expect(await accepts("127.0.0.1", server.port)).toBe(false);
    } finally {
      await server.stop();
    }
  });
});
