/**
 * `berth push` and `berth deploy` as people and programs use them, against a real server and agent: images built
 * from /bin/busybox pushed into berth's registry (an OCI layout and a `docker save` archive) and run; a deploy that
 * completes, watched on a pseudo-terminal (the redrawn bar, colours) and through a pipe (plain lines, JSON); a
 * deploy of an image that exits, which the circuit breaker fails and rolls back (exit status 1, the reason).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CreateServiceCommand, DescribeServicesCommand, DescribeTaskDefinitionCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, type BuiltImage } from '../../src/testing/busybox-image.js';
import { startTestCluster, type TestCluster } from './support/cluster.js';
import { ANSI, berthOnTerminal, berthPiped, peopleEnv } from './support/people-cli.js';

const isRoot = process.getuid?.() === 0;
const ERASE_LINE = '\r\x1b[K';

describe.runIf(isRoot)('berth push and berth deploy', () => {
  let cluster: TestCluster;
  let env: NodeJS.ProcessEnv;
  let host = '';
  const images: Record<'v1' | 'v2' | 'crash', BuiltImage> = {} as never;

  const berth = (args: string[], extra: NodeJS.ProcessEnv = {}, timeoutMs = 60_000) => berthPiped(args, { ...env, ...extra }, timeoutMs);
  const onTerminal = (args: string[], extra: NodeJS.ProcessEnv = {}, timeoutMs = 60_000) => berthOnTerminal(args, { ...env, ...extra }, timeoutMs);
  const describeWeb = async () => (await cluster.ecs.send(new DescribeServicesCommand({ services: ['web'] }))).services![0]!;

  beforeAll(async () => {
    cluster = await startTestCluster();
    await cluster.startAgent();
    host = new URL(cluster.server.url).host;
    env = peopleEnv(cluster.server);
    images.v1 = await buildBusyboxImage(join(cluster.dir, 'v1'), 'v1', { cmd: ['sleep', '3600'], extraLayer: { version: 'v1\n' } });
    images.v2 = await buildBusyboxImage(join(cluster.dir, 'v2'), 'v2', { cmd: ['sleep', '3600'], extraLayer: { version: 'v2\n' } });
    images.crash = await buildBusyboxImage(join(cluster.dir, 'crash'), 'crash', { cmd: ['sh', '-c', 'echo crashing; exit 3'] });
  }, 120_000);

  afterAll(async () => {
    // The service would replace the tasks cluster.stop() stops: it goes to 0 first.
    await cluster?.ecs.send(new UpdateServiceCommand({ service: 'web', desiredCount: 0 })).catch(() => {});
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && ((await describeWeb().catch(() => undefined))?.runningCount ?? 0) > 0; ) await new Promise((r) => setTimeout(r, 500));
    await cluster?.stop();
  }, 120_000);

  it('pushes an OCI layout through a pipe (creating the repository), again as JSON (nothing to upload), and a task runs it', async () => {
    const pushed = await berth(['push', images.v1.layoutDir, 'app:v1']);
    expect(pushed.stderr).toBe('');
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain('created repository app\n');
    expect(pushed.stdout).toMatch(new RegExp(`^layer ${images.v1.layerDigests[0]!.slice(7, 19)}: pushed [0-9.]+ (KiB|MiB) in [0-9.]+s$`, 'm'));
    expect(pushed.stdout).toMatch(new RegExp(`^✓ pushed ${host}/app:v1 \\(${images.v1.manifestDigest}\\)\\n$`, 'm'));
    expect(pushed.stdout).not.toMatch(ANSI);
    expect(pushed.stdout).not.toContain('\r');

    const again = await berth(['push', `${images.v1.layoutDir}:v1`, `${host}/app:v1`, '--output', 'json']);
    expect(again.code).toBe(0);
    const result = JSON.parse(again.stdout) as { imageUri: string; digest: string; blobs: { pushed: boolean }[] };
    expect(result).toMatchObject({ imageUri: `${host}/app:v1`, digest: images.v1.manifestDigest });
    expect(result.blobs.map((b) => b.pushed)).toEqual([false, false, false]);
    expect(again.stderr).toMatch(/^config [0-9a-f]{12}: already there/m);

    const arn = await cluster.runOneOff([{ image: `${host}/app:v1`, command: ['cat', '/version'] }]);
    const task = await cluster.waitForTask(arn, (t) => t.lastStatus === 'STOPPED', 60_000);
    expect(task.containers![0]).toMatchObject({ exitCode: 0, imageDigest: images.v1.manifestDigest });
  }, 120_000);

  it('on a terminal draws a progress bar per layer, in colour; a `docker save` archive pushes and runs too', async () => {
    const shown = await onTerminal(['push', images.v2.layoutDir, 'app:v2']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(ERASE_LINE);
    expect(shown.stdout).toMatch(/layer [0-9a-f]{12} \[[█░\x1b\[0-9m]+\] [0-9.]+ (B|KiB|MiB)\/[0-9.]+ (B|KiB|MiB)/);
    expect(shown.stdout).toContain(`\x1b[32m✓\x1b[0m pushed ${host}/app:v2`);

    // `docker save`'s layout: manifest.json, the config, each layer an uncompressed tar in a directory of its own.
    const saved = join(cluster.dir, 'saved');
    mkdirSync(join(saved, 'l0'), { recursive: true });
    copyFileSync(join(images.crash.layoutDir, 'blobs/sha256', images.crash.configDigest.slice(7)), join(saved, 'config.json'));
    writeFileSync(join(saved, 'l0/layer.tar'), gunzipSync(readFileSync(join(images.crash.layoutDir, 'blobs/sha256', images.crash.layerDigests[0]!.slice(7)))));
    writeFileSync(join(saved, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: ['app:crash'], Layers: ['l0/layer.tar'] }]));
    await tar.c({ file: join(cluster.dir, 'crash.tar'), cwd: saved }, ['manifest.json', 'config.json', 'l0']);
    const archive = await berth(['push', join(cluster.dir, 'crash.tar'), '-o', 'json']);
    expect(archive.code).toBe(0);
    expect(JSON.parse(archive.stdout)).toMatchObject({ imageUri: `${host}/app:crash` });
    const arn = await cluster.runOneOff([{ image: `${host}/app:crash` }]);
    const task = await cluster.waitForTask(arn, (t) => t.lastStatus === 'STOPPED', 60_000);
    expect(task.containers![0]!.exitCode).toBe(3);
  }, 120_000);

  it('deploys a new image and watches it on a terminal: the bar redrawn in place, coloured, until COMPLETED', async () => {
    // A health check, so that a rollout completes only on healthy tasks: a container that exits at once may be seen
    // RUNNING for a moment, and without one that moment could complete the crashing deployment below.
    const healthCheck = { command: ['CMD-SHELL', 'true'], interval: 5, timeout: 2, retries: 1 };
    await cluster.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image: `${host}/app:v1`, memory: 32, healthCheck }] }));
    await cluster.ecs.send(new CreateServiceCommand({ serviceName: 'web', taskDefinition: 'web', desiredCount: 1 }));
    await expect.poll(async () => (await describeWeb()).deployments?.[0]?.rolloutState, { timeout: 60_000, interval: 500 }).toBe('COMPLETED');

    const run = await onTerminal(['deploy', 'web', '--image', `${host}/app:v2`, '--poll', '250ms'], {}, 180_000);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/web: app → \S+\/app:v2 in web:2 \(was web:1\); deployment ecs-svc\/\d+/);
    expect(run.stdout).toMatch(new RegExp(`${ERASE_LINE.replace('[', '\\[')}web \\[`));
    expect(run.stdout).toMatch(/\x1b\[33mIN_PROGRESS\x1b\[0m/);
    expect(run.stdout).toMatch(/web \[(\x1b\[32m█{24}\x1b\[0m)\] 1\/1 running · 0 pending · \x1b\[32mCOMPLETED\x1b\[0m · \d+s/);
    expect(run.stdout).toMatch(/\x1b\[32m✓\x1b\[0m web: web:2 rolled out, 1\/1 running, in \d+s/);
    const service = await describeWeb();
    expect(service.taskDefinition).toMatch(/task-definition\/web:2$/);
    const { taskDefinition } = await cluster.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web:2' }));
    expect(taskDefinition!.containerDefinitions![0]).toMatchObject({ name: 'app', image: `${host}/app:v2`, memory: 32, healthCheck: { command: ['CMD-SHELL', 'true'] } });
  }, 240_000);

  it('through a pipe prints plain progress lines on stderr and the result as JSON', async () => {
    const run = await berth(['deploy', 'web', '--image', `${host}/app:v1`, '--poll', '250ms', '-o', 'json'], {}, 180_000);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ service: 'web', outcome: 'done', taskDefinition: expect.stringMatching(/web:3$/), view: { running: 1, desired: 1, state: 'COMPLETED' } });
    expect(run.stderr).toMatch(/^web: 1\/1 running, 0 pending, 0 failed \(COMPLETED\)$/m);
    expect(run.stderr).not.toMatch(ANSI);
    expect(run.stderr).not.toContain('\r');
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('web: ') && l.includes('running'));
    expect(new Set(lines).size).toBe(lines.length);
  }, 240_000);

  it('a deploy of an image that exits fails under the circuit breaker and rolls back: exit status 1 and why (NO_COLOR on a terminal)', async () => {
    await cluster.ecs.send(new UpdateServiceCommand({ service: 'web', deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } } }));
    const run = await onTerminal(['deploy', 'web', '--image', `${host}/app:crash`, '--poll', '250ms', '--timeout', '4m'], { NO_COLOR: '1' }, 300_000);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toMatch(ANSI);
    expect(run.stdout).toContain(ERASE_LINE);
    expect(run.stdout).toMatch(/FAILED/);
    expect(run.stdout).toMatch(/berth: deployment ecs-svc\/\d+ of web failed: (ECS deployment circuit breaker: )?tasks failed to start\.; the service is back on web:3 \(deployment ecs-svc\/\d+\)/);
    expect(run.stdout).toMatch(/its last stopped task [0-9a-f]+: Essential container in task exited \(app exited with 3\) — `berth logs [0-9a-f]+` shows its output/);
    await expect.poll(async () => (await describeWeb()).taskDefinition, { timeout: 30_000 }).toMatch(/web:3$/);
  }, 360_000);

  it('says what to do with an unknown service, a container that is not there, a source that is not an image', async () => {
    const unknown = await berth(['deploy', 'nope', '--image', 'x:1']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/service 'nope' not found in cluster 'default': `berth services` lists them/);
    const container = await berth(['deploy', 'web', '--image', 'x:1', '--container', 'db']);
    expect(container.stderr).toMatch(/task definition web:\d+ has no container 'db' \(it has: app\); give --container with one of them/);
    const notImage = await berth(['push', '/etc/hostname', 'x:1']);
    expect(notImage.code).toBe(1);
    expect(notImage.stderr).toMatch(/^berth: \/etc\/hostname is not a readable image archive/);
  });
});
