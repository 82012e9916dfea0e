import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

describe.runIf(hasAwsCli)('berth server driven by the AWS CLI v2', () => {
  let dir: string;
  let server: BerthServerProcess;
  const aws = (...args: string[]) => awsCli(server.url, server.credentialsFile, args);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-cli-'));
    server = await startBerthServer(join(dir, 'data'));
  });
  afterAll(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generated a 0600 credentials file in AWS format and said where', () => {
    expect(statSync(server.credentialsFile).mode & 0o777).toBe(0o600);
    expect(server.stderr()).toContain(`root credentials in ${server.credentialsFile} (profile berth, generated now)`);
    expect(server.keys.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(server.stderr()).not.toContain(server.keys.secretAccessKey);
  });

  it('creates, lists and describes clusters', async () => {
    const created = await aws('ecs', 'create-cluster', '--cluster-name', 'demo', '--tags', 'key=team,value=core');
    expect(created.code).toBe(0);
    expect(created.json.cluster).toMatchObject({ clusterName: 'demo', status: 'ACTIVE', clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/demo' });
    const listed = await aws('ecs', 'list-clusters');
    expect(listed.json.clusterArns).toEqual(['arn:aws:ecs:us-east-1:000000000000:cluster/demo']);
    const described = await aws('ecs', 'describe-clusters', '--clusters', 'demo', 'ghost', '--include', 'TAGS');
    expect(described.json.clusters[0].tags).toEqual([{ key: 'team', value: 'core' }]);
    expect(described.json.failures).toEqual([{ arn: 'arn:aws:ecs:us-east-1:000000000000:cluster/ghost', reason: 'MISSING' }]);
  });

  it('registers a task definition from --cli-input-json and describes it', async () => {
    const file = join(dir, 'web.json');
    writeFileSync(
      file,
      JSON.stringify({
        family: 'web',
        networkMode: 'bridge',
        cpu: '0.5 vCPU',
        memory: '1GB',
        containerDefinitions: [
          {
            name: 'web',
            image: 'busybox:latest',
            command: ['httpd', '-f', '-p', '8080'],
            portMappings: [{ containerPort: 8080 }],
            healthCheck: { command: ['CMD-SHELL', 'wget -q -O- localhost:8080 || exit 1'] },
          },
        ],
        tags: [{ key: 'app', value: 'web' }],
      }),
    );
    const registered = await aws('ecs', 'register-task-definition', '--cli-input-json', `file://${file}`);
    expect(registered.code).toBe(0);
    expect(registered.json.taskDefinition).toMatchObject({ family: 'web', revision: 1, cpu: '512', memory: '1024', status: 'ACTIVE' });
    const described = await aws('ecs', 'describe-task-definition', '--task-definition', 'web', '--include', 'TAGS');
    expect(described.code).toBe(0);
    expect(described.json.taskDefinition.containerDefinitions[0]).toMatchObject({
      portMappings: [{ containerPort: 8080, hostPort: 0, protocol: 'tcp' }],
      healthCheck: { interval: 30, timeout: 5, retries: 3 },
    });
    // The CLI renders epoch-second timestamps as ISO dates.
    expect(described.json.taskDefinition.registeredAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(described.json.tags).toEqual([{ key: 'app', value: 'web' }]);
  });

  it('shows ECS errors the way the CLI shows AWS errors', async () => {
    const missing = await aws('ecs', 'describe-task-definition', '--task-definition', 'nope');
    expect(missing.code).toBe(254);
    expect(missing.stderr).toMatch(/An error occurred \(ClientException\) when calling the DescribeTaskDefinition operation.*: Unable to describe task definition\./);
    const bad = await aws('ecs', 'register-task-definition', '--family', 'bad', '--container-definitions', 'name=x,image=busybox', '--network-mode', 'bridge');
    expect(bad.code).toBe(254);
    expect(bad.stderr).toContain("Invalid setting for container 'x'. At least one of 'memory' or 'memoryReservation' must be specified.");
    expect(bad.stderr).toContain('(ClientException) when calling the RegisterTaskDefinition operation');
  });

  it('follows nextToken across pages when asked for small pages', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await aws('ecs', 'register-task-definition', '--family', 'paged', '--container-definitions', 'name=app,image=busybox,memory=32');
      expect(r.code).toBe(0);
    }
    const all = await aws('ecs', 'list-task-definitions', '--family-prefix', 'paged', '--page-size', '2');
    expect(all.json.taskDefinitionArns.map((a: string) => a.split('/')[1])).toEqual(['paged:1', 'paged:2', 'paged:3', 'paged:4', 'paged:5']);
    const first = await aws('ecs', 'list-task-definitions', '--family-prefix', 'paged', '--max-items', '2');
    expect(first.json.taskDefinitionArns).toHaveLength(2);
    expect(first.json.NextToken).toBeTruthy();
  });

  // Debian's AWS CLI (2.9) predates DeleteTaskDefinitions; the SDK tests cover deletion.
  it('tags and deregisters through the CLI', async () => {
    const arn = 'arn:aws:ecs:us-east-1:000000000000:task-definition/paged:1';
    expect((await aws('ecs', 'tag-resource', '--resource-arn', arn, '--tags', 'key=k,value=v')).code).toBe(0);
    expect((await aws('ecs', 'list-tags-for-resource', '--resource-arn', arn)).json.tags).toEqual([{ key: 'k', value: 'v' }]);
    expect((await aws('ecs', 'deregister-task-definition', '--task-definition', 'paged:1')).json.taskDefinition.status).toBe('INACTIVE');
    const families = await aws('ecs', 'list-task-definition-families', '--status', 'ACTIVE');
    expect(families.json.families).toEqual(['paged', 'web']);
  });

  it('refuses the CLI without credentials, and with another region', async () => {
    const unsigned = await aws('ecs', 'list-clusters', '--no-sign-request');
    expect(unsigned.code).toBe(254);
    expect(unsigned.stderr).toContain('(MissingAuthenticationTokenException)');
    const otherRegion = await awsCli(server.url, server.credentialsFile, ['ecs', 'list-clusters'], 'eu-west-1');
    expect(otherRegion.code).toBe(254);
    expect(otherRegion.stderr).toContain('(InvalidSignatureException)');
  });
});
