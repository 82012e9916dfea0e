import { describe, expect, it } from 'vitest';
import { acsContainer, runningTask } from '../testing/task-states.js';
import { formatContainer, formatTask } from './format-task.js';

const v4 = { version: 'v4', clusterName: 'default', availabilityZone: 'us-east-1b' } as const;
const v3 = { ...v4, version: 'v3' } as const;

describe('task metadata in ECS shapes', () => {
  const task = runningTask('a1b2', {
    spec: { cpu: 0.5, memory: 512, serviceName: 'web-svc' },
    containers: [
      acsContainer('web', {
        portMappings: [{ containerPort: 80 }],
        dockerLabels: { team: 'blue' },
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/web', 'awslogs-stream-prefix': 'ecs', 'awslogs-region': 'us-east-1' } },
        healthCheck: { command: ['CMD', 'true'] },
      }),
      acsContainer('init', { essential: false, memory: undefined, memoryReservation: 32, cpu: undefined }),
      acsContainer('waiting'),
    ],
    state: (c, i) =>
      i === 0
        ? { networkBindings: [{ bindIP: '0.0.0.0', containerPort: 80, hostPort: 49160, protocol: 'tcp' }], healthStatus: 'HEALTHY' }
        : i === 1
          ? { known: 'STOPPED', exitCode: 0, finishedAt: Date.UTC(2026, 0, 1, 0, 0, 9) }
          : { known: 'PULLED', runtimeId: undefined },
  });

  it('formats the task as v4 for EC2, listing the containers the runtime has created', () => {
    const t = formatTask(task, v4);
    expect(t).toMatchObject({
      Cluster: 'arn:aws:ecs:us-east-1:000000000000:cluster/default',
      TaskARN: 'arn:aws:ecs:us-east-1:000000000000:task/default/a1b2',
      Family: 'web',
      Revision: '3',
      ServiceName: 'web-svc',
      DesiredStatus: 'RUNNING',
      KnownStatus: 'RUNNING',
      Limits: { CPU: 0.5, Memory: 512 },
      PullStartedAt: '2026-01-01T00:00:00.000Z',
      PullStoppedAt: '2026-01-01T00:00:02.000Z',
      AvailabilityZone: 'us-east-1b',
      LaunchType: 'EC2',
    });
    expect(t).not.toHaveProperty('ExecutionStoppedAt');
    expect(t).not.toHaveProperty('TaskTags');
    expect(t.Containers.map((c) => c.Name)).toEqual(['web', 'init']);
  });

  it('formats a running bridge-mode container with ports, labels, logs, health and its address', () => {
    const c = formatContainer(task, task.containers[0]!, v4);
    expect(c).toEqual({
      DockerId: 'a1b2-web',
      Name: 'web',
      DockerName: 'a1b2-web',
      Image: 'registry.example/busybox:latest',
      ImageID: `sha256:${'c'.repeat(64)}`,
      Ports: [{ ContainerPort: 80, Protocol: 'tcp', HostPort: 49160, HostIp: '0.0.0.0' }],
      Labels: {
        team: 'blue',
        'com.amazonaws.ecs.cluster': 'default',
        'com.amazonaws.ecs.container-name': 'web',
        'com.amazonaws.ecs.task-arn': task.arn,
        'com.amazonaws.ecs.task-definition-family': 'web',
        'com.amazonaws.ecs.task-definition-version': '3',
      },
      DesiredStatus: 'RUNNING',
      KnownStatus: 'RUNNING',
      Limits: { CPU: 128, Memory: 64 },
      CreatedAt: '2026-01-01T00:00:03.000Z',
      StartedAt: '2026-01-01T00:00:04.000Z',
      Type: 'NORMAL',
      LogDriver: 'awslogs',
      LogOptions: { 'awslogs-group': '/ecs/web', 'awslogs-stream-prefix': 'ecs', 'awslogs-region': 'us-east-1', 'awslogs-stream': 'ecs/web/a1b2' },
      ContainerARN: 'arn:aws:ecs:us-east-1:000000000000:container/default/web-arn',
      Networks: [{ NetworkMode: 'bridge', IPv4Addresses: [task.containers[0]!.ipv4Address] }],
      Health: { status: 'HEALTHY' },
    });
  });

  it('formats an exited container: exit code, finish time, minimum CPU, no hard limit, no health without a check', () => {
    const c = formatContainer(task, task.containers[1]!, v4);
    expect(c).toMatchObject({ KnownStatus: 'STOPPED', ExitCode: 0, FinishedAt: '2026-01-01T00:00:09.000Z', Limits: { CPU: 2, Memory: 0 } });
    expect(c).not.toHaveProperty('Health');
    expect(c).not.toHaveProperty('Ports');
    expect(c).not.toHaveProperty('LogDriver');
  });

  it('takes the task memory as the hard limit of a container that sets none, as the runtime does', () => {
    const t = runningTask('m1', { spec: { memory: 256 }, containers: [acsContainer('app', { memory: undefined })] });
    expect(formatContainer(t, t.containers[0]!, v4).Limits).toEqual({ CPU: 128, Memory: 256 });
  });

  it('writes host networking as ECS does (an empty address)', () => {
    const t = runningTask('h1', { networkMode: 'host', containers: [acsContainer('app', { portMappings: [{ containerPort: 8080 }] })], state: () => ({ networkBindings: [{ bindIP: '0.0.0.0', containerPort: 8080, hostPort: 8080, protocol: 'tcp' }] }) });
    expect(formatContainer(t, t.containers[0]!, v4)).toMatchObject({
      Networks: [{ NetworkMode: 'host', IPv4Addresses: [''] }],
      Ports: [{ ContainerPort: 8080, HostPort: 8080, Protocol: 'tcp', HostIp: '0.0.0.0' }],
    });
  });

  it("writes an awsvpc task's network as ECS does: the task's address, MAC and DNS name", () => {
    const t = runningTask('v1', { networkMode: 'awsvpc' });
    const ip = t.taskNetwork!.ipv4Address!;
    expect(formatContainer(t, t.containers[0]!, v4).Networks).toEqual([
      { NetworkMode: 'awsvpc', IPv4Addresses: [ip], AttachmentIndex: 0, MACAddress: '0a:58:ac:1f:00:02', PrivateDNSName: `ip-${ip.replaceAll('.', '-')}.ec2.internal` },
    ]);
  });

  it('leaves out what v4 added when answering v3', () => {
    const t = formatTask(task, v3);
    expect(t).not.toHaveProperty('LaunchType');
    expect(t).not.toHaveProperty('ServiceName');
    const c = t.Containers[0]!;
    for (const k of ['LogDriver', 'LogOptions', 'ContainerARN']) expect(c).not.toHaveProperty(k);
    expect(c.Ports).toEqual([{ ContainerPort: 80, Protocol: 'tcp', HostPort: 49160 }]);
  });

  it('shows when a stopped task stopped and omits Limits when the task sets none', () => {
    const t = runningTask('s1', { state: () => ({ known: 'STOPPED' }) });
    t.desired = 'STOPPED';
    t.known = 'STOPPED';
    t.executionStoppedAt = Date.UTC(2026, 0, 1, 1);
    const m = formatTask(t, v4);
    expect(m).toMatchObject({ DesiredStatus: 'STOPPED', KnownStatus: 'STOPPED', ExecutionStoppedAt: '2026-01-01T01:00:00.000Z' });
    expect(m).not.toHaveProperty('Limits');
  });
});
