import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoopbackRegistry } from '../../src/testing/docker-registry.js';
import type { BerthAgentProcess } from './support/berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { boto3Calls } from './support/boto3.js';
import { schedulerClient } from './support/scheduler-client.js';
import { uniqueBridge } from './support/cluster.js';
import type { HostLab } from './support/hosts.js';
import { startLabAgent, startLabControlPlane, stopLab } from './support/lab-agent.js';
import { containerOutput, waitForTask } from './support/task-output.js';

const isRoot = process.getuid?.() === 0;
const REGION = 'us-east-1';
const TRUST_SCHEDULER = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * EventBridge Scheduler with real containers and a real kill -9: the built server and agent on a simulated host; a
 * one-time schedule (made with boto3, ActionAfterCompletion DELETE) a few seconds ahead runs a busybox task that
 * prints the schedule's scheduled time. The server is killed with SIGKILL around the fire time — before it, just
 * after it, a little later — and restarted on the same address and data directory; each time exactly one task ran
 * for the schedule, and the schedule was deleted. A schedule whose role may not ecs:RunTask records the failure in the
 * server's log and runs nothing.
 */
describe.runIf(isRoot)('EventBridge Scheduler runs a task once across a kill -9 of the server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-scheduler-kill-'));
  const bridge = uniqueBridge();
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let agent: BerthAgentProcess;
  let ecs: ECSClient;
  let logs: CloudWatchLogsClient;
  let account: string;
  let listen: string;
  const scheduler = (calls: { op: string; params?: object }[]) => boto3Calls(server.url, server.keys, 'scheduler', calls, REGION);
  const atText = (ms: number) => `at(${new Date(ms).toISOString().slice(0, 19)})`;

  beforeAll(async () => {
    ({ lab, registry, server, ecs, logs } = await startLabControlPlane(dir, REGION));
    listen = new URL(server.url).host;
    const image = `${registry.host}/busybox:latest`;
    const iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: { ...server.keys }, maxAttempts: 3 });
    const role = await iam.send(new CreateRoleCommand({ RoleName: 'scheduler-run-task', AssumeRolePolicyDocument: TRUST_SCHEDULER }));
    account = role.Role!.Arn!.split(':')[4]!;
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'scheduler-run-task',
        PolicyName: 'run-stamp',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:RunTask', Resource: `arn:aws:ecs:${REGION}:${account}:task-definition/stamp:*` }] }),
      }),
    );
    // Assumable by the Scheduler, but allowed nothing.
    await iam.send(new CreateRoleCommand({ RoleName: 'scheduler-no-run', AssumeRolePolicyDocument: TRUST_SCHEDULER }));
    iam.destroy();
    agent = await startLabAgent({ server, lab, dir, bridge, env: { BERTH_INSECURE_REGISTRIES: registry.host } });
    for (const family of ['stamp', 'refused']) {
      await ecs.send(
        new RegisterTaskDefinitionCommand({ family, networkMode: 'bridge', containerDefinitions: [{ name: 'probe', image, memory: 32, command: ['sh', '-c', 'echo "AT $AT"; echo DONE'] }] }),
      );
    }
  }, 180_000);

  afterAll(() => stopLab({ dir, ecs, agent, clients: [logs], server, registries: [registry], lab }));

  const tasksOf = async (family: string, startedBy: string) => {
    const [running, stopped] = await Promise.all(
      (['RUNNING', 'STOPPED'] as const).map((desiredStatus) => ecs.send(new ListTasksCommand({ family, startedBy, desiredStatus })).then((r) => r.taskArns ?? [])),
    );
    return [...running!, ...stopped!];
  };

  const target = (roleName: string, family: string, extra: object = {}) => ({
    Arn: `arn:aws:ecs:${REGION}:${account}:cluster/default`,
    RoleArn: `arn:aws:iam::${account}:role/${roleName}`,
    EcsParameters: { TaskDefinitionArn: `arn:aws:ecs:${REGION}:${account}:task-definition/${family}:1`, LaunchType: 'EC2' },
    Input: JSON.stringify({ containerOverrides: [{ name: 'probe', environment: [{ name: 'AT', value: '<aws.scheduler.scheduled-time>' }] }] }),
    ...extra,
  });

  // Kill offsets from the fire time: before it (the restarted server fires the missed slot), and just after it (the
  // killed server may have claimed the slot, started the task, or neither).
  for (const killOffsetMs of [-1_500, 300, 1_200]) {
    it(`kill -9 ${killOffsetMs} ms from the fire time: exactly one task ran and the schedule was deleted`, async () => {
      const name = `once${killOffsetMs < 0 ? 'm' : 'p'}${Math.abs(killOffsetMs)}`;
      // Whole seconds (at() has no finer unit), at least 6 s ahead.
      const fireAt = Math.ceil((Date.now() + 6_000) / 1000) * 1000;
      // A signed REST-JSON request from the test's own process: boto3 takes seconds to start on a loaded machine.
      const made = await schedulerClient(server.url, server.keys, REGION)('CreateSchedule', {
        Name: name,
        ScheduleExpression: atText(fireAt),
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: target('scheduler-run-task', 'stamp'),
      });
      expect(made, JSON.stringify(made)).toMatchObject({ status: 200 });
      const wait = fireAt + killOffsetMs - Date.now();
      expect(wait, 'the machine took too long to create the schedule').toBeGreaterThan(0);
      await sleep(wait);
      expect(await server.kill('SIGKILL')).toBeNull();
      // Down past the fire time in every case, so the restarted server finds the slot due or claimed.
      await sleep(Math.max(0, fireAt + 500 - Date.now()));
      server = await startBerthServer(join(dir, 'server'), ['--listen', listen, '--log-level', 'info']);

      const startedBy = `scheduler/${name}`;
      await expect.poll(() => tasksOf('stamp', startedBy), { timeout: 60_000, interval: 500 }).toHaveLength(1);
      const [taskArn] = await tasksOf('stamp', startedBy);
      const task = await waitForTask(ecs, taskArn!, (t) => t.lastStatus === 'STOPPED', 60_000, () => agent.stderr().slice(-3000));
      expect(task.startedBy).toBe(startedBy);
      const out = await containerOutput(logs, { group: '/berth/default', stream: `stamp/probe/${taskArn!.split('/').at(-1)}` }, 'DONE', 30_000);
      expect(out.AT).toBe(new Date(fireAt).toISOString().replace('.000Z', 'Z'));
      const [gone] = await scheduler([{ op: 'get_schedule', params: { Name: name } }]);
      expect(gone).toMatchObject({ error: { code: 'ResourceNotFoundException' } });
      // A second task would come from a second claim or a retried RunTask without its token: give the leader's
      // passes (every 500 ms) a few seconds to make one, then count again.
      await sleep(3_000);
      expect(await tasksOf('stamp', startedBy)).toEqual([taskArn]);
    }, 180_000);
  }

  it('a schedule whose role may not ecs:RunTask records the failure and runs nothing', async () => {
    const name = 'denied';
    const fireAt = Math.ceil((Date.now() + 3_000) / 1000) * 1000;
    const [made] = await scheduler([
      {
        op: 'create_schedule',
        params: { Name: name, ScheduleExpression: atText(fireAt), FlexibleTimeWindow: { Mode: 'OFF' }, Target: target('scheduler-no-run', 'refused', { RetryPolicy: { MaximumRetryAttempts: 0 } }) },
      },
    ]);
    expect(made, JSON.stringify(made)).toHaveProperty('ok');
    const arn = `arn:aws:scheduler:${REGION}:${account}:schedule/default/${name}`;
    const dropped = () =>
      server
        .stdout()
        .split('\n')
        .find((line) => line.includes(arn) && line.includes('event dropped'));
    await expect.poll(dropped, { timeout: 30_000, interval: 250 }).toBeDefined();
    expect(dropped()).toMatch(/AccessDeniedException.*ecs:RunTask/);
    expect(await tasksOf('refused', `scheduler/${name}`)).toEqual([]);
    expect((await ecs.send(new ListTasksCommand({ family: 'refused', desiredStatus: 'STOPPED' }))).taskArns).toEqual([]);
  }, 60_000);
});
