import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeServiceRevisionsCommand, ECSClient, ListServiceDeploymentsCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

/**
 * The ECS actions issue 11 item 11 added or made answer as ECS does, against the built `berth server`:
 * through the AWS CLI v2 where this machine's CLI (2.9) knows the action, through the SDK where it does not.
 */
describe('ECS actions without a home of their own, driven by the AWS CLI v2 and the SDK', () => {
  let dir: string;
  let server: BerthServerProcess;
  let ecs: ECSClient;
  const aws = (...args: string[]) => awsCli(server.url, server.credentialsFile, args);
  const account = '000000000000';

  beforeAll(async () => {
    expect(hasAwsCli, 'the AWS CLI v2 at /usr/bin/aws (Debian package awscli) is needed').toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-actions-'));
    server = await startBerthServer(join(dir, 'data'));
    ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: server.keys, maxAttempts: 1 });
  });
  afterAll(async () => {
    ecs?.destroy();
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('describes the built-in capacity providers and sets them on a cluster', async () => {
    const described = await aws('ecs', 'describe-capacity-providers');
    expect(described.code).toBe(0);
    expect(described.json.capacityProviders.map((p: { name: string }) => p.name)).toEqual(['FARGATE', 'FARGATE_SPOT']);
    expect((await aws('ecs', 'create-cluster', '--cluster-name', 'cp')).code).toBe(0);
    const put = await aws(
      'ecs', 'put-cluster-capacity-providers', '--cluster', 'cp', '--capacity-providers', 'FARGATE', 'FARGATE_SPOT',
      '--default-capacity-provider-strategy', 'capacityProvider=FARGATE,base=1,weight=1', 'capacityProvider=FARGATE_SPOT,weight=2',
    );
    expect(put.code).toBe(0);
    expect(put.json.cluster).toMatchObject({ clusterName: 'cp', capacityProviders: ['FARGATE', 'FARGATE_SPOT'] });
    const cluster = (await aws('ecs', 'describe-clusters', '--clusters', 'cp')).json.clusters[0];
    expect(cluster.defaultCapacityProviderStrategy).toEqual([
      { capacityProvider: 'FARGATE', base: 1, weight: 1 },
      { capacityProvider: 'FARGATE_SPOT', weight: 2 },
    ]);
  });

  it('answers as ECS where berth lacks the part: a capacity provider of no group, namespaces, agent updates', async () => {
    const create = await aws('ecs', 'create-capacity-provider', '--name', 'asg', '--auto-scaling-group-provider', `autoScalingGroupArn=arn:aws:autoscaling:us-east-1:${account}:autoScalingGroup:x`);
    expect(create.code).toBe(254);
    expect(create.stderr).toMatch(/\(ClientException\) when calling the CreateCapacityProvider operation.*does not exist/);
    const del = await aws('ecs', 'delete-capacity-provider', '--capacity-provider', 'FARGATE');
    expect(del.stderr).toMatch(/\(ClientException\) when calling the DeleteCapacityProvider operation.*reserved/);
    const ns = await aws('ecs', 'list-services-by-namespace', '--namespace', 'internal');
    expect(ns.code).toBe(254);
    expect(ns.stderr).toMatch(/\(NamespaceNotFoundException\) when calling the ListServicesByNamespace operation.*: Failed to retrieve namespace for internal/);

    const registered = await aws(
      'ecs', 'register-container-instance', '--cluster', 'cp',
      '--total-resources', 'name=CPU,type=INTEGER,integerValue=1024', 'name=MEMORY,type=INTEGER,integerValue=1024',
      '--version-info', 'agentVersion=1.2.3,agentHash=berth,dockerVersion=runc',
    );
    expect(registered.code).toBe(0);
    const update = await aws('ecs', 'update-container-agent', '--cluster', 'cp', '--container-instance', registered.json.containerInstance.containerInstanceArn);
    expect(update.code).toBe(254);
    expect(update.stderr).toMatch(/\(NoUpdateAvailableException\) when calling the UpdateContainerAgent operation.*version 1\.2\.3/);
  });

  it('keeps a service deployment per deployment, described through the SDK (the CLI here predates these actions)', async () => {
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'web', image: 'busybox', memory: 32 }] }));
    expect((await aws('ecs', 'create-service', '--cluster', 'cp', '--service-name', 'web', '--task-definition', 'web', '--desired-count', '0', '--launch-type', 'EC2')).code).toBe(0);
    // With no task wanted, the controller completes the deployment at once.
    const statuses = async () => ((await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'cp', service: 'web' }))).serviceDeployments ?? []).map((d) => d.status);
    await expect.poll(statuses, { timeout: 10_000 }).toEqual(['SUCCESSFUL']);
    await ecs.send(new UpdateServiceCommand({ cluster: 'cp', service: 'web', forceNewDeployment: true }));
    await expect.poll(statuses, { timeout: 10_000 }).toEqual(['SUCCESSFUL', 'SUCCESSFUL']);
    const [newest] = (await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'cp', service: 'web' }))).serviceDeployments!;
    const { serviceRevisions } = await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [newest!.targetServiceRevisionArn!] }));
    expect(serviceRevisions![0]).toMatchObject({
      serviceArn: `arn:aws:ecs:us-east-1:${account}:service/cp/web`,
      taskDefinition: `arn:aws:ecs:us-east-1:${account}:task-definition/web:1`,
      containerImages: [{ containerName: 'web', image: 'busybox' }],
    });
  });
});
