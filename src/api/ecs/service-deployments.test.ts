import {
  ContinueServiceDeploymentCommand,
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  type CreateServiceCommandInput,
  type Service,
  type ServiceDeployment,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../state/keys.js';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { removeAgentDir, startFakeAgent, type FakeAgent } from '../../testing/fake-agents.js';
import { failure } from '../../testing/failure.js';

/**
 * The service deployments API against real deployments: a real server, its service controller and real agents
 * whose runtime parts are fakes (containers run until told otherwise; an image that does not exist fails).
 */
let api: ApiFixture;
const agents: FakeAgent[] = [];
const prefix = `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}`;

beforeAll(async () => {
  api = await startApiFixture({ heartbeatMs: 200, agentSilenceMs: 1_000, serviceResyncMs: 1_000 });
  for (const [family, image] of [
    ['web', 'busybox'],
    ['web', 'busybox'],
    ['broken', 'missing-image'],
  ] as const) {
    await api.ecs.send(new RegisterTaskDefinitionCommand({ family, containerDefinitions: [{ name: 'app', image, memory: 64 }] }));
  }
});
afterAll(async () => {
  for (const a of agents) await a.stop();
  await api.stop();
  for (const a of agents) removeAgentDir(a);
});

async function clusterWithAgent(cluster: string): Promise<void> {
  await api.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const agent = await startFakeAgent(api.server.url, { cluster });
  agents.push(agent);
  await expect
    .poll(async () => {
      const entry = await api.server.store.get(keys.containerInstance(cluster, agent.instanceId));
      return entry ? JSON.parse(entry.value).instance.agentConnected : false;
    }, { timeout: 5_000 })
    .toBe(true);
}

const createService = (cluster: string, input: Partial<CreateServiceCommandInput> = {}) =>
  api.ecs.send(new CreateServiceCommand({ cluster, serviceName: 'web', taskDefinition: 'web:1', desiredCount: 1, ...input }));

const describeService = async (cluster: string): Promise<Service> =>
  (await api.ecs.send(new DescribeServicesCommand({ cluster, services: ['web'] }))).services![0]!;

const list = async (cluster: string) => (await api.ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'web' }))).serviceDeployments!;

async function describeDeployment(arn: string): Promise<ServiceDeployment> {
  const { serviceDeployments, failures } = await api.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }));
  expect(failures).toEqual([]);
  return serviceDeployments![0]!;
}

const statusOf = async (arn: string) => (await describeDeployment(arn)).status;

/** The service deployment ARN of a berth deployment `ecs-svc/<digits>`. */
const deploymentArn = (cluster: string, deploymentId: string) => `${prefix}:service-deployment/${cluster}/web/${deploymentId.split('/')[1]}`;
const revisionArn = (cluster: string, deploymentId: string) => `${prefix}:service-revision/${cluster}/web/${deploymentId.split('/')[1]}`;

describe('service deployments of a rolling service', () => {
  it('records each deployment with its revision, and its outcome once a newer one starts', async () => {
    const cluster = 'history';
    await clusterWithAgent(cluster);
    const first = (await createService(cluster)).service!.deployments![0]!.id!;
    const firstArn = deploymentArn(cluster, first);
    expect(await list(cluster)).toEqual([expect.objectContaining({ serviceDeploymentArn: firstArn, status: 'IN_PROGRESS' })]);
    await expect.poll(() => statusOf(firstArn), { timeout: 15_000 }).toBe('SUCCESSFUL');

    const second = (await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'web', taskDefinition: 'web:2' }))).service!.deployments![0]!.id!;
    const secondArn = deploymentArn(cluster, second);
    await expect.poll(() => statusOf(secondArn), { timeout: 15_000 }).toBe('SUCCESSFUL');

    const listed = await list(cluster);
    expect(listed.map((d) => [d.serviceDeploymentArn, d.status])).toEqual([
      [secondArn, 'SUCCESSFUL'],
      [firstArn, 'SUCCESSFUL'],
    ]);
    expect(listed[0]).toMatchObject({
      serviceArn: `${prefix}:service/${cluster}/web`,
      clusterArn: `${prefix}:cluster/${cluster}`,
      targetServiceRevisionArn: revisionArn(cluster, second),
    });
    expect(listed[0]!.finishedAt).toBeInstanceOf(Date);

    const service = await describeService(cluster);
    expect(service.currentServiceDeployment).toBe(secondArn);
    expect(service.currentServiceRevisions).toEqual([{ arn: revisionArn(cluster, second), requestedTaskCount: 1, runningTaskCount: 1, pendingTaskCount: 0 }]);

    const described = await describeDeployment(secondArn);
    expect(described).toMatchObject({
      status: 'SUCCESSFUL',
      sourceServiceRevisions: [{ arn: revisionArn(cluster, first), requestedTaskCount: 1 }],
      targetServiceRevision: { arn: revisionArn(cluster, second), requestedTaskCount: 1, runningTaskCount: 1, pendingTaskCount: 0 },
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
      deploymentCircuitBreaker: { status: 'DISABLED', failureCount: 0, threshold: 3 },
      alarms: { status: 'DISABLED' },
    });

    const { serviceRevisions, failures } = await api.ecs.send(
      new DescribeServiceRevisionsCommand({ serviceRevisionArns: [revisionArn(cluster, first), revisionArn(cluster, second), `${prefix}:service-revision/${cluster}/web/1234567890123456789`] }),
    );
    expect(serviceRevisions!.map((r) => r.taskDefinition)).toEqual([`${prefix}:task-definition/web:1`, `${prefix}:task-definition/web:2`]);
    expect(serviceRevisions![1]).toMatchObject({
      serviceArn: `${prefix}:service/${cluster}/web`,
      launchType: 'EC2',
      containerImages: [{ containerName: 'app', image: 'busybox' }],
      guardDutyEnabled: false,
    });
    expect(failures).toEqual([{ arn: `${prefix}:service-revision/${cluster}/web/1234567890123456789`, reason: 'MISSING' }]);

    // Filters: by status and by creation time.
    const none = await api.ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'web', status: ['IN_PROGRESS'] }));
    expect(none.serviceDeployments).toEqual([]);
    const later = await api.ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'web', createdAt: { after: described.createdAt } }));
    expect(later.serviceDeployments!.map((d) => d.serviceDeploymentArn)).toEqual([secondArn]);
    const paged = await api.ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'web', maxResults: 1 }));
    expect(paged.serviceDeployments).toHaveLength(1);
    const rest = await api.ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'web', maxResults: 1, nextToken: paged.nextToken! }));
    expect(rest.serviceDeployments!.map((d) => d.serviceDeploymentArn)).toEqual([firstArn]);
    expect(rest.nextToken).toBeUndefined();
  });

  it('StopServiceDeployment rolls an IN_PROGRESS deployment back to the last one that completed', async () => {
    const cluster = 'stop-rollback';
    await clusterWithAgent(cluster);
    const good = (await createService(cluster)).service!.deployments![0]!.id!;
    await expect.poll(() => statusOf(deploymentArn(cluster, good)), { timeout: 15_000 }).toBe('SUCCESSFUL');
    // Without the circuit breaker, a deployment whose image does not exist stays IN_PROGRESS (launches retry).
    const bad = (await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'web', taskDefinition: 'broken' }))).service!.deployments![0]!.id!;
    const badArn = deploymentArn(cluster, bad);
    expect(await statusOf(badArn)).toBe('IN_PROGRESS');

    const stopped = await api.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: badArn }));
    expect(stopped.serviceDeploymentArn).toBe(badArn);
    const s = await describeService(cluster);
    expect(s.taskDefinition).toBe(`${prefix}:task-definition/web:1`);
    // The old deployment's task still runs (minimum healthy 100 %), so the restored deployment may complete at once.
    expect(s.deployments![0]).toMatchObject({ id: good, status: 'PRIMARY' });
    await expect.poll(() => statusOf(badArn), { timeout: 15_000 }).toBe('ROLLBACK_SUCCESSFUL');
    const after = await describeDeployment(badArn);
    expect(after.rollback).toMatchObject({ serviceRevisionArn: revisionArn(cluster, good), reason: 'Stopped by StopServiceDeployment (ROLLBACK).' });
    expect(after.rollback!.startedAt).toBeInstanceOf(Date);
    await expect.poll(async () => (await describeService(cluster)).deployments!.map((d) => [d.id, d.rolloutState]), { timeout: 15_000 }).toEqual([[good, 'COMPLETED']]);

    // Only an IN_PROGRESS deployment can be stopped; a finished one is a conflict, an unknown one not found.
    const again = await failure(api.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: badArn })));
    expect(again).toMatchObject({ name: 'ConflictException', message: expect.stringMatching(/ROLLBACK_SUCCESSFUL: only an IN_PROGRESS/) });
    for (const arn of [deploymentArn(cluster, 'ecs-svc/1234567890123456789'), 'not-an-arn']) {
      const missing = await failure(api.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn })));
      expect(missing).toMatchObject({ name: 'ServiceDeploymentNotFoundException', status: 400 });
    }
  });

  it('StopServiceDeployment ABORT leaves the service as it is; ROLLBACK of a first deployment is refused', async () => {
    const cluster = 'stop-abort';
    await clusterWithAgent(cluster);
    const only = (await createService(cluster, { taskDefinition: 'broken' })).service!.deployments![0]!.id!;
    const arn = deploymentArn(cluster, only);
    const refused = await failure(api.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' })));
    expect(refused).toMatchObject({ name: 'ConflictException', message: expect.stringMatching(/no earlier service revision/) });
    expect(await statusOf(arn)).toBe('IN_PROGRESS');
    await api.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ABORT' }));
    expect(await describeDeployment(arn)).toMatchObject({ status: 'STOPPED', statusReason: 'Stopped by StopServiceDeployment (ABORT).' });
    expect((await describeService(cluster)).deployments![0]).toMatchObject({ id: only, rolloutState: 'FAILED' });

    const hook = await failure(api.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: 'h-1' })));
    expect(hook).toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(/not paused at lifecycle hook 'h-1'/) });
    const noDeployment = await failure(
      api.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: deploymentArn(cluster, 'ecs-svc/1234567890123456789'), hookId: 'h-1' })),
    );
    expect(noDeployment).toMatchObject({ name: 'ServiceDeploymentNotFoundException' });

    // Deleting the service settles what was still moving.
    await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'web', desiredCount: 0 }));
    await api.ecs.send(new DeleteServiceCommand({ cluster, service: 'web' }));
    expect(await statusOf(arn)).toBe('STOPPED');
  });

  it('a circuit-breaker rollback ends ROLLBACK_SUCCESSFUL, with the reason and the revision it went back to', async () => {
    const cluster = 'breaker-history';
    await clusterWithAgent(cluster);
    const good = (
      await createService(cluster, { deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true }, minimumHealthyPercent: 0 } })
    ).service!.deployments![0]!.id!;
    await expect.poll(() => statusOf(deploymentArn(cluster, good)), { timeout: 15_000 }).toBe('SUCCESSFUL');
    const bad = (await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'web', taskDefinition: 'broken' }))).service!.deployments![0]!.id!;
    const badArn = deploymentArn(cluster, bad);
    expect(await describeDeployment(badArn)).toMatchObject({ deploymentCircuitBreaker: { status: 'MONITORING', threshold: 3 } });
    await expect.poll(() => statusOf(badArn), { timeout: 20_000 }).toBe('ROLLBACK_SUCCESSFUL');
    const d = await describeDeployment(badArn);
    expect(d).toMatchObject({
      statusReason: 'ECS deployment circuit breaker: tasks failed to start.',
      rollback: { reason: 'ECS deployment circuit breaker: tasks failed to start.', serviceRevisionArn: revisionArn(cluster, good) },
    });
  });
});

describe('refusals', () => {
  it('answers as ECS for unknown clusters, services and ARNs', async () => {
    await api.ecs.send(new CreateClusterCommand({ clusterName: 'empty' }));
    expect(await failure(api.ecs.send(new ListServiceDeploymentsCommand({ cluster: 'ghost', service: 'web' })))).toMatchObject({ name: 'ClusterNotFoundException' });
    expect(await failure(api.ecs.send(new ListServiceDeploymentsCommand({ cluster: 'empty', service: 'web' })))).toMatchObject({ name: 'ServiceNotFoundException' });
    const unknown = `${prefix}:service-deployment/empty/web/1234567890123456789`;
    const described = await api.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [unknown, 'junk'] }));
    expect(described).toMatchObject({ serviceDeployments: [], failures: [{ arn: unknown, reason: 'MISSING' }, { arn: 'junk', reason: 'MISSING' }] });
    for (const arns of [[], Array.from({ length: 21 }, () => unknown)]) {
      const e = await failure(api.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: arns })));
      expect(e).toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(/serviceDeploymentArns/) });
    }
    const badPage = await failure(api.ecs.send(new ListServiceDeploymentsCommand({ cluster: 'empty', service: 'web', maxResults: 101 })));
    expect(badPage).toMatchObject({ name: 'InvalidParameterException' });
  });
});
