import { defineConfig } from 'vitest/config';

/**
 * End-to-end files that start only berth servers (and etcd, the AWS CLI, a registry) on ephemeral loopback ports:
 * no agent, container, network namespace, bridge or HAProxy. They may run beside other files; every other e2e
 * file runs alone. A new file runs alone until it is listed here.
 */
const API_ONLY_E2E = [
  'api-fuzz',
  'authorization',
  'autoscaling-crash',
  'aws-cli',
  'cli-push-resume',
  'cloudwatch-metrics',
  'durability',
  'ecs-fidelity-cli',
  'efs-policy',
  'elbv2',
  'eventbridge-durability',
  'scheduler-api',
  'iam-sts',
  'logs',
  'metrics-cli',
  'cli-log-format',
  'registry',
  'replicas-etcd',
  'secrets',
  'service-discovery',
  'sqs',
  'sqs-replicas',
].map((name) => `test/e2e/${name}.test.ts`);

export default defineConfig({
  test: {
    // Child processes and native addons (better-sqlite3) behave best in forked workers.
    pool: 'forks',
    // In CI (BERTH_NO_SKIPS=1, scripts/test.sh) a skipped test fails the run: every real part is installed there.
    reporters: process.env.BERTH_NO_SKIPS ? ['default', './scripts/vitest-no-skips.ts'] : ['default'],
    // Regenerates the Cluster Query Language parser when its grammar changed, so tests never run a stale one.
    globalSetup: ['./scripts/build-cql.mjs'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // Vitest runs its groups one after another: unit files and the API-only end-to-end files together, two at a
    // time (vitest's default here would be cores − 1 = one), then the end-to-end files with real hosts, one at a
    // time.
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.test.ts', 'console/src/**/*.test.ts'], testTimeout: 20_000, maxWorkers: 2 },
      },
      {
        extends: true,
        test: {
          name: 'e2e-api',
          include: API_ONLY_E2E,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: API_ONLY_E2E,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // End-to-end tests start servers and containers; run them one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
