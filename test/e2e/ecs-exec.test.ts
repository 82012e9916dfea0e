/**
 * ECS Exec end to end: the built `berth server` and agent running a real runc container; ExecuteCommand through the
 * AWS SDK and `berth exec` (the built CLI) through a pipe and on a pseudo-terminal made by util-linux `script`,
 * including a resize of that terminal (`stty size` inside the container shows it) and the exit code; two sessions at
 * once; an IAM user without ecs:ExecuteCommand refused; a session closed when its task stops; the audit records in the
 * cluster's OVERRIDE log group.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ECSClient, ExecuteCommandCommand, StopTaskCommand, UpdateClusterCommand } from '@aws-sdk/client-ecs';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/berth-server.js';
import { startTestCluster, type TestCluster } from './support/cluster.js';
import { peopleEnv } from './support/people-cli.js';

const isRoot = process.getuid?.() === 0;
const CLI = join(REPO_ROOT, 'dist/cli/main.js');
const AUDIT_GROUP = 'ecs-exec-audit';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: { name?: string; message?: string }) => e);

/** Wait for a condition with a deadline (no fixed sleeps as proof). */
async function until<T>(what: string | (() => string), check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`${typeof what === 'string' ? what : what()}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.runIf(isRoot)('ECS Exec', () => {
  let cluster: TestCluster;
  let env: NodeJS.ProcessEnv;
  let taskArn = '';
  let plainTaskArn = '';
  let logs: CloudWatchLogsClient;

  /** `berth exec` through pipes, with `input` on its stdin. */
  const berth = (args: string[], input = '') =>
    new Promise<Run>((resolve) => {
      const child = execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin!.end(input);
    });

  beforeAll(async () => {
    cluster = await startTestCluster();
    await cluster.startAgent();
    env = peopleEnv(cluster.server);
    const config = { endpoint: cluster.server.url, region: 'us-east-1', credentials: { ...cluster.server.keys } };
    logs = new CloudWatchLogsClient(config);
    await logs.send(new CreateLogGroupCommand({ logGroupName: AUDIT_GROUP }));
    taskArn = await cluster.runOneOff([{ name: 'app', command: ['sleep', '3600'] }], { family: 'exec' }, { enableExecuteCommand: true });
    plainTaskArn = await cluster.runOneOff([{ name: 'app', command: ['sleep', '3600'] }], { family: 'plain' });
    await cluster.ecs.send(
      new UpdateClusterCommand({
        cluster: 'default',
        configuration: { executeCommandConfiguration: { logging: 'OVERRIDE', logConfiguration: { cloudWatchLogGroupName: AUDIT_GROUP } } },
      }),
    );
    await cluster.waitForTask(taskArn, (t) => t.lastStatus === 'RUNNING');
    await cluster.waitForTask(plainTaskArn, (t) => t.lastStatus === 'RUNNING');
  }, 120_000);

  afterAll(async () => {
    logs?.destroy();
    await cluster?.stop();
  }, 120_000);

  it('records enableExecuteCommand on the task and refuses a task run without it, or a non-interactive call', async () => {
    const { tasks } = await cluster.ecs.send(new DescribeTasksCommand({ tasks: [taskArn, plainTaskArn] }));
    expect(tasks?.find((t) => t.taskArn === taskArn)?.enableExecuteCommand).toBe(true);
    expect(tasks?.find((t) => t.taskArn === plainTaskArn)?.enableExecuteCommand).toBe(false);
    expect(await failure(cluster.ecs.send(new ExecuteCommandCommand({ task: plainTaskArn, command: 'sh', interactive: true })))).toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringMatching(/^The execute command failed because execute command was not enabled/),
    });
    expect(await failure(cluster.ecs.send(new ExecuteCommandCommand({ task: taskArn, command: 'sh', interactive: false })))).toMatchObject({
      name: 'InvalidParameterException',
      message: 'Interactive is the only mode supported currently.',
    });
    const cli = await berth(['exec', plainTaskArn, '--', 'true']);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/execute command was not enabled/);
  });

  it('ExecuteCommand answers ECS\'s shape; a token opens its stream once', async () => {
    const answer = await cluster.ecs.send(new ExecuteCommandCommand({ task: taskArn, command: 'echo once', interactive: true }));
    expect(answer).toMatchObject({ taskArn, containerName: 'app', interactive: true, clusterArn: expect.stringMatching(/:cluster\/default$/) });
    expect(answer.containerArn).toMatch(/:container\/default\//);
    expect(answer.session?.sessionId).toMatch(/^ecs-execute-command-/);
    expect(answer.session?.streamUrl).toBe(`${cluster.server.url.replace(/^http/, 'ws')}/ecs-exec/${answer.session!.sessionId}`);
    const open = (token: string) =>
      new Promise<{ output: string; control: unknown[] }>((resolve, reject) => {
        const ws = new WebSocket(answer.session!.streamUrl!);
        let output = '';
        const control: unknown[] = [];
        ws.on('open', () => ws.send(JSON.stringify({ type: 'open', token, tty: false })));
        ws.on('message', (d: Buffer, binary) => (binary ? (output += d.subarray(1).toString()) : control.push(JSON.parse(d.toString()))));
        ws.on('close', () => resolve({ output, control }));
        ws.on('error', reject);
      });
    expect(await open(answer.session!.tokenValue!)).toEqual({ output: 'once\n', control: [{ type: 'exit', exitCode: 0 }] });
    const again = await open(answer.session!.tokenValue!);
    expect(again.control).toEqual([{ type: 'error', message: expect.stringMatching(/unknown session or wrong token/) }]);
  }, 30_000);

  it('berth exec through a pipe: stdout and stderr apart, stdin forwarded, the exit code as its status', async () => {
    const run = await berth(['exec', taskArn, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(run).toMatchObject({ code: 3, stdout: 'out\n' });
    expect(run.stderr).toContain('err\n');
    const cat = await berth(['exec', taskArn, '--container', 'app', '--', 'sh', '-c', 'tr a-z A-Z'], 'hello from stdin\n');
    expect(cat).toMatchObject({ code: 0, stdout: 'HELLO FROM STDIN\n' });
  }, 60_000);

  it('berth exec on a terminal: a shell, a resize seen by stty size, and the exit code', async () => {
    const command = ['stty rows 30 cols 100;', 'exec', ...[process.execPath, CLI, 'exec', taskArn, '--', 'sh'].map((a) => `'${a}'`)].join(' ');
    const script: ChildProcess = spawn('script', ['-qec', command, '/dev/null'], { env: { ...env, TERM: 'xterm' }, stdio: 'pipe' });
    let screen = '';
    script.stdout!.on('data', (d: Buffer) => (screen += d.toString()));
    const exited = new Promise<number | null>((resolve) => script.on('close', (code) => resolve(code)));
    try {
      await until(() => `the shell prompt (screen: ${JSON.stringify(screen)})`, () => /# (\x1b\[6n)?$/.test(screen)); // busybox ash asks where the cursor is after its prompt
      script.stdin!.write('stty size\n');
      await until(() => `the first size (screen: ${JSON.stringify(screen)})`, () => screen.includes('30 100'));
      // berth exec's terminal is script's: resized with stty -F, as a terminal window would be, then SIGWINCH.
      const berthPid = await until('berth exec under script', () => {
        const children = readFileSync(`/proc/${script.pid}/task/${script.pid}/children`, 'utf8').trim();
        return children ? Number(children.split(' ')[0]) : undefined;
      });
      const pts = readlinkSync(`/proc/${berthPid}/fd/0`);
      await new Promise<void>((resolve, reject) => execFile('stty', ['-F', pts, 'rows', '41', 'cols', '123'], (e) => (e ? reject(e) : resolve())));
      await until('the new size', async () => {
        script.stdin!.write('stty size\n');
        await new Promise((r) => setTimeout(r, 200));
        return screen.includes('41 123') || undefined;
      });
      script.stdin!.write('exit 5\n');
      expect(await exited).toBe(5);
    } finally {
      script.kill('SIGKILL');
    }
  }, 60_000);

  it('runs two sessions at once', async () => {
    // Each waits for the other's mark: they finish only if both run at the same time.
    const a = berth(['exec', taskArn, '--', 'sh', '-c', 'touch /tmp/a; i=0; while [ ! -e /tmp/b ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; [ -e /tmp/b ] && echo A saw B']);
    const b = berth(['exec', taskArn, '--', 'sh', '-c', 'touch /tmp/b; i=0; while [ ! -e /tmp/a ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; [ -e /tmp/a ] && echo B saw A']);
    expect(await a).toMatchObject({ code: 0, stdout: 'A saw B\n' });
    expect(await b).toMatchObject({ code: 0, stdout: 'B saw A\n' });
  }, 60_000);

  it('refuses a user without ecs:ExecuteCommand', async () => {
    const iam = new IAMClient({ endpoint: cluster.server.url, region: 'us-east-1', credentials: { ...cluster.server.keys } });
    await iam.send(new CreateUserCommand({ UserName: 'viewer' }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'viewer',
        PolicyName: 'read',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ecs:Describe*', 'ecs:List*'], Resource: '*' }] }),
      }),
    );
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'viewer' }));
    iam.destroy();
    const viewer = new ECSClient({ endpoint: cluster.server.url, region: 'us-east-1', credentials: { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! } });
    try {
      // The new key reaches the server's cache within moments: DescribeTasks works first.
      await until('the viewer key', () => viewer.send(new DescribeTasksCommand({ tasks: [taskArn] })).then(() => true, () => undefined), 10_000);
      const refused = await failure(viewer.send(new ExecuteCommandCommand({ task: taskArn, command: 'sh', interactive: true })));
      expect(refused).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('not authorized to perform: ecs:ExecuteCommand') });
    } finally {
      viewer.destroy();
    }
  }, 30_000);

  it('writes who ran what, the output and the exit code to the cluster\'s log group', async () => {
    const marker = `audit-${Date.now()}`;
    expect(await berth(['exec', taskArn, '--', 'sh', '-c', `echo ${marker}; exit 4`])).toMatchObject({ code: 4, stdout: `${marker}\n` });
    const messages = await until('the audit stream with the end record', async () => {
      const { logStreams = [] } = await logs.send(new DescribeLogStreamsCommand({ logGroupName: AUDIT_GROUP }));
      for (const s of logStreams) {
        const { events = [] } = await logs.send(new GetLogEventsCommand({ logGroupName: AUDIT_GROUP, logStreamName: s.logStreamName!, startFromHead: true }));
        const text = events.map((e) => e.message!);
        if (text.some((m) => m.includes(marker)) && text.some((m) => m.includes('"event":"end"'))) return text;
      }
      return undefined;
    });
    const start = JSON.parse(messages.find((m) => m.includes('"event":"start"'))!) as Record<string, unknown>;
    expect(start).toMatchObject({ principalArn: expect.stringMatching(/^arn:aws:iam::\d+:root$/), taskArn, containerName: 'app', command: expect.stringContaining(marker), tty: false });
    expect(messages).toContain(marker);
    expect(JSON.parse(messages.find((m) => m.includes('"event":"end"'))!)).toMatchObject({ exitCode: 4 });
  }, 30_000);

  it('ends the session when the task stops', async () => {
    const child = spawn(process.execPath, [CLI, 'exec', taskArn, '--', 'sh', '-c', 'echo started; sleep 300'], { env, stdio: 'pipe' });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await until('the session running', () => out.includes('started'));
      await cluster.ecs.send(new StopTaskCommand({ task: taskArn, reason: 'exec test' }));
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000))]);
      expect(code).not.toBe('timeout');
      expect(code).not.toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
