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
    reporters: process.env.BERTH_NO_SKIPS ? ['default', './scripts/vitest-no-skips.ts'] : ['default'],
    // Regenerates the Cluster Query Language parser when its grammar changed, so tests never run a stale one.
    globalSetup: ['./scripts/build-cql.mjs'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // The three groups run side by side (no sequence.groupOrder), each two files at a time (vitest's default here
    // would be cores − 1 = one). End-to-end files with real hosts may share the machine because their fixtures give
    // each file its own bridge, subnet, dynamic port window, namespace and veth names and an ephemeral metadata port
    // (test/e2e/support/cluster.ts, hosts.ts), and check leaks by their own ids, never by counting the host's. Most
    // of their time is waiting (health checks, cooldowns, metric periods), so two at a time roughly halve the run.
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
          maxWorkers: 2,
        },
      },
    ],
  },
});
