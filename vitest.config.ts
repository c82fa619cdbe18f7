import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    {
      // feed's published file names a source map it does not ship; once Vite processes feed
      // (below) it would warn about that on every run. Loaded here without that comment.
      name: "feed-without-missing-source-map",
      load(id) {
        if (!id.endsWith("/node_modules/feed/lib/feed.js")) return null;
        return readFileSync(id, "utf8").replace(/^\/\/# sourceMappingURL=.*$/m, "");
      },
    },
  ],
  resolve: {
    // feed runs on our XML writer, as in the CLI and the Lambda bundles (see xml-writer.ts).
    alias: { "xml-js": fileURLToPath(new URL("./functions/core/render/xml-writer.ts", import.meta.url)) },
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests that start servers and child processes do not fight over the two cores.
    maxWorkers: 2,
    // feed is processed by Vite (not loaded by Node as is) so that the alias reaches its import.
    server: { deps: { inline: ["feed"] } },
  },
});
