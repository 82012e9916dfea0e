import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeContainerInstancesCommand, DescribeTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAgent, type RunningAgent } from '../agent/agent.js';
import { compileAgentConfig } from '../agent/config.js';
import { fakeWorld, type FakeWorld } from '../agent/testing/fakes.js';
import { startApiFixture, TEST_KEYS, type ApiFixture } from '../testing/api-server.js';
import { LogsCommandError, parseSince, printTaskLogs, type LogsOptions } from './logs-command.js';

// The whole path, in process: RunTask → an agent (fake runtime) → the container writes its CRI log →
// the agent's shipper → the Logs API → `berth logs` reading it back through the ECS and Logs APIs.
let api: ApiFixture;
let agent: RunningAgent;
let world: FakeWorld;
let dataDir: string;

beforeAll(async () => {
  api = await startApiFixture({ heartbeatMs: 200, agentSilenceMs: 2_000 });
  await api.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'logged',
      containerDefinitions: [
        {
          name: 'web',
          image: 'busybox',
          memory: 64,
          logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/logged', 'awslogs-stream-prefix': 'ecs', 'awslogs-region': 'us-east-1' } },
        },
        // Any driver but awslogs ships to berth's default group.
        { name: 'side', image: 'busybox', memory: 64, essential: false, logConfiguration: { logDriver: 'json-file' } },
      ],
    }),
  );
  dataDir = mkdtempSync(join(tmpdir(), 'berth-logs-cli-'));
  world = fakeWorld();
  world.images.add('busybox');
  const config = compileAgentConfig({
    flags: { endpoint: api.server.url, dataDir, memoryMib: '1024', cpuUnits: '2048' },
    env: { ECS_CONTAINER_STOP_TIMEOUT: '2s' },
    readFile: () => undefined,
  });
  agent = await startAgent({
    config,
    parts: world.deps,
    log: pino({ level: 'silent' }),
    credentials: TEST_KEYS,
    session: { silenceMs: 2_000, pingMs: 200, backoff: { minMs: 50, maxMs: 200 } },
  });
  await vi.waitFor(
    async () => {
      const { containerInstances } = await api.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: [agent.containerInstanceArn] }));
      expect(containerInstances![0]!.agentConnected).toBe(true);
    },
    { timeout: 10_000, interval: 50 },
  );
});
afterAll(async () => {
  await agent?.stop();
  await api?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const describeTask = async (arn: string) => (await api.ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks![0]!;

/** Run the task, and return a writer for each container's log file. */
async function runLogged() {
  const { tasks } = await api.ecs.send(new RunTaskCommand({ taskDefinition: 'logged' }));
  const arn = tasks![0]!.taskArn!;
  await vi.waitFor(async () => expect((await describeTask(arn)).lastStatus).toBe('RUNNING'), { timeout: 10_000, interval: 50 });
  const logOf = (name: string) =>
    [...world.runtime.containers.values()].find(
      (c) => c.spec.labels['com.amazonaws.ecs.task-arn'] === arn && c.spec.labels['com.amazonaws.ecs.container-name'] === name,
    )!.spec.logPath;
  let clock = Date.now() - 10_000;
  const write = (name: string, ...texts: string[]) =>
    appendFileSync(logOf(name), texts.map((t) => `${new Date(clock++).toISOString()} stdout F ${t}\n`).join(''));
  return { arn, id: arn.split('/').at(-1)!, write };
}

function collect() {
  const lines: string[] = [];
  const notes: string[] = [];
  return { lines, notes, out: { line: (t: string) => lines.push(t), note: (t: string) => notes.push(t) } };
}
const streamNames = async (logGroupName: string) =>
  (await api.logs.send(new DescribeLogStreamsCommand({ logGroupName }))).logStreams!.map((s) => s.logStreamName);
const clients = () => ({ ecs: api.ecs, logs: api.logs });
const options = (task: string, more: Partial<LogsOptions> = {}): LogsOptions => ({ cluster: 'default', task, follow: false, ...more });

describe('berth logs', () => {
  it("prints a task's containers interleaved by time, named, from the agent's awslogs and default streams", async () => {
    const { arn, id, write } = await runLogged();
    write('web', 'web 1');
    write('side', 'side 2');
    write('web', 'web 3');
    const c = collect();
    await vi.waitFor(
      async () => {
        c.lines.length = 0;
        await printTaskLogs(options(id), clients(), c.out);
        expect(c.lines).toEqual(['web | web 1', 'side | side 2', 'web | web 3']);
      },
      { timeout: 10_000, interval: 200 },
    );
    expect(c.notes).toEqual([]);

    // One container, by ARN: no prefix. The agent used the awslogs names.
    const one = collect();
    await printTaskLogs(options(arn, { container: 'web' }), clients(), one.out);
    expect(one.lines).toEqual(['web 1', 'web 3']);
    expect(await streamNames('/ecs/logged')).toContain(`ecs/web/${id}`);
    expect(await streamNames('/berth/default')).toContain(`logged/side/${id}`);

    // --since: the lines were stamped about ten seconds ago.
    const recent = collect();
    await printTaskLogs(options(id, { sinceMs: 3_000 }), clients(), recent.out);
    expect(recent.lines).toEqual([]);
    const lastMinute = collect();
    await printTaskLogs(options(id, { sinceMs: 60_000 }), clients(), lastMinute.out);
    expect(lastMinute.lines).toHaveLength(3);
    await api.ecs.send(new StopTaskCommand({ task: arn }));
  });

  it('follows until the task has stopped and its last lines are in', async () => {
    const { arn, id, write } = await runLogged();
    write('web', 'before');
    const c = collect();
    const following = printTaskLogs(options(id, { follow: true, pollMs: 100, settleMs: 2_000 }), clients(), c.out);
    await vi.waitFor(() => expect(c.lines).toEqual(['web | before']), { timeout: 10_000 });
    write('side', 'while following');
    await vi.waitFor(() => expect(c.lines).toEqual(['web | before', 'side | while following']), { timeout: 10_000 });
    // Written just before the stop: shipped after the task is STOPPED, and still printed.
    write('web', 'last words');
    await api.ecs.send(new StopTaskCommand({ task: arn }));
    await following;
    expect(c.lines).toEqual(['web | before', 'side | while following', 'web | last words']);
    expect((await describeTask(arn)).lastStatus).toBe('STOPPED');
  });

  it('stops following when aborted', async () => {
    const { arn, id } = await runLogged();
    const stop = new AbortController();
    const c = collect();
    const following = printTaskLogs(options(id, { follow: true, pollMs: 50 }), clients(), c.out, stop.signal);
    stop.abort();
    await following;
    await api.ecs.send(new StopTaskCommand({ task: arn }));
  });

  it('explains a missing task, container or cluster', async () => {
    const { arn, id } = await runLogged();
    const refusals = [
      [options('0123456789abcdef0123456789abcdef'), /task '0123456789abcdef0123456789abcdef' not found in cluster 'default'/],
      [options(id, { container: 'nope' }), /has no container named 'nope' \(it has: web, side\)/],
      [options(id, { cluster: 'elsewhere' }), /cluster 'elsewhere' not found/],
    ] as const;
    for (const [o, message] of refusals) {
      const error = await printTaskLogs(o, clients(), collect().out).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LogsCommandError);
      expect((error as Error).message).toMatch(message);
    }
    await api.ecs.send(new StopTaskCommand({ task: arn }));
  });

  it('parses --since durations', () => {
    expect(parseSince('90s')).toBe(90_000);
    expect(parseSince('1h30m')).toBe(5_400_000);
    expect(parseSince('2d')).toBe(172_800_000);
    for (const bad of ['', '10', 'ten minutes', '5w']) expect(() => parseSince(bad)).toThrow(LogsCommandError);
  });
});
