import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeregisterContainerInstanceCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  DeleteServiceCommand,
  ListTasksCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeAgentDir, startFakeAgent, untilConnected, type FakeAgent } from '../../testing/fake-agents.js';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';

/**
 * Answers as ECS gives them, found different by clients (issue 11): Describe* failures and empty lists,
 * RegisterContainerInstance without totalResources, a task's overrides and tags, and ECS's wording.
 * An in-process agent with fake runtime parts runs the tasks.
 */
const prefix = `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}`;
const ID = '0123456789abcdef0123456789abcdef';

let api: ApiFixture;
let fake: FakeAgent;
beforeAll(async () => {
  api = await startApiFixture({ heartbeatMs: 200 });
  fake = await startFakeAgent(api.server.url, { cpuUnits: 2048, memoryMib: 2048 });
  await untilConnected(api.ecs, [fake]);
  await api.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'pair',
      containerDefinitions: [
        { name: 'web', image: 'busybox', memory: 32, command: ['sleep', '600'] },
        { name: 'side', image: 'busybox', memory: 32, command: ['sleep', '600'] },
      ],
    }),
  );
});
afterAll(async () => {
  await fake?.stop();
  if (fake) removeAgentDir(fake);
  await api?.stop();
});

describe('Describe* failures name an unknown resource as ECS does, with reason MISSING', () => {
  it('DescribeServices: the short service ARN without the cluster for a name, an ARN as given', async () => {
    const given = `${prefix}:service/default/also-ghost`;
    const { failures } = await api.ecs.send(new DescribeServicesCommand({ services: ['ghost', given] }));
    expect(failures).toEqual([
      { arn: `${prefix}:service/ghost`, reason: 'MISSING' },
      { arn: given, reason: 'MISSING' },
    ]);
  });

  it('DescribeTasks: task/<id> for an id, an ARN as given', async () => {
    const given = `${prefix}:task/default/${ID}`;
    const { failures } = await api.ecs.send(new DescribeTasksCommand({ tasks: [ID, given, 'not-an-id'] }));
    expect(failures).toEqual([
      { arn: `${prefix}:task/${ID}`, reason: 'MISSING' },
      { arn: given, reason: 'MISSING' },
      { arn: `${prefix}:task/not-an-id`, reason: 'MISSING' },
    ]);
  });

  it('DescribeContainerInstances and UpdateContainerInstancesState: container-instance/<id>', async () => {
    const described = await api.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: [ID] }));
    expect(described.failures).toEqual([{ arn: `${prefix}:container-instance/${ID}`, reason: 'MISSING' }]);
    const updated = await api.ecs.send(new UpdateContainerInstancesStateCommand({ containerInstances: [ID], status: 'ACTIVE' }));
    expect(updated.failures).toEqual([{ arn: `${prefix}:container-instance/${ID}`, reason: 'MISSING' }]);
  });

  it('DescribeClusters: cluster/<name>', async () => {
    const { failures } = await api.ecs.send(new DescribeClustersCommand({ clusters: ['nowhere'] }));
    expect(failures).toEqual([{ arn: `${prefix}:cluster/nowhere`, reason: 'MISSING' }]);
  });
});

describe('Describe* refuse an empty list as ECS does', () => {
  it.each([
    ['DescribeContainerInstances', () => new DescribeContainerInstancesCommand({ containerInstances: [] }), 'ClientException', 'Container Instances cannot be empty.'],
    ['DescribeTasks', () => new DescribeTasksCommand({ tasks: [] }), 'InvalidParameterException', 'Tasks cannot be empty.'],
    ['DescribeServices', () => new DescribeServicesCommand({ services: [] }), 'InvalidParameterException', 'Services cannot be empty.'],
  ] as const)('%s', async (_action, command, name, message) => {
    expect(await failure(api.ecs.send(command() as never))).toEqual({ name, message, status: 400 });
  });

  it('DescribeClusters with none describes `default`, as ECS does', async () => {
    await api.ecs.send(new CreateClusterCommand({}));
    const { clusters } = await api.ecs.send(new DescribeClustersCommand({ clusters: [] }));
    expect(clusters?.map((c) => c.clusterName)).toEqual(['default']);
  });

  it('an unknown cluster is still ClusterNotFoundException before the list is looked at', async () => {
    const e = await failure(api.ecs.send(new DescribeTasksCommand({ cluster: 'nowhere', tasks: [] })));
    expect(e).toMatchObject({ name: 'ClusterNotFoundException', message: 'Cluster not found.' });
  });
});

describe("a task's overrides and tags", () => {
  it('lists { name } for every container in overrides.containerOverrides, keeping the overrides given', async () => {
    const { tasks } = await api.ecs.send(
      new RunTaskCommand({ taskDefinition: 'pair', overrides: { containerOverrides: [{ name: 'side', environment: [{ name: 'A', value: '1' }] }] }, tags: [{ key: 'team', value: 'a' }] }),
    );
    const expected = { containerOverrides: [{ name: 'web' }, { name: 'side', environment: [{ name: 'A', value: '1' }] }], inferenceAcceleratorOverrides: [] };
    expect(tasks?.[0]?.overrides).toEqual(expected);
    const arn = tasks![0]!.taskArn!;
    const plain = await api.ecs.send(new DescribeTasksCommand({ tasks: [arn] }));
    expect(plain.tasks?.[0]?.overrides).toEqual(expected);
    // ECS leaves tags out unless asked for with include: TAGS.
    expect(plain.tasks?.[0]).not.toHaveProperty('tags');
    const withTags = await api.ecs.send(new DescribeTasksCommand({ tasks: [arn], include: ['TAGS'] }));
    expect(withTags.tasks?.[0]?.tags).toEqual([{ key: 'team', value: 'a' }]);
    await api.ecs.send(new StopTaskCommand({ task: arn }));
  });

  it('DescribeContainerInstances, DescribeServices and DescribeClusters leave tags out unless asked for too', async () => {
    const plain = await api.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: [fake.instanceId] }));
    expect(plain.containerInstances?.[0]).not.toHaveProperty('tags');
    const asked = await api.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: [fake.instanceId], include: ['TAGS'] }));
    expect(asked.containerInstances?.[0]?.tags).toEqual([]);
    const clusters = await api.ecs.send(new DescribeClustersCommand({ clusters: ['default'] }));
    expect(clusters.clusters?.[0]).not.toHaveProperty('tags');
  });

  it('a service task lists every container too', async () => {
    await api.ecs.send(new CreateServiceCommand({ serviceName: 'pairs', taskDefinition: 'pair', desiredCount: 1 }));
    await expect.poll(async () => (await api.ecs.send(new ListTasksCommand({ serviceName: 'pairs' }))).taskArns?.length, { timeout: 10_000 }).toBe(1);
    const [arn] = (await api.ecs.send(new ListTasksCommand({ serviceName: 'pairs' }))).taskArns!;
    const { tasks } = await api.ecs.send(new DescribeTasksCommand({ tasks: [arn!] }));
    expect(tasks?.[0]?.overrides?.containerOverrides).toEqual([{ name: 'web' }, { name: 'side' }]);
    expect((await api.ecs.send(new DescribeServicesCommand({ services: ['pairs'] }))).services?.[0]).not.toHaveProperty('tags');
    await api.ecs.send(new DeleteServiceCommand({ service: 'pairs', force: true }));
  });
});

describe('DeregisterContainerInstance', () => {
  it("refuses an instance with running tasks in ECS's words, and changes nothing", async () => {
    const { tasks } = await api.ecs.send(new RunTaskCommand({ taskDefinition: 'pair' }));
    const arn = tasks![0]!.taskArn!;
    await expect.poll(async () => (await api.ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks?.[0]?.lastStatus, { timeout: 10_000 }).toBe('RUNNING');
    const e = await failure(api.ecs.send(new DeregisterContainerInstanceCommand({ containerInstance: fake.running.containerInstanceArn })));
    expect(e).toEqual({ name: 'InvalidParameterException', message: 'Found running tasks on the instance.', status: 400 });
    const { containerInstances } = await api.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: [fake.instanceId] }));
    expect(containerInstances?.[0]?.status).toBe('ACTIVE');
    await api.ecs.send(new StopTaskCommand({ task: arn }));
  });
});

describe('RegisterContainerInstance', () => {
  const doc = (members: object) => JSON.stringify({ region: TEST_REGION, ...members });
  const resource = (resources: { name?: string; integerValue?: number }[] | undefined, name: string) =>
    resources?.find((r) => r.name === name)?.integerValue;
  const attribute = (attributes: { name?: string; value?: string }[] | undefined, name: string) =>
    attributes?.find((a) => a.name === name)?.value;

  beforeAll(async () => {
    await api.ecs.send(new CreateClusterCommand({ clusterName: 'registered' }));
  });

  it('takes resources from the instance type without totalResources, and attributes from the identity document', async () => {
    const { containerInstance } = await api.ecs.send(
      new RegisterContainerInstanceCommand({
        cluster: 'registered',
        instanceIdentityDocument: doc({ instanceId: 'i-0aaa', instanceType: 't3.medium', imageId: 'ami-0abc', availabilityZone: 'us-east-1b' }),
      }),
    );
    expect(resource(containerInstance?.registeredResources, 'CPU')).toBe(2048);
    expect(resource(containerInstance?.registeredResources, 'MEMORY')).toBe(4096);
    expect(containerInstance?.attributes).toEqual(
      expect.arrayContaining([
        { name: 'ecs.ami-id', value: 'ami-0abc' },
        { name: 'ecs.availability-zone', value: 'us-east-1b' },
        { name: 'ecs.instance-type', value: 't3.medium' },
        { name: 'ecs.os-type', value: 'linux' },
      ]),
    );
    // What the instance reports later replaces them; a registration without totalResources keeps them.
    const arn = containerInstance!.containerInstanceArn!;
    const cpu = (n: number) => [{ name: 'CPU', type: 'INTEGER', integerValue: n }, { name: 'MEMORY', type: 'INTEGER', integerValue: 1000 }];
    const reported = await api.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'registered', containerInstanceArn: arn, totalResources: cpu(1536) }));
    expect(resource(reported.containerInstance?.registeredResources, 'CPU')).toBe(1536);
    const again = await api.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'registered', containerInstanceArn: arn }));
    expect(again.containerInstance?.containerInstanceArn).toBe(arn);
    expect(resource(again.containerInstance?.registeredResources, 'MEMORY')).toBe(1000);
  });

  it('registers an instance of an unknown type, or without a document, with no CPU or memory', async () => {
    const unknownType = await api.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'registered', instanceIdentityDocument: doc({ instanceType: 'x9.huge' }) }));
    expect(resource(unknownType.containerInstance?.registeredResources, 'CPU')).toBe(0);
    expect(attribute(unknownType.containerInstance?.attributes, 'ecs.instance-type')).toBe('x9.huge');
    const bare = await api.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'registered' }));
    expect(resource(bare.containerInstance?.registeredResources, 'MEMORY')).toBe(0);
    expect(bare.containerInstance?.attributes).toEqual([]);
  });

  it('keeps an attribute the caller reported over the derived one', async () => {
    const { containerInstance } = await api.ecs.send(
      new RegisterContainerInstanceCommand({
        cluster: 'registered',
        instanceIdentityDocument: doc({ instanceType: 't3.small' }),
        attributes: [{ name: 'ecs.instance-type', value: 'berth.local' }],
      }),
    );
    expect(containerInstance?.attributes?.filter((a) => a.name === 'ecs.instance-type')).toEqual([{ name: 'ecs.instance-type', value: 'berth.local' }]);
  });

  it.each([
    ['a document that is not an object', { instanceIdentityDocument: '[1]' }, /instanceIdentityDocument must be a JSON object/],
    ['a document member of the wrong type', { instanceIdentityDocument: '{"instanceType":5}' }, /instanceIdentityDocument\.instanceType must be a string/],
    ['totalResources without CPU', { totalResources: [{ name: 'MEMORY', type: 'INTEGER', integerValue: 10 }] }, /totalResources/],
  ])('refuses %s', async (_label, input, message) => {
    const e = await failure(api.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'registered', ...input })));
    expect(e.name).toBe('InvalidParameterException');
    expect(e.message).toMatch(message);
  });
});
