/**
 * ECS Exec across control-plane replicas (docs/exec.md "Several replicas"): the HA lab's three `berth server --store
 * etcd` replicas, each on a simulated host of its own, and real agents with real runc containers. ExecuteCommand is
 * sent to a replica that does NOT hold the task's agent session; the client's stream on that replica is relayed to
 * the replica that does. An interactive session (a terminal) and a piped one (`berth exec`, the built CLI) carry
 * input, output and the exit code; a session is closed when its task stops; the relay door refuses unsigned requests
 * and callers other than the replicas (the root key pair).
 */
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { DescribeTasksCommand, ExecuteCommandCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHaLab, type HaLab, type Replica } from './support/ha-lab.js';
import { CLI, type CliRun } from './support/people-cli.js';

interface Session {
  output: string;
  control: { type: string; exitCode?: number; message?: string }[];
  closed: Promise<void>;
  ws: WebSocket;
}

/** Wait for a condition with a deadline (no fixed sleeps as proof). */
async function until<T>(what: () => string, check: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`${what()}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Opens an ExecuteCommand session's stream as a client does (model/exec-stream.ts) and records what comes. */
async function openSession(ecs: ECSClient, task: string, command: string, tty: boolean): Promise<Session & { streamUrl: string }> {
  const answer = await ecs.send(new ExecuteCommandCommand({ task, command, interactive: true }));
  const streamUrl = answer.session!.streamUrl!;
  const ws = new WebSocket(streamUrl);
  const session: Session = { output: '', control: [], ws, closed: new Promise((resolve) => ws.on('close', () => resolve())) };
  ws.on('message', (d: Buffer, binary) => (binary ? (session.output += d.subarray(1).toString()) : session.control.push(JSON.parse(d.toString()))));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'open', token: answer.session!.tokenValue!, tty, ...(tty ? { cols: 100, rows: 30 } : {}) }));
  // The same object: its output and control grow as frames come.
  return Object.assign(session, { streamUrl });
}

/** The relay door's upgrade, signed with `credentials` (or not at all): the HTTP status it answers. */
function relayUpgradeStatus(replica: Replica, credentials?: { accessKeyId: string; secretAccessKey: string }): Promise<{ status: number; body: string }> {
  const url = new URL(`/ecs-exec-relay/ecs-execute-command-x`, replica.url);
  const query = { cluster: 'default', taskId: 't', instanceId: 'i', taskArn: 'a', container: 'app', command: 'sh', tty: 'false' };
  return (async () => {
    let headers: Record<string, string> = {};
    if (credentials) {
      const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'ecs', sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
      const signed = await signer.sign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers: { host: url.host } }));
      const { host: _host, ...rest } = signed.headers;
      headers = rest;
    }
    url.search = new URLSearchParams(query).toString();
    url.protocol = 'ws:';
    const ws = new WebSocket(url, { headers });
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      ws.once('open', () => reject(new Error('the relay door opened')));
      ws.on('error', () => {});
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
          ws.terminate();
        });
      });
    });
  })();
}

describe('ECS Exec across replicas: 3 etcd members, 3 replicas, agents on some of them', () => {
  let lab: HaLab;
  let taskArn = '';
  /** The replica holding the task's agent session, and one that does not (ExecuteCommand goes there). */
  let holder: Replica;
  let other: Replica;

  beforeAll(async () => {
    lab = await startHaLab();
    const ecs = lab.ecs();
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'exec', networkMode: 'none', containerDefinitions: [{ name: 'app', image: lab.image, memory: 16 }] }));
    const { tasks = [] } = await ecs.send(new RunTaskCommand({ taskDefinition: 'exec', enableExecuteCommand: true }));
    taskArn = tasks[0]!.taskArn!;
    const running = await lab.waitForTask(taskArn, (t) => t.lastStatus === 'RUNNING', 60_000);
    const instanceId = running.containerInstanceArn!.split('/').pop()!;
    const holderId = await until(() => `the presence of ${instanceId}`, () => lab.presence(instanceId));
    holder = lab.replicas.find((r) => r.id === holderId)!;
    other = lab.replicas.find((r) => r.id !== holderId)!;
  }, 240_000);

  afterAll(async () => {
    await lab?.stop();
  }, 120_000);

  it('a terminal session through a replica without the agent: input, output and the exit code', async () => {
    const s = await openSession(other.ecs, taskArn, 'sh', true);
    // The stream URL names the replica that answered, not the one holding the agent.
    expect(new URL(s.streamUrl).host).toBe(new URL(other.url).host);
    // Typed once the shell is there, as a person would (input typed ahead of the terminal's setup is the shell's to lose).
    await until(() => `the shell prompt (output: ${JSON.stringify(s.output)})`, () => /# (\x1b\[\d*[nJ])*$/.test(s.output));
    s.ws.send(Buffer.from('stty size; echo "relayed $((6*7))"; exit 5\n'), { binary: true });
    await s.closed;
    expect(s.control).toEqual([{ type: 'exit', exitCode: 5 }]);
    expect(s.output).toContain('30 100');
    expect(s.output).toContain('relayed 42');
  }, 60_000);

  it('through pipes, with berth exec pointed at the replica without the agent: stdin, stdout, stderr, exit status', async () => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      BERTH_ENDPOINT: other.url,
      BERTH_DATA_DIR: dirname(other.process.credentialsFile),
      AWS_CONFIG_FILE: '/dev/null',
    };
    const run = await new Promise<CliRun>((resolve) => {
      const child = execFile(process.execPath, [CLI, 'exec', taskArn, '--', 'sh', '-c', 'tr a-z A-Z; echo err >&2; exit 3'], { env, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin!.end('hello\n');
    });
    expect(run).toMatchObject({ code: 3, stdout: 'HELLO\n' });
    expect(run.stderr).toContain('err\n');
  }, 60_000);

  it('several sessions at once, through every replica', async () => {
    const sessions = await Promise.all(lab.replicas.map((r, i) => openSession(r.ecs, taskArn, `sh -c 'echo from-${r.id}; exit ${10 + i}'`, false)));
    await Promise.all(sessions.map((s) => s.closed));
    sessions.forEach((s, i) => {
      expect(s.output).toBe(`from-${lab.replicas[i]!.id}\n`);
      expect(s.control).toEqual([{ type: 'exit', exitCode: 10 + i }]);
    });
  }, 60_000);

  it('the relay door takes only a replica: unsigned and IAM-user requests are refused', async () => {
    expect((await relayUpgradeStatus(holder)).status).toBe(403);
    const iam = new IAMClient({ endpoint: other.url, region: 'us-east-1', credentials: other.process.keys });
    try {
      await iam.send(new CreateUserCommand({ UserName: 'exec-user' }));
      await iam.send(new PutUserPolicyCommand({ UserName: 'exec-user', PolicyName: 'all', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }) }));
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'exec-user' }));
      const keys = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
      // The access key reaches the holder through the store's watch: until then it is an unknown key.
      let answer = await relayUpgradeStatus(holder, keys);
      const deadline = Date.now() + 15_000;
      while (answer.status === 403 && /security token|not valid|does not exist/i.test(answer.body) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        answer = await relayUpgradeStatus(holder, keys);
      }
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ __type: 'AccessDeniedException', message: expect.stringMatching(/only a replica of berth/) });
    } finally {
      iam.destroy();
    }
  }, 60_000);

  it('a relayed session is closed when its task stops', async () => {
    const s = await openSession(other.ecs, taskArn, 'sh', true);
    await until(() => `the shell prompt (output: ${JSON.stringify(s.output)})`, () => /# (\x1b\[\d*[nJ])*$/.test(s.output));
    s.ws.send(Buffer.from('echo ready-to-stop\n'), { binary: true });
    await until(() => `the shell's answer (output: ${JSON.stringify(s.output)})`, () => s.output.includes('ready-to-stop'));
    await other.ecs.send(new StopTaskCommand({ task: taskArn, reason: 'exec relay test' }));
    await s.closed;
    expect(s.control).toEqual([{ type: 'error', message: expect.stringMatching(/the task stopped/) }]);
    const { tasks = [] } = await other.ecs.send(new DescribeTasksCommand({ tasks: [taskArn] }));
    expect(tasks[0]?.desiredStatus).toBe('STOPPED');
  }, 60_000);
});
