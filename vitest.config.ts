import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Child processes and native addons (better-sqlite3) behave best in forked workers.
    pool: 'forks',
    // In CI (BERTH_NO_SKIPS=1, scripts/test.sh) a skipped test fails the run: every real part is installed there.
    reporters: process.env.BERTH_NO_SKIPS ? ['default', './scripts/vitest-no-skips.ts'] : ['default'],
    // Regenerates the Cluster Query Language parser when its grammar changed, so tests never run a stale one.
    globalSetup: ['./scripts/build-cql.mjs'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.test.ts'], testTimeout: 20_000 },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // End-to-end tests start servers and containers; run them one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
