import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  GetLogEventsCommand,
  type PutLogEventsCommandInput,
} from '@aws-sdk/client-cloudwatch-logs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logLimits, maxMessageBytes } from '../model/log-limits.js';
import { startApiFixture, TEST_KEYS, TEST_REGION, type ApiFixture } from '../testing/api-server.js';
import { instanceRoleUser } from '../testing/instance-role-user.js';
import { AwsJsonClient } from './aws-json/client.js';
import { LOGS, type LogsApi } from './aws-json/services.js';
import { LogShipper } from './log-shipper.js';
import type { LogSource } from './task-engine/deps.js';

/** An IAM user with AmazonEC2ContainerServiceforEC2Role only, as an agent under the instance role signs. */
const instance = instanceRoleUser();

let api: ApiFixture;
let dir: string;
beforeAll(async () => {
  api = await startApiFixture(instance.overrides);
  dir = mkdtempSync(join(tmpdir(), 'berth-shipper-'));
});
afterAll(async () => {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
const TASK = (id: string) => `arn:aws:ecs:us-east-1:123456789012:task/prod/${id}`;

/** A container log file and its LogSource. */
function container(overrides: Partial<LogSource> = {}): LogSource & { write(text: string): void } {
  const n = ++seq;
  const logPath = join(dir, `c${n}.log`);
  return {
    runtimeId: `rt${n}`,
    logPath,
    taskArn: TASK(`task${n}`),
    family: 'web',
    containerName: 'app',
    cluster: 'prod',
    ...overrides,
    write: (text: string) => appendFileSync(logPath, text),
  };
}

const stamp = () => new Date().toISOString();
const cri = (stream: 'stdout' | 'stderr', tag: 'F' | 'P', text: string) => `${stamp()} ${stream} ${tag} ${text}\n`;
const lines = (texts: string[], stream: 'stdout' | 'stderr' = 'stdout') => texts.map((t) => cri(stream, 'F', t)).join('');

interface Sent {
  readonly calls: PutLogEventsCommandInput[];
}

/** A CloudWatch Logs client of the agent's for the fixture's API, one attempt a call. */
const logsClient = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
  new AwsJsonClient(LOGS, { endpoints: single(api.server.url), region: TEST_REGION, credentials, maxAttempts: 1, timeouts: { connectionTimeout: 3_000, requestTimeout: 10_000 } });

/** One endpoint, never moved from. */
const single = (url: string) => ({ current: () => url, failed: () => {}, succeeded: () => {} });

/** A shipper with a fast flush, and a record of every PutLogEvents it sent. */
function shipper(
  options: { stateDir?: string; failFirst?: number; keys?: { accessKeyId: string; secretAccessKey: string }; log?: pino.Logger } = {},
): LogShipper & Sent {
  const real = logsClient(options.keys ?? TEST_KEYS);
  const calls: PutLogEventsCommandInput[] = [];
  let failures = options.failFirst ?? 0;
  const client: LogsApi = {
    send: (async (action: string, input: unknown) => {
      if (action === 'PutLogEvents') {
        if (failures > 0) {
          failures--;
          throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error', code: 'ECONNREFUSED' });
        }
        calls.push(input as PutLogEventsCommandInput);
      }
      return real.send(action as 'PutLogEvents', input as PutLogEventsCommandInput);
    }) as LogsApi['send'],
  };
  const s = new LogShipper({
    client,
    stateDir: options.stateDir ?? mkdtempSync(join(dir, 'state-')),
    log: options.log ?? pino({ level: process.env.BERTH_TEST_LOG ?? 'silent' }),
    flushMs: 50,
    finishTimeoutMs: 5_000,
  });
  const stop = s.stop.bind(s);
  return Object.assign(s, {
    calls,
    stop: async () => {
      await stop();
      real.destroy();
    },
  });
}

async function read(group: string, stream: string): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  for (;;) {
    const page = await api.logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: true, nextToken }));
    out.push(...page.events!.map((e) => e.message!));
    if (page.nextForwardToken === nextToken) return out;
    nextToken = page.nextForwardToken;
  }
}

/** Wait until the stream holds `count` events (or fail after the deadline). */
const waitForEvents = (group: string, stream: string, count: number, timeout = 10_000) =>
  vi.waitFor(
    async () => {
      const got = await read(group, stream).catch(() => []);
      if (got.length < count) throw new Error(`${got.length} of ${count} events so far`);
      return got;
    },
    { timeout, interval: 50 },
  );

describe('LogShipper', () => {
  it('ships both streams to the default group, joining partial lines', async () => {
    const s = shipper();
    const c = container();
    c.write(lines(['first line']) + cri('stdout', 'P', 'a partial ') + cri('stderr', 'F', 'an error') + cri('stdout', 'F', 'line, joined'));
    s.follow(c);
    const got = await waitForEvents('/berth/prod', `web/app/task${seq}`, 3);
    expect(got).toEqual(['first line', 'an error', 'a partial line, joined']);
    c.write(lines(['more'], 'stderr'));
    expect(await waitForEvents('/berth/prod', `web/app/task${seq}`, 4)).toEqual([...got, 'more']);
    await s.stop();
  });

  it('uses awslogs names: group from the options (created when missing), stream from the prefix or the runtime id', async () => {
    const s = shipper();
    const withPrefix = container({ logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/web', 'awslogs-stream-prefix': 'ecs', 'awslogs-region': 'us-east-1' } } });
    const noPrefix = container({ logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/web' } } });
    const none = container({ logConfiguration: { logDriver: 'none' } });
    for (const c of [withPrefix, noPrefix, none]) {
      c.write(lines([`from ${c.runtimeId}`]));
      s.follow(c);
    }
    expect(await waitForEvents('/ecs/web', `ecs/app/task${seq - 2}`, 1)).toEqual([`from ${withPrefix.runtimeId}`]);
    expect(await waitForEvents('/ecs/web', noPrefix.runtimeId, 1)).toEqual([`from ${noPrefix.runtimeId}`]);
    expect(s.following()).not.toContain(none.runtimeId);
    await s.stop();
  });

  it('packs batches within PutLogEvents limits and splits long lines as awslogs does', async () => {
    const s = shipper();
    const c = container();
    const many = Array.from({ length: 12_000 }, (_, i) => `line ${i}`);
    const long = '€'.repeat(100_000); // 300,000 bytes: two events
    c.write(lines(many) + lines([long]));
    s.follow(c);
    const got = await waitForEvents('/berth/prod', `web/app/task${seq}`, 12_002, 20_000);
    expect(got.slice(0, 12_000)).toEqual(many);
    expect(got.slice(12_000).join('')).toBe(long);
    expect(got.slice(12_000).map((m) => Buffer.byteLength(m))).toEqual([Math.floor(maxMessageBytes / 3) * 3, 300_000 - Math.floor(maxMessageBytes / 3) * 3]);
    for (const call of s.calls) {
      const bytes = call.logEvents!.reduce((sum, e) => sum + Buffer.byteLength(e.message!) + logLimits.eventOverheadBytes, 0);
      expect(call.logEvents!.length).toBeLessThanOrEqual(logLimits.maxBatchEvents);
      expect(bytes).toBeLessThanOrEqual(logLimits.maxBatchBytes);
      const times = call.logEvents!.map((e) => e.timestamp!);
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
    expect(s.calls.length).toBeGreaterThanOrEqual(2);
    await s.stop();
  });

  it('carries on after a restart from the saved offset: nothing lost, nothing twice', async () => {
    const stateDir = mkdtempSync(join(dir, 'state-'));
    const c = container();
    const stream = `web/app/task${seq}`;
    const first = shipper({ stateDir });
    c.write(lines(['one', 'two']) + cri('stdout', 'P', 'split across '));
    first.follow(c);
    await waitForEvents('/berth/prod', stream, 2);
    await first.stop();
    // While no agent runs, the container writes on, finishing the partial line.
    c.write(cri('stdout', 'F', 'the restart') + lines(['three']));
    const second = shipper({ stateDir });
    await second.resume();
    expect(second.following()).toEqual([c.runtimeId]);
    expect(await waitForEvents('/berth/prod', stream, 4)).toEqual(['one', 'two', 'split across the restart', 'three']);
    // A follow() from the task engine for the same container changes nothing.
    second.follow(c);
    c.write(lines(['four']));
    expect(await waitForEvents('/berth/prod', stream, 5)).toEqual(['one', 'two', 'split across the restart', 'three', 'four']);
    await second.stop();
  });

  it('a shutdown while finish() retries leaves the rest to the next agent: nothing lost', async () => {
    const stateDir = mkdtempSync(join(dir, 'state-'));
    // The control plane is down for longer than this test: every send fails.
    const down = shipper({ stateDir, failFirst: Number.MAX_SAFE_INTEGER });
    const c = container();
    down.follow(c);
    c.write(lines(['said while the control plane was away']));
    const finishing = down.finish(c.runtimeId);
    await vi.waitFor(() => expect(readdirSync(stateDir)).toHaveLength(1), { timeout: 2_000, interval: 20 });
    await down.stop();
    // finish() ends with the shutdown, well before its 5-s retry window, and keeps the shipping state.
    await finishing;
    expect(readdirSync(stateDir)).toHaveLength(1);
    const next = shipper({ stateDir });
    await next.resume();
    await next.finish(c.runtimeId);
    expect(await read('/berth/prod', `web/app/task${seq}`)).toEqual(['said while the control plane was away']);
    expect(readdirSync(stateDir)).toEqual([]);
    await next.stop();
  });

  it('finish() ships the rest, even an unterminated line, then forgets the container', async () => {
    const stateDir = mkdtempSync(join(dir, 'state-'));
    const s = shipper({ stateDir });
    const c = container();
    s.follow(c);
    c.write(lines(['last words']) + cri('stderr', 'P', 'cut off') + `${stamp()} stdout F no newline`);
    await s.finish(c.runtimeId);
    expect(await read('/berth/prod', `web/app/task${seq}`)).toEqual(['last words', 'no newline', 'cut off']);
    expect(s.following()).toEqual([]);
    expect(readdirSync(stateDir)).toEqual([]);
    // A container finished before it ever wrote leaves nothing behind either.
    const silent = container();
    s.follow(silent);
    await s.finish(silent.runtimeId);
    expect(existsSync(silent.logPath)).toBe(false);
    expect(readdirSync(stateDir)).toEqual([]);
    await s.stop();
  });

  it('finish() after a restart ships from the saved state without a follow()', async () => {
    const stateDir = mkdtempSync(join(dir, 'state-'));
    const c = container();
    const first = shipper({ stateDir });
    c.write(lines(['before']));
    first.follow(c);
    await waitForEvents('/berth/prod', `web/app/task${seq}`, 1);
    await first.stop();
    c.write(lines(['after']));
    const second = shipper({ stateDir });
    await second.finish(c.runtimeId);
    expect(await read('/berth/prod', `web/app/task${seq}`)).toEqual(['before', 'after']);
    await second.stop();
  });

  it('keeps lines while the control plane is unreachable and delivers them once, later', async () => {
    const s = shipper({ failFirst: 3 });
    const c = container();
    c.write(lines(['survives', 'the outage']));
    s.follow(c);
    expect(await waitForEvents('/berth/prod', `web/app/task${seq}`, 2)).toEqual(['survives', 'the outage']);
    await s.finish(c.runtimeId);
    expect(await read('/berth/prod', `web/app/task${seq}`)).toEqual(['survives', 'the outage']);
    await s.stop();
  });

  it('reports an unusable awslogs group without stopping other containers', async () => {
    const s = shipper();
    const bad = container({ logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'not a valid name!' } } });
    const good = container();
    bad.write(lines(['lost']));
    good.write(lines(['fine']));
    s.follow(bad);
    s.follow(good);
    expect(await waitForEvents('/berth/prod', `web/app/task${seq}`, 1)).toEqual(['fine']);
    await s.finish(bad.runtimeId);
    const groups = await api.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'not' }));
    expect(groups.logGroups).toEqual([]);
    await s.stop();
  });

  it('under the instance role, a missing group it may not create is reported once, plainly; the lines wait and ship once the group exists', async () => {
    const said: { level: number; msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void said.push(JSON.parse(line) as { level: number; msg: string }) });
    const s = shipper({ keys: instance.keys, log });
    const c = container({ logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/made-later', 'awslogs-stream-prefix': 'ecs' } } });
    c.write(lines(['kept until the group exists']));
    s.follow(c);
    const refusal = /^AccessDeniedException: the log group \/ecs\/made-later does not exist and the agent's credentials may not create it \(logs:CreateLogGroup\)/;
    await vi.waitFor(() => expect(said.some((l) => l.level === 50 && refusal.test(l.msg))).toBe(true), { timeout: 5_000 });
    // The operator creates the group (as ECS has them do): CreateLogStream and PutLogEvents are the role's.
    await api.logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/made-later' }));
    expect(await waitForEvents('/ecs/made-later', `ecs/app/task${seq}`, 1)).toEqual(['kept until the group exists']);
    expect(said.filter((l) => refusal.test(l.msg))).toHaveLength(1);
    await s.stop();
  });

  it('waits for a log file that does not exist yet', async () => {
    const stateDir = mkdtempSync(join(dir, 'state-'));
    const s = shipper({ stateDir });
    const c = container();
    s.follow(c);
    // The state file is written before the first look at the log: from then on the file is missing.
    await vi.waitFor(() => expect(readdirSync(stateDir)).toHaveLength(1));
    writeFileSync(c.logPath, lines(['late start']));
    expect(await waitForEvents('/berth/prod', `web/app/task${seq}`, 1)).toEqual(['late start']);
    await s.stop();
  });
});

describe('LogShipper with a task execution role', () => {
  it("ships a task's streams with the client clientFor gives; a refusal is logged and retried until renewed credentials are allowed", async () => {
    let refusals = 0;
    const refusing: LogsApi = {
      send: (async () => {
        refusals++;
        throw Object.assign(new Error('User: arn:aws:sts::123456789012:assumed-role/exec/t is not authorized to perform: logs:CreateLogStream'), { name: 'AccessDeniedException' });
      }) as LogsApi['send'],
    };
    const allowed = logsClient(TEST_KEYS);
    const real = logsClient(TEST_KEYS);
    let agentCalls = 0;
    const agent: LogsApi = { send: ((action: 'PutLogEvents', input: PutLogEventsCommandInput) => (agentCalls++, real.send(action, input))) as LogsApi['send'] };
    const warnings: string[] = [];
    const awslogs = { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/exec', 'awslogs-stream-prefix': 'ecs' } };
    const withRole = container({ logConfiguration: awslogs });
    const withoutRole = container({ logConfiguration: awslogs });
    // berth's default group (no awslogs configuration) is the agent's own doing, even for a task with a role.
    const defaultGroup = container({ taskArn: withRole.taskArn });
    let roleClient = refusing;
    const s = new LogShipper({
      client: agent,
      clientFor: async (arn) => (arn === withRole.taskArn ? roleClient : undefined),
      stateDir: mkdtempSync(join(dir, 'state-')),
      log: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) }),
      flushMs: 50,
      finishTimeoutMs: 5_000,
    });
    withRole.write(lines(['as the role']));
    s.follow(withRole);
    await vi.waitFor(() => expect(refusals).toBeGreaterThanOrEqual(2), { timeout: 5_000, interval: 20 });
    expect(warnings.some((w) => w.includes('shipping container logs failed; retrying') && w.includes('AccessDeniedException'))).toBe(true);
    expect(agentCalls).toBe(0);
    roleClient = allowed; // the control plane renewed the credentials (or the policy was fixed)
    expect(await waitForEvents('/ecs/exec', `ecs/app/${withRole.taskArn.split('/').pop()}`, 1)).toEqual(['as the role']);
    expect(agentCalls).toBe(0);
    withoutRole.write(lines(['as the agent']));
    s.follow(withoutRole);
    await waitForEvents('/ecs/exec', `ecs/app/${withoutRole.taskArn.split('/').pop()}`, 1);
    const afterWithout = agentCalls;
    expect(afterWithout).toBeGreaterThan(0);
    roleClient = refusing;
    defaultGroup.write(lines(['default group']));
    s.follow(defaultGroup);
    expect(await waitForEvents('/berth/prod', `web/app/${withRole.taskArn.split('/').pop()}`, 1)).toEqual(['default group']);
    expect(agentCalls).toBeGreaterThan(afterWithout);
    await s.stop();
    for (const c of [allowed, real]) c.destroy();
  });
});
