import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests that start servers and child processes do not fight over the two cores.
    maxWorkers: 2,
  },
});
