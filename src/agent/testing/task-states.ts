import type { AcsContainer, AcsTask } from '../../model/acs.js';
import type { ContainerState, TaskState } from '../task-engine/task-state.js';

const ACCOUNT = 'arn:aws:ecs:us-east-1:000000000000';

/** A container of a task as the control plane sends it, with the fields tests care about. */
export function acsContainer(name: string, extra: Partial<AcsContainer> = {}): AcsContainer {
  return {
    name,
    image: 'registry.example/busybox:latest',
    memory: 64,
    cpu: 128,
    essential: true,
    containerArn: `${ACCOUNT}:container/default/${name}-arn`,
    environment: {},
    overrides: '{}',
    ...extra,
  } as AcsContainer;
}

/**
 * A running task's state as the task engine keeps it: each container created and started, with a
 * metadata token (`<tag>-<container>` hashed into 32 hex digits so tests can tell them apart).
 */
export function runningTask(
  id: string,
  options: {
    networkMode?: 'bridge' | 'host' | 'none' | 'awsvpc';
    containers?: AcsContainer[];
    spec?: Partial<AcsTask>;
    state?: (c: ContainerState, index: number) => Partial<ContainerState>;
  } = {},
): TaskState {
  const networkMode = options.networkMode ?? 'bridge';
  const containers = options.containers ?? [acsContainer('app')];
  const arn = `${ACCOUNT}:task/default/${id}`;
  const spec: AcsTask = {
    arn,
    taskClusterArn: `${ACCOUNT}:cluster/default`,
    family: 'web',
    version: '3',
    desiredStatus: 'RUNNING',
    overrides: '{}',
    containers,
    volumes: [],
    networkMode,
    launchType: 'EC2',
    ...options.spec,
  };
  const taskIp = `172.31.0.${(hash(id) % 200) + 2}`;
  return {
    arn,
    spec,
    ...(networkMode === 'awsvpc' ? { taskNetwork: { id, netnsPath: `/var/run/netns/berth-${id}`, ipv4Address: taskIp, macAddress: '0a:58:ac:1f:00:02' } } : {}),
    desired: 'RUNNING',
    known: 'RUNNING',
    pullStartedAt: Date.UTC(2026, 0, 1, 0, 0, 0),
    pullStoppedAt: Date.UTC(2026, 0, 1, 0, 0, 2),
    containers: containers.map((c, i) => {
      const runtimeId = `${id}-${c.name}`;
      const base: ContainerState = {
        name: c.name!,
        essential: c.essential !== false,
        known: 'RUNNING',
        runtimeId,
        imageId: `sha256:${'c'.repeat(64)}`,
        networkBindings: [],
        createdAt: Date.UTC(2026, 0, 1, 0, 0, 3),
        startedAt: Date.UTC(2026, 0, 1, 0, 0, 4),
        metadataToken: tokenFor(`${id}-${c.name}`),
        ...(networkMode === 'bridge' ? { networkId: runtimeId, ipv4Address: `172.30.${i}.${(hash(id) % 200) + 2}` } : {}),
        ...(networkMode === 'awsvpc' ? { ipv4Address: taskIp } : {}),
      };
      return { ...base, ...options.state?.(base, i) };
    }),
  };
}

function hash(s: string): number {
  let h = 7;
  for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

/** A deterministic 32-hex-digit token for a name. */
export function tokenFor(name: string): string {
  let out = '';
  for (let i = 0; out.length < 32; i++) out += hash(`${name}:${i}`).toString(16).padStart(8, '0');
  return out.slice(0, 32);
}
