import { defineConfig } from 'vitest/config';

// Two projects so the real-collector tests can be run or left out by name:
//   vitest run --project unit     everything but Jaeger
//   vitest run --project jaeger   the real-Jaeger end-to-end tests
// Files run one at a time: many tests spawn the CLI, which starts worker threads of its own.
const JAEGER = ['test/jaeger*.test.ts'];

export default defineConfig({
  test: {
    fileParallelism: false,
    // node:test had no timeouts; a slow shared machine should not fail a correct test.
    testTimeout: 300_000,
    hookTimeout: 600_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/*.test.ts'], exclude: JAEGER } },
      { extends: true, test: { name: 'jaeger', include: JAEGER } },
    ],
  },
});
