import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  DescribeServicesCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UpdateServiceCommand,
  type CreateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';

/** The services API on its own: shapes, defaults, refusals (the controller's work is tested with agents elsewhere). */
let api: ApiFixture;
const cluster = 'svc-api';
const arnOf = (name: string) => `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:service/${cluster}/${name}`;
/** The ARN ECS names an unknown service by in a failure: the short form, without the cluster. */
const missingArnOf = (name: string) => `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:service/${name}`;

beforeAll(async () => {
  api = await startApiFixture();
  await api.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'web', image: 'busybox', memory: 64 }] }));
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'web', image: 'busybox', memory: 96 }] }));
  await api.ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'vpc', networkMode: 'awsvpc', containerDefinitions: [{ name: 'web', image: 'busybox', memory: 64 }] }),
  );
  await api.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'fargate-only',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'app', image: 'busybox' }],
    }),
  );
});
afterAll(async () => api.stop());

const create = (input: Partial<CreateServiceCommandInput>) =>
  api.ecs.send(new CreateServiceCommand({ cluster, serviceName: 'svc', taskDefinition: 'web:1', desiredCount: 0, ...input }));
const describeOne = async (name: string, include?: 'TAGS') =>
  (await api.ecs.send(new DescribeServicesCommand({ cluster, services: [name], ...(include ? { include: [include] } : {}) }))).services![0]!;

describe('CreateService', () => {
  it('creates a REPLICA service with ECS defaults and its first deployment', async () => {
    const { service } = await create({ serviceName: 'defaults', desiredCount: 0, tags: [{ key: 'team', value: 'a' }] });
    expect(service).toMatchObject({
      serviceArn: arnOf('defaults'),
      serviceName: 'defaults',
      clusterArn: `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:cluster/${cluster}`,
      status: 'ACTIVE',
      desiredCount: 0,
      runningCount: 0,
      pendingCount: 0,
      launchType: 'EC2',
      schedulingStrategy: 'REPLICA',
      taskDefinition: `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:task-definition/web:1`,
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: false, rollback: false } },
      deploymentController: { type: 'ECS' },
      propagateTags: 'NONE',
      enableECSManagedTags: false,
      tags: [{ key: 'team', value: 'a' }],
    });
    expect(service!.deployments).toHaveLength(1);
    const d = service!.deployments![0]!;
    expect(d.id).toMatch(/^ecs-svc\/\d{19}$/);
    expect(d).toMatchObject({ status: 'PRIMARY', rolloutState: 'IN_PROGRESS', rolloutStateReason: `ECS deployment ${d.id} in progress.`, failedTasks: 0 });
    expect(service!.createdAt).toBeInstanceOf(Date);
  });

  it('gives DAEMON services minimumHealthyPercent 0 and maximumPercent 100', async () => {
    const { service } = await create({ serviceName: 'daemon', schedulingStrategy: 'DAEMON', desiredCount: undefined });
    expect(service!.deploymentConfiguration).toMatchObject({ minimumHealthyPercent: 0, maximumPercent: 100 });
    expect(service!.schedulingStrategy).toBe('DAEMON');
  });

  it.each<[string, Partial<CreateServiceCommandInput>, string, RegExp]>([
    ['a DAEMON desired count', { schedulingStrategy: 'DAEMON', desiredCount: 2 }, 'InvalidParameterException', /desiredCount: the daemon scheduling strategy does not support/],
    ['a DAEMON placement strategy', { schedulingStrategy: 'DAEMON', desiredCount: undefined, placementStrategy: [{ type: 'random' }] }, 'InvalidParameterException', /placementStrategy/],
    ['a missing desired count', { desiredCount: undefined }, 'InvalidParameterException', /desiredCount is required/],
    ['minimumHealthyPercent over 100', { deploymentConfiguration: { minimumHealthyPercent: 150 } }, 'InvalidParameterException', /minimumHealthyPercent/],
    ['maximumPercent under 100', { deploymentConfiguration: { maximumPercent: 50 } }, 'InvalidParameterException', /maximumPercent/],
    ['a FARGATE launch type for an EC2 task definition', { launchType: 'FARGATE' }, 'InvalidParameterException', /^Task definition does not support launch_type FARGATE\.$/],
    ['an EXTERNAL launch type', { launchType: 'EXTERNAL' }, 'InvalidParameterException', /launchType: .*not EXTERNAL/],
    ['a FARGATE service without networkConfiguration', { taskDefinition: 'fargate-only', launchType: 'FARGATE' }, 'InvalidParameterException', /^Network Configuration must be provided when networkMode 'awsvpc' is specified\.$/],
    ['a platform version with EC2', { platformVersion: 'LATEST' }, 'InvalidParameterException', /^The platform version must be null when specifying an EC2 launch type\.$/],
    ['a Classic Load Balancer', { loadBalancers: [{ loadBalancerName: 'classic', containerName: 'web', containerPort: 80 }] }, 'InvalidParameterException', /loadBalancerName: The load balancer classic does not exist/],
    ['a target group that does not exist', { loadBalancers: [{ targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/0123456789abcdef', containerName: 'web', containerPort: 80 }] }, 'InvalidParameterException', /targetGroupArn/],
    ['an unknown task definition', { taskDefinition: 'nope:3' }, 'ClientException', /taskDefinition 'nope:3'/],
    ['a Fargate-only task definition', { taskDefinition: 'fargate-only' }, 'ClientException', /does not support launch_type EC2: taskDefinition/],
    ['a bad service name', { serviceName: 'no spaces' }, 'InvalidParameterException', /serviceName/],
    ['a malformed memberOf expression', { placementConstraints: [{ type: 'memberOf', expression: 'attribute:x =' }] }, 'InvalidParameterException', /offset/],
    ['an unknown cluster', { cluster: 'nowhere' }, 'ClusterNotFoundException', /Cluster not found/],
    ['an awsvpc task definition without networkConfiguration', { taskDefinition: 'vpc' }, 'InvalidParameterException', /Network Configuration must be provided/],
    ['networkConfiguration for a bridge task definition', { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } } }, 'InvalidParameterException', /networkMode/],
  ])('refuses %s, naming the field, and creates nothing', async (_what, input, type, message) => {
    const e = await failure(create({ serviceName: 'refused', ...input }));
    expect(e.name).toBe(type);
    expect(e.message).toMatch(message);
    const { failures } = await api.ecs.send(new DescribeServicesCommand({ cluster, services: ['refused'] }));
    expect(failures).toEqual([{ arn: missingArnOf('refused'), reason: 'MISSING' }]);
  });

  it('is idempotent only with the same clientToken', async () => {
    const first = await create({ serviceName: 'token', clientToken: 'abc' });
    const again = await create({ serviceName: 'token', clientToken: 'abc' });
    expect(again.service!.deployments![0]!.id).toBe(first.service!.deployments![0]!.id);
    const e = await failure(create({ serviceName: 'token' }));
    expect(e).toMatchObject({ name: 'InvalidParameterException', message: 'Creation of service was not idempotent.' });
  });
});

describe('awsvpc services', () => {
  it('keep their network configuration on the service and each deployment, and a change of it redeploys', async () => {
    const networkConfiguration = { awsvpcConfiguration: { subnets: ['subnet-a1'], securityGroups: ['sg-1'] } };
    const { service } = await create({ serviceName: 'vpc', taskDefinition: 'vpc', networkConfiguration });
    const expected = { awsvpcConfiguration: { subnets: ['subnet-a1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } };
    expect(service!.networkConfiguration).toEqual(expected);
    expect(service!.deployments![0]!.networkConfiguration).toEqual(expected);
    const same = await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'vpc', desiredCount: 0 }));
    expect(same.service!.deployments).toHaveLength(1);
    const moved = await api.ecs.send(
      new UpdateServiceCommand({ cluster, service: 'vpc', networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-b2'] } } }),
    );
    expect(moved.service!.deployments!.map((d) => d.networkConfiguration?.awsvpcConfiguration?.subnets)).toEqual([['subnet-b2'], ['subnet-a1']]);
    // Back to a bridge task definition: the network configuration goes with the awsvpc one.
    const bridge = await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'vpc', taskDefinition: 'web:1' }));
    expect(bridge.service!.networkConfiguration).toBeUndefined();
  });
});

describe('DescribeServices and ListServices', () => {
  it('describes by name and ARN, with MISSING failures, and at most 10 at once', async () => {
    await create({ serviceName: 'd1' });
    const { services, failures } = await api.ecs.send(new DescribeServicesCommand({ cluster, services: ['d1', arnOf('d1'), 'ghost'] }));
    expect(services!.map((s) => s.serviceName)).toEqual(['d1', 'd1']);
    expect(failures).toEqual([{ arn: missingArnOf('ghost'), reason: 'MISSING' }]);
    const e = await failure(api.ecs.send(new DescribeServicesCommand({ cluster, services: Array.from({ length: 11 }, (_, i) => `s${i}`) })));
    expect(e.name).toBe('InvalidParameterException');
    // An ARN that names nothing comes back as given.
    const ghostArn = arnOf('ghost');
    expect((await api.ecs.send(new DescribeServicesCommand({ cluster, services: [ghostArn] }))).failures).toEqual([{ arn: ghostArn, reason: 'MISSING' }]);
    const empty = await failure(api.ecs.send(new DescribeServicesCommand({ cluster, services: [] })));
    expect(empty).toMatchObject({ name: 'InvalidParameterException', message: 'Services cannot be empty.' });
  });

  it('shows tags only when asked', async () => {
    await create({ serviceName: 'tagged', tags: [{ key: 'k', value: 'v' }] });
    expect(await describeOne('tagged')).not.toHaveProperty('tags');
    expect((await describeOne('tagged', 'TAGS')).tags).toEqual([{ key: 'k', value: 'v' }]);
    await api.ecs.send(new TagResourceCommand({ resourceArn: arnOf('tagged'), tags: [{ key: 'more', value: 'x' }] }));
    const { tags } = await api.ecs.send(new ListTagsForResourceCommand({ resourceArn: arnOf('tagged') }));
    expect(tags).toEqual([
      { key: 'k', value: 'v' },
      { key: 'more', value: 'x' },
    ]);
  });

  it('lists by scheduling strategy and pages 10 at a time by default', async () => {
    for (let i = 0; i < 11; i++) await create({ serviceName: `page-${String(i).padStart(2, '0')}` });
    const first = await api.ecs.send(new ListServicesCommand({ cluster }));
    expect(first.serviceArns).toHaveLength(10);
    const second = await api.ecs.send(new ListServicesCommand({ cluster, nextToken: first.nextToken }));
    const all = [...first.serviceArns!, ...second.serviceArns!];
    expect(all).toContain(arnOf('page-10'));
    expect(new Set(all).size).toBe(all.length);
    const daemons = await api.ecs.send(new ListServicesCommand({ cluster, schedulingStrategy: 'DAEMON' }));
    expect(daemons.serviceArns).toEqual([arnOf('daemon')]);
    expect((await api.ecs.send(new ListServicesCommand({ cluster, launchType: 'FARGATE' }))).serviceArns).toEqual([]);
  });
});

describe('UpdateService', () => {
  it('changes the desired count without a new deployment; a new task definition or forceNewDeployment starts one', async () => {
    const { service } = await create({ serviceName: 'upd' });
    const first = service!.deployments![0]!.id;
    const scaled = await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'upd', desiredCount: 0, deploymentConfiguration: { maximumPercent: 150 } }));
    expect(scaled.service!.deployments!.map((d) => d.id)).toContain(first);
    expect(scaled.service!.deploymentConfiguration).toMatchObject({ maximumPercent: 150, minimumHealthyPercent: 100 });
    const redeployed = await api.ecs.send(new UpdateServiceCommand({ cluster, service: arnOf('upd'), taskDefinition: 'web:2' }));
    const [primary, ...rest] = redeployed.service!.deployments!;
    expect(primary).toMatchObject({ status: 'PRIMARY', rolloutState: 'IN_PROGRESS', taskDefinition: expect.stringMatching(/web:2$/) });
    expect(primary!.id).not.toBe(first);
    expect(redeployed.service!.taskDefinition).toMatch(/web:2$/);
    const forced = await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'upd', forceNewDeployment: true }));
    expect(forced.service!.deployments![0]!.id).not.toBe(primary!.id);
    expect(rest.length + 1).toBeGreaterThanOrEqual(1);
  });

  it('refuses unknown services, DAEMON desired counts and bad limits, changing nothing', async () => {
    expect(await failure(api.ecs.send(new UpdateServiceCommand({ cluster, service: 'ghost', desiredCount: 1 })))).toMatchObject({
      name: 'ServiceNotFoundException',
      message: 'Service not found.',
    });
    const daemon = await failure(api.ecs.send(new UpdateServiceCommand({ cluster, service: 'daemon', desiredCount: 3 })));
    expect(daemon.name).toBe('InvalidParameterException');
    const before = await describeOne('d1');
    const bad = await failure(api.ecs.send(new UpdateServiceCommand({ cluster, service: 'd1', desiredCount: 2, deploymentConfiguration: { minimumHealthyPercent: -1 } })));
    expect(bad.name).toBe('InvalidParameterException');
    expect((await describeOne('d1')).desiredCount).toBe(before.desiredCount);
  });
});

describe('DeleteService', () => {
  it('refuses a service scaled above 0 without force; with force it drains and becomes INACTIVE', async () => {
    await create({ serviceName: 'del', desiredCount: 2 });
    const refused = await failure(api.ecs.send(new DeleteServiceCommand({ cluster, service: 'del' })));
    expect(refused).toMatchObject({ name: 'InvalidParameterException', message: 'The service cannot be stopped while it is scaled above 0.' });
    expect((await describeOne('del')).status).toBe('ACTIVE');
    const { service } = await api.ecs.send(new DeleteServiceCommand({ cluster, service: 'del', force: true }));
    expect(service).toMatchObject({ status: 'DRAINING', desiredCount: 0 });
    // No tasks ever ran (no instances): the controller finds it drained at once.
    await expect.poll(async () => (await describeOne('del')).status, { timeout: 5_000 }).toBe('INACTIVE');
    expect((await api.ecs.send(new ListServicesCommand({ cluster, maxResults: 100 }))).serviceArns).not.toContain(arnOf('del'));
    const again = await failure(api.ecs.send(new DeleteServiceCommand({ cluster, service: 'del' })));
    expect(again.name).toBe('ServiceNotActiveException');
    // The name is free again.
    expect((await create({ serviceName: 'del' })).service!.status).toBe('ACTIVE');
  });

  it('reports what it cannot place: no instances in the cluster', async () => {
    await create({ serviceName: 'nowhere', desiredCount: 1 });
    await expect
      .poll(async () => (await describeOne('nowhere')).events!.map((e) => e.message), { timeout: 5_000 })
      .toContain(
        '(service nowhere) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.',
      );
  });
});

describe('with the rest of the API', () => {
  it('counts services in DescribeClusters, and DeleteCluster refuses while one is ACTIVE or DRAINING', async () => {
    await api.ecs.send(new CreateClusterCommand({ clusterName: 'with-service' }));
    await api.ecs.send(new CreateServiceCommand({ cluster: 'with-service', serviceName: 's', taskDefinition: 'web:1', desiredCount: 0 }));
    const { clusters } = await api.ecs.send(new DescribeClustersCommand({ clusters: ['with-service'], include: ['STATISTICS'] }));
    expect(clusters![0]).toMatchObject({ activeServicesCount: 1 });
    expect(clusters![0]!.statistics).toContainEqual({ name: 'activeEC2ServiceCount', value: '1' });
    const refused = await failure(api.ecs.send(new DeleteClusterCommand({ cluster: 'with-service' })));
    expect(refused).toMatchObject({ name: 'ClusterContainsServicesException', message: 'The Cluster cannot be deleted while Services are active.' });
    await api.ecs.send(new DeleteServiceCommand({ cluster: 'with-service', service: 's' }));
    await expect
      .poll(async () => (await api.ecs.send(new DescribeServicesCommand({ cluster: 'with-service', services: ['s'] }))).services![0]!.status, { timeout: 5_000 })
      .toBe('INACTIVE');
    expect((await api.ecs.send(new DeleteClusterCommand({ cluster: 'with-service' }))).cluster!.status).toBe('INACTIVE');
  });

  it("keeps a task definition a service uses when it is deleted, while one nobody uses goes", async () => {
    const register = async (family: string) =>
      (await api.ecs.send(new RegisterTaskDefinitionCommand({ family, containerDefinitions: [{ name: 'a', image: 'busybox', memory: 8 }] }))).taskDefinition!
        .taskDefinitionArn!;
    const used = await register('kept-by-service');
    const unused = await register('used-by-nobody');
    await create({ serviceName: 'keeper', taskDefinition: used });
    for (const arn of [used, unused]) await api.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
    await api.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [used, unused] }));
    // The reaper has looked once the unused one is gone; the used one must still be there.
    await expect.poll(() => failure(api.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: unused }))).then((e) => e.name), { timeout: 5_000 }).toBe('ClientException');
    const { taskDefinition } = await api.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: used }));
    expect(taskDefinition!.status).toBe('DELETE_IN_PROGRESS');
  });
});
