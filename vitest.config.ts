import { defineConfig } from 'vitest/config';

/**
 * End-to-end files that start only berth servers (and etcd, the AWS CLI, a registry) on ephemeral loopback ports:
 * no agent, container, network namespace, bridge or HAProxy. They run in a group of their own beside the unit files.
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
  'sqs-source-ip',
].map((name) => `test/e2e/${name}.test.ts`);

export default defineConfig({
  test: {
    // Child processes and native addons (better-sqlite3) behave best in forked workers.
    pool: 'forks',
    // In CI (BERTH_NO_SKIPS=1, scripts/test.sh) a skipped test fails the run: every real part is installed there.
    // Every run lists the tests that passed only on a retry (scripts/vitest-flaky.ts).
    reporters: process.env.BERTH_NO_SKIPS ? ['default', './scripts/vitest-flaky.ts', './scripts/vitest-no-skips.ts'] : ['default', './scripts/vitest-flaky.ts'],
    // Regenerates the Cluster Query Language parser when its grammar changed, so tests never run a stale one.
    globalSetup: ['./scripts/build-cql.mjs'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // Vitest 4 runs projects of one sequence.groupOrder as one group with one worker count (they must agree), and a
    // project of one worker after every other group. So: any two files at once, from all three projects (the longest,
    // the end-to-end ones, first); before, the end-to-end files with real hosts ran one at a time after the rest.
    // End-to-end files with real hosts may share the machine because their fixtures give each file its own bridge,
    // subnet, dynamic port window, namespace and veth names and an ephemeral metadata port (test/e2e/support/
    // cluster.ts, hosts.ts), and check leaks by their own ids, never by counting the host's.
    // The end-to-end projects retry a failed test once: real processes two files at a time on a shared machine can
    // miss a deadline from load alone (the end-to-end failures of the last CI runs were such tests, a different one
    // each time). A test that passes only on its retry is named at the end of the run with its first error. Unit tests
    // are not retried.
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
          retry: 1,
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
          retry: 1,
          maxWorkers: 2,
        },
      },
    ],
  },
});
