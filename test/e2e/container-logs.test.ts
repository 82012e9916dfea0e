import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { DOCKER_REGISTRY, startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthAgent, type BerthAgentProcess } from './support/berth-agent.js';
import { REPO_ROOT, startBerthServer, type BerthServerProcess } from './support/berth-server.js';

const canRunContainers =
  process.getuid?.() === 0 && ['/usr/sbin/runc', '/usr/bin/conmon', '/usr/bin/skopeo', DOCKER_REGISTRY].every((p) => existsSync(p));

/** `berth logs …` as its own process, signed with the server's credentials file. */
function berthLogs(server: BerthServerProcess, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'dist/cli/main.js'), 'logs', '--endpoint', server.url, ...args],
      {
        env: {
          PATH: process.env.PATH,
          AWS_SHARED_CREDENTIALS_FILE: server.credentialsFile,
          AWS_CONFIG_FILE: '/dev/null',
          AWS_PROFILE: 'berth',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// The whole path with real parts: RunTask → the built `berth agent` runs busybox under runc and conmon →
// conmon writes the CRI log → the agent's shipper → the server's Logs API → `berth logs` and `aws logs`.
describe.runIf(canRunContainers && hasAwsCli)('container output from real containers', () => {
  let dir: string;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let agent: BerthAgentProcess;
  let ecs: ECSClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-container-logs-'));
    registry = await startDockerRegistry();
    await pushImage(await buildBusyboxImage(join(dir, 'layout')), `${registry.host}/busybox:latest`);
    server = await startBerthServer(join(dir, 'server'));
    agent = startBerthAgent({
      endpoint: server.url,
      dataDir: join(dir, 'agent'),
      keys: server.keys,
      env: { BERTH_INSECURE_REGISTRIES: registry.host, ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s', BERTH_MEMORY_MIB: '1024' },
    });
    await agent.waitForLog(/berth agent registered/);
    ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: server.keys, maxAttempts: 1 });
  });
  afterAll(async () => {
    ecs?.destroy();
    await agent?.kill();
    await server?.kill();
    await registry?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships stdout and stderr under awslogs and default names, readable with berth logs and aws logs', async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'echo',
        networkMode: 'host',
        containerDefinitions: [
          {
            name: 'app',
            image: `${registry.host}/busybox:latest`,
            memory: 32,
            command: ['sh', '-c', 'echo hello from stdout; echo oops >&2; printf "no newline at the end"'],
            // The side container runs first: once the essential one exits the task stops, and a container
            // not started by then never starts (as in ECS).
            dependsOn: [{ containerName: 'side', condition: 'COMPLETE' }],
            logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/e2e/echo', 'awslogs-stream-prefix': 'ecs', 'awslogs-region': 'us-east-1' } },
          },
          { name: 'side', image: `${registry.host}/busybox:latest`, memory: 32, essential: false, command: ['sh', '-c', 'echo side says hi'] },
        ],
      }),
    );
    const { tasks } = await ecs.send(new RunTaskCommand({ taskDefinition: 'echo' }));
    const arn = tasks![0]!.taskArn!;
    const id = arn.split('/').at(-1)!;
    // The essential container exits, the task stops, and its cleanup (after 1 s) finishes the shipping.
    await vi.waitFor(
      async () => {
        const t = (await ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks![0]!;
        expect(t.lastStatus).toBe('STOPPED');
      },
      { timeout: 60_000, interval: 250 },
    );
    await agent.waitForLog(/task cleaned up/, 30_000);

    const app = await awsCli(server.url, server.credentialsFile, ['logs', 'get-log-events', '--log-group-name', '/e2e/echo', '--log-stream-name', `ecs/app/${id}`, '--start-from-head']);
    expect(app.code, app.stderr).toBe(0);
    expect(app.json.events.map((e: { message: string }) => e.message).sort()).toEqual(['hello from stdout', 'no newline at the end', 'oops']);
    const side = await awsCli(server.url, server.credentialsFile, ['logs', 'get-log-events', '--log-group-name', '/berth/default', '--log-stream-name', `echo/side/${id}`]);
    expect(side.json.events.map((e: { message: string }) => e.message)).toEqual(['side says hi']);

    const printed = await berthLogs(server, [id]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout.trim().split('\n').sort()).toEqual(['app | hello from stdout', 'app | no newline at the end', 'app | oops', 'side | side says hi']);
    const followed = await berthLogs(server, ['--follow', '--container', 'app', arn]);
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout.trim().split('\n').sort()).toEqual(['hello from stdout', 'no newline at the end', 'oops']);
  });
});
