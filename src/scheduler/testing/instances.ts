import type { InstanceSnapshot, TaskSummary } from '../snapshot.js';

/** A container instance for tests: ACTIVE, connected, 4096 CPU, 8192 MiB, no ports taken, unless overridden. */
export function instance(
  id: string,
  overrides: Partial<Omit<InstanceSnapshot, 'attributes' | 'remaining'>> & {
    attributes?: Record<string, string | undefined>;
    remaining?: Partial<InstanceSnapshot['remaining']>;
  } = {},
): InstanceSnapshot {
  const { attributes, remaining, ...rest } = overrides;
  return {
    id,
    arn: `arn:aws:ecs:us-east-1:000000000000:container-instance/default/${id}`,
    ec2InstanceId: `i-${id}`,
    status: 'ACTIVE',
    agentConnected: true,
    agentVersion: '1.20.0',
    registeredAt: 1_600_000_000,
    tasks: [],
    ...rest,
    attributes: new Map(Object.entries(attributes ?? {})),
    remaining: { cpu: 4096, memory: 8192, ports: [], portsUdp: [], ...remaining },
  };
}

/** `n` tasks of `group` with ids prefixed by `prefix`. */
export function tasksOf(group: string, n: number, prefix = group): TaskSummary[] {
  return Array.from({ length: n }, (_, k) => ({ taskId: `${prefix}-${k}`, group }));
}
