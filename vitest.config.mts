import { defineConfig } from "vitest/config";

// Pulumi keeps global runtime state (mocks, config, the root stack): every test file
// must run in its own isolated module graph, so isolation stays on.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    isolate: true,
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
