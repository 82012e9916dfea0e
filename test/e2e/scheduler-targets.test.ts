import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { type ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoopbackRegistry } from '../../src/testing/docker-registry.js';
import type { BerthAgentProcess } from './support/berth-agent.js';
import type { BerthServerProcess } from './support/berth-server.js';
import { uniqueBridge } from './support/cluster.js';
import type { HostLab } from './support/hosts.js';
import { startLabAgent, startLabControlPlane, stopLab } from './support/lab-agent.js';
import { schedulerClient } from './support/scheduler-client.js';
import { containerOutput, waitForTask } from './support/task-output.js';

const isRoot = process.getuid?.() === 0;
const REGION = 'us-east-1';
const TRUST_SCHEDULER = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const atText = (ms: number) => `at(${new Date(ms).toISOString().slice(0, 19)})`;
const slotText = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * EventBridge Scheduler's targets beyond ECS clusters, on the built server with a real agent and containers: a
 * one-time schedule targeting an SQS queue (templated) delivers one message, received with the SDK JS v3; a universal
 * target `arn:aws:scheduler:::aws-sdk:ecs:runTask` runs a busybox task from its Input (PascalCase members, as the
 * Scheduler's users write them); a target whose role may not sqs:SendMessage ends, its retries exhausted, in its
 * dead-letter queue with the Scheduler's attributes. Every call runs as the role assumed by scheduler.amazonaws.com.
 */
describe.runIf(isRoot)('EventBridge Scheduler targets an SQS queue and universal aws-sdk actions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-scheduler-targets-'));
  const bridge = uniqueBridge();
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let agent: BerthAgentProcess;
  let ecs: ECSClient;
  let logs: CloudWatchLogsClient;
  let sqs: SQSClient;
  let account: string;
  let create: ReturnType<typeof schedulerClient>;
  const role = (name: string) => `arn:aws:iam::${account}:role/${name}`;

  beforeAll(async () => {
    ({ lab, registry, server, ecs, logs } = await startLabControlPlane(dir, REGION));
    create = schedulerClient(server.url, server.keys, REGION);
    sqs = new SQSClient({ endpoint: server.url, region: REGION, credentials: { ...server.keys }, maxAttempts: 3 });
    const iam = new IAMClient({ endpoint: server.url, region: REGION, credentials: { ...server.keys }, maxAttempts: 3 });
    const made = await iam.send(new CreateRoleCommand({ RoleName: 'scheduler-targets', AssumeRolePolicyDocument: TRUST_SCHEDULER }));
    account = made.Role!.Arn!.split(':')[4]!;
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'scheduler-targets',
        PolicyName: 'send-and-run',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: `arn:aws:sqs:${REGION}:${account}:jobs` },
            { Effect: 'Allow', Action: 'ecs:RunTask', Resource: `arn:aws:ecs:${REGION}:${account}:task-definition/stamp:*` },
          ],
        }),
      }),
    );
    // Assumable by the Scheduler, allowed nothing.
    await iam.send(new CreateRoleCommand({ RoleName: 'scheduler-nothing', AssumeRolePolicyDocument: TRUST_SCHEDULER }));
    iam.destroy();
    for (const name of ['jobs', 'locked', 'schedule-dlq']) await sqs.send(new CreateQueueCommand({ QueueName: name }));
    agent = await startLabAgent({ server, lab, dir, bridge, env: { BERTH_INSECURE_REGISTRIES: registry.host } });
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'stamp',
        networkMode: 'bridge',
        containerDefinitions: [{ name: 'probe', image: `${registry.host}/busybox:latest`, memory: 32, command: ['sh', '-c', 'echo "AT $AT"; echo DONE'] }],
      }),
    );
  }, 180_000);

  afterAll(async () => {
    sqs?.destroy();
    await stopLab({ dir, ecs, agent, clients: [logs], server, registries: [registry], lab });
  });

  const queueUrl = (name: string) => `${server.url}/${account}/${name}`;
  /** Every message the queue gives within `ms` (long polls; received messages stay in flight, so none twice). */
  const drain = async (name: string, ms: number): Promise<Message[]> => {
    const out: Message[] = [];
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const wait = Math.max(1, Math.min(5, Math.floor((until - Date.now()) / 1000)));
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl(name), MaxNumberOfMessages: 10, WaitTimeSeconds: wait, VisibilityTimeout: 600, MessageAttributeNames: ['All'] }));
      out.push(...(got.Messages ?? []));
    }
    return out;
  };

  it('an at() schedule a few seconds ahead targeting an SQS queue delivers one message with its Input', async () => {
    const fireAt = Math.ceil((Date.now() + 4_000) / 1000) * 1000;
    const made = await create('CreateSchedule', {
      Name: 'to-queue',
      ScheduleExpression: atText(fireAt),
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: `arn:aws:sqs:${REGION}:${account}:jobs`, RoleArn: role('scheduler-targets'), Input: 'slot <aws.scheduler.scheduled-time>' },
    });
    expect(made, JSON.stringify(made)).toMatchObject({ status: 200 });
    // Long polls from now until well past the fire time: exactly one message, the Input with its slot.
    const messages = await drain('jobs', fireAt + 8_000 - Date.now());
    expect(messages.map((m) => m.Body)).toEqual([`slot ${slotText(fireAt)}`]);
    const gone = await create('GetSchedule', { Name: 'to-queue' });
    expect(gone.status).toBe(404);
  }, 60_000);

  it('a universal ecs:runTask target runs a task from its Input', async () => {
    const fireAt = Math.ceil((Date.now() + 4_000) / 1000) * 1000;
    const input = {
      Cluster: 'default',
      TaskDefinition: 'stamp:1',
      LaunchType: 'EC2',
      StartedBy: 'universal-run',
      Overrides: { ContainerOverrides: [{ Name: 'probe', Environment: [{ Name: 'AT', Value: '<aws.scheduler.scheduled-time>' }] }] },
    };
    const made = await create('CreateSchedule', {
      Name: 'universal-run',
      ScheduleExpression: atText(fireAt),
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: 'arn:aws:scheduler:::aws-sdk:ecs:runTask', RoleArn: role('scheduler-targets'), Input: JSON.stringify(input) },
    });
    expect(made, JSON.stringify(made)).toMatchObject({ status: 200 });
    const tasks = async () => {
      const lists = await Promise.all((['RUNNING', 'STOPPED'] as const).map((desiredStatus) => ecs.send(new ListTasksCommand({ startedBy: 'universal-run', desiredStatus }))));
      return lists.flatMap((l) => l.taskArns ?? []);
    };
    await expect.poll(tasks, { timeout: 60_000, interval: 500 }).toHaveLength(1);
    const [taskArn] = await tasks();
    await waitForTask(ecs, taskArn!, (t) => t.lastStatus === 'STOPPED', 60_000, () => agent.stderr().slice(-3000));
    const out = await containerOutput(logs, { group: '/berth/default', stream: `stamp/probe/${taskArn!.split('/').at(-1)}` }, 'DONE', 30_000);
    expect(out.AT).toBe(slotText(fireAt));
    // Fired once: the leader's passes (every 500 ms) have had seconds to fire it again.
    await sleep(3_000);
    expect(await tasks()).toEqual([taskArn]);
  }, 120_000);

  it('a target whose role may not sqs:SendMessage goes to its dead-letter queue once its retries are exhausted', async () => {
    const fireAt = Math.ceil((Date.now() + 3_000) / 1000) * 1000;
    const made = await create('CreateSchedule', {
      Name: 'refused-send',
      ScheduleExpression: atText(fireAt),
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage',
        RoleArn: role('scheduler-nothing'),
        Input: JSON.stringify({ QueueUrl: queueUrl('locked'), MessageBody: 'never' }),
        RetryPolicy: { MaximumRetryAttempts: 1 },
        DeadLetterConfig: { Arn: `arn:aws:sqs:${REGION}:${account}:schedule-dlq` },
      },
    });
    expect(made, JSON.stringify(made)).toMatchObject({ status: 200 });
    const dead = await drain('schedule-dlq', fireAt + 10_000 - Date.now());
    expect(dead).toHaveLength(1);
    const attribute = (name: string) => dead[0]!.MessageAttributes?.[name]?.StringValue;
    expect(attribute('TARGET_ARN')).toBe('arn:aws:scheduler:::aws-sdk:sqs:sendMessage');
    expect(attribute('ERROR_CODE')).toMatch(/^AccessDenied/);
    expect(attribute('EXHAUSTED_RETRY_CONDITION')).toBe('MaximumRetryAttempts');
    expect(attribute('SCHEDULE_ARN')).toBe(`arn:aws:scheduler:${REGION}:${account}:schedule/default/refused-send`);
    expect(JSON.parse(dead[0]!.Body!)).toEqual({ QueueUrl: queueUrl('locked'), MessageBody: 'never' });
    expect(await drain('locked', 1_000)).toEqual([]);
  }, 60_000);
});
