/**
 * The commands for people (`berth ps`, `berth services`, `berth scale`) as a person and a program use them: the
 * built CLI against a real server and agent, its output read through a pipe (plain text, `--output json` parses)
 * and through a pseudo-terminal made by util-linux `script` (colours, unless NO_COLOR). Credentials come from the
 * file the server writes, found through BERTH_DATA_DIR with nothing else in the environment.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateServiceCommand, DescribeServicesCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaleServiceToZero, startTestCluster, type TestCluster } from './support/cluster.js';
import { ANSI, berthOnTerminal, berthPiped, CLI, peopleEnv } from './support/people-cli.js';

const isRoot = process.getuid?.() === 0;
describe.runIf(isRoot)('berth ps, services and scale', () => {
  let cluster: TestCluster;
  let env: NodeJS.ProcessEnv;
  let taskArn = '';

  const berth = (args: string[], extra: NodeJS.ProcessEnv = {}) => berthPiped(args, { ...env, ...extra });
  const onTerminal = (args: string[], extra: NodeJS.ProcessEnv = {}) => berthOnTerminal(args, { ...env, ...extra });

  beforeAll(async () => {
    cluster = await startTestCluster();
    await cluster.startAgent();
    env = peopleEnv(cluster.server);
    taskArn = await cluster.runOneOff([{ name: 'app', command: ['sleep', '3600'] }], { family: 'oneoff' });
    await cluster.waitForTask(taskArn, (t) => t.lastStatus === 'RUNNING');
    await cluster.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image: cluster.image, memory: 32, command: ['sleep', '3600'] }] }));
    await cluster.ecs.send(new CreateServiceCommand({ serviceName: 'web', taskDefinition: 'web', desiredCount: 1 }));
  }, 120_000);

  afterAll(async () => {
    if (cluster) await scaleServiceToZero(cluster.ecs, 'web');
    await cluster?.stop();
  }, 120_000);

  it('berth ps lists the running task as a table through a pipe (no colour) and as JSON', async () => {
    const table = await berth(['ps']);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TASK\s+CLUSTER\s+DEFINITION\s+STATUS\s+DESIRED\s+HEALTH\s+GROUP\s+AGE$/);
    const row = lines.find((l) => l.startsWith(taskArn.split('/').at(-1)!));
    expect(row).toMatch(/\sdefault\s+oneoff:1\s+RUNNING\s+RUNNING\s+UNKNOWN\s+family:oneoff\s+\d+[smh]$/);
    expect(table.stdout).not.toMatch(ANSI);
    const parsed = JSON.parse((await berth(['ps', '--output', 'json'])).stdout) as { tasks: { taskArn: string; lastStatus: string }[] };
    expect(parsed.tasks.find((t) => t.taskArn === taskArn)?.lastStatus).toBe('RUNNING');
  });

  it('on a terminal the table is coloured, and not with NO_COLOR', async () => {
    const coloured = await onTerminal(['ps']);
    expect(coloured.code).toBe(0);
    expect(coloured.stdout).toMatch(/\x1b\[1mTASK/);
    expect(coloured.stdout).toMatch(/\x1b\[32mRUNNING\x1b\[0m/);
    const plain = await onTerminal(['ps'], { NO_COLOR: '1' });
    expect(plain.stdout).toContain('RUNNING');
    expect(plain.stdout).not.toMatch(ANSI);
  });

  it('berth services shows counts and rollout; berth scale changes the desired count and says so', async () => {
    await expect.poll(async () => (await berth(['services'])).stdout, { timeout: 60_000, interval: 500 }).toMatch(/^web\s+default\s+1\s+1\s+0\s+COMPLETED\s+web:1\s+\d+[smh]$/m);
    const scaled = await berth(['scale', 'web', '2']);
    expect(scaled).toMatchObject({ code: 0, stderr: '' });
    expect(scaled.stdout).toMatch(/^web: desired count 1 → 2 \(running \d, pending \d\)\n$/);
    const { services } = await cluster.ecs.send(new DescribeServicesCommand({ services: ['web'] }));
    expect(services![0]!.desiredCount).toBe(2);
    const asJson = JSON.parse((await berth(['services', '--cluster', 'default', '-o', 'json'])).stdout) as { services: { serviceName: string; desiredCount: number }[] };
    expect(asJson.services.map((s) => [s.serviceName, s.desiredCount])).toEqual([['web', 2]]);
  });

  it('says what to do when it cannot go on: a bad count, an unknown service, no server, refused credentials', async () => {
    const badCount = await berth(['scale', 'web', 'many']);
    expect(badCount.code).not.toBe(0);
    expect(badCount.stderr).toMatch(/the count 'many' is not a whole number ≥ 0, e.g. `berth scale web 3`/);
    const unknown = await berth(['scale', 'nope', '1']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/service 'nope' not found in cluster 'default': `berth services` lists them/);
    const noServer = await berth(['ps', '--endpoint', 'http://127.0.0.1:9']);
    expect(noServer.code).not.toBe(0);
    expect(noServer.stderr).toMatch(/cannot reach berth at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\): is `berth server` \(or `berth up`\) running\?/);
    const wrongKeys = await berth(['ps'], { AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONGWRONG1', AWS_SECRET_ACCESS_KEY: 'x' });
    expect(wrongKeys.code).not.toBe(0);
    expect(wrongKeys.stderr).toMatch(/berth refused the credentials \(UnrecognizedClientException\)/);
    const badOutput = await berth(['ps', '--output', 'yaml']);
    expect(badOutput.stderr).toMatch(/argument 'yaml' is invalid. Allowed choices are table, json/);
  });

  it('completion: berth __complete lists service names and task ids, and the bash script offers them at a Tab', async () => {
    const taskId = taskArn.split('/').at(-1)!;
    expect(await berth(['__complete', 'services'])).toEqual({ code: 0, stdout: 'web\n', stderr: '' });
    const tasks = await berth(['__complete', 'tasks', '--cluster', 'default']);
    expect(tasks.stdout.split('\n')).toContain(taskId);
    // No server there: nothing, and a success (a shell must not print errors into the command line).
    expect(await berth(['__complete', 'services', '--endpoint', 'http://127.0.0.1:9'])).toEqual({ code: 0, stdout: '', stderr: '' });
    // The script as a person sources it, the built CLI answering its calls (a `berth` on PATH).
    const script = (await berth(['completion', 'bash'])).stdout;
    const dir = mkdtempSync(join(tmpdir(), 'berth-completion-e2e-'));
    try {
      writeFileSync(join(dir, 'berth'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, { mode: 0o755 });
      const tab = (typed: string[]) =>
        execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${typed.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${typed.length - 1}; _berth; printf '%s\\n' "\${COMPREPLY[@]}"`], {
          encoding: 'utf8',
          env: { ...env, PATH: `${dir}:${env.PATH}` },
        }).split('\n').filter((l) => l !== '');
      expect(tab(['berth', 'scale', 'w'])).toEqual(['web']);
      expect(tab(['berth', 'logs', taskId.slice(0, 6)])).toEqual([taskId]);
      expect(tab(['berth', 'exec', '--cluster', 'default', taskId.slice(0, 6)])).toEqual([taskId]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
