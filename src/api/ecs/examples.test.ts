import { readFileSync } from 'node:fs';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  PutAccountSettingCommand,
  RegisterTaskDefinitionCommand,
  StartTaskCommand,
  type ContainerDefinition,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServiceModel } from '../protocol/service-model.js';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { exampleMismatches, type ExampleRules } from '../../testing/example-shape.js';
import { removeAgentDir, startFakeAgent, untilConnected, type FakeAgent, type FakeAgentOptions } from '../../testing/fake-agents.js';

/**
 * Every example of the ECS model's examples file, sent to berth as its input says (names and ids mapped to
 * what the setup made), and the answer checked against the example's output: the same members at every level,
 * and the same values where they are not specific to one account or run (see src/testing/example-shape.ts).
 * Each example runs against its own fresh server, so lists hold exactly what its setup made.
 */

interface Example {
  readonly id: string;
  readonly input?: Record<string, unknown>;
  readonly output?: Record<string, unknown>;
}
const model = loadServiceModel('ecs-2014-11-13.json');
const examplesFile = JSON.parse(readFileSync(new URL('../../../models/ecs-2014-11-13.examples.json', import.meta.url), 'utf8')) as {
  examples: Record<string, Example[]>;
};
const examples = Object.entries(examplesFile.examples).flatMap(([operation, list]) => list.map((example) => ({ operation, ...example })));

/** What a case's setup works with; `ids` maps strings of the example (ids, names) to the fixture's. */
interface Context {
  readonly api: ApiFixture;
  readonly ids: Map<string, string>;
  agent(options?: FakeAgentOptions): Promise<FakeAgent>;
}

interface Case {
  readonly setup?: (c: Context) => Promise<void>;
  readonly rules?: Omit<ExampleRules, 'mapString'>;
  /** The example output made into what ECS answers today, when the example itself is out of date, and why. */
  readonly output?: { readonly why: string; readonly from: (example: any) => unknown };
}

/** Examples that cannot apply to berth, with the reason (docs/ecs-conformance.md). */
const notApplicable: Record<string, string> = {
  'to-create-a-new-service-behind-a-load-balancer-1472512484823':
    'a Classic Load Balancer (`loadBalancerName`): berth has ELBv2 target groups only and refuses Classic Load Balancers',
};

const PRINCIPAL_IS_CALLER = 'the caller here is the account root (the fixture\'s root keys), in the example an IAM user';

const container = (name: string, extra: Partial<ContainerDefinition> = {}): ContainerDefinition => ({ name, image: 'busybox', memory: 64, ...extra });
const register = (api: ApiFixture, input: Partial<RegisterTaskDefinitionCommandInput> & { family: string }) =>
  api.ecs.send(new RegisterTaskDefinitionCommand({ containerDefinitions: [container('app')], ...input }));
const registerTimes = async (api: ApiFixture, family: string, times: number) => {
  for (let i = 0; i < times; i++) await register(api, { family });
};
const defaultCluster = (api: ApiFixture) => api.ecs.send(new CreateClusterCommand({ clusterName: 'default' }));

/** Start `taskDefinition` on `agent` and wait until it runs; returns the task's id. */
async function runningTask(api: ApiFixture, agent: FakeAgent, taskDefinition: string): Promise<string> {
  const { tasks } = await api.ecs.send(new StartTaskCommand({ cluster: 'default', taskDefinition, containerInstances: [agent.running.containerInstanceArn] }));
  const arn = tasks![0]!.taskArn!;
  await untilRunning(api, arn);
  return arn.split('/').at(-1)!;
}
async function untilRunning(api: ApiFixture, taskArn: string): Promise<void> {
  await expect
    .poll(async () => (await api.ecs.send(new DescribeTasksCommand({ cluster: 'default', tasks: [taskArn] }))).tasks?.[0]?.lastStatus, { timeout: 10_000 })
    .toBe('RUNNING');
}

const accountSettings = async (api: ApiFixture, principalArn?: string) => {
  for (const [name, value] of [
    ['containerInstanceLongArnFormat', 'disabled'],
    ['serviceLongArnFormat', 'enabled'],
    ['taskLongArnFormat', 'disabled'],
  ] as const)
    await api.ecs.send(new PutAccountSettingCommand({ name, value, ...(principalArn ? { principalArn } : {}) }));
};
const principal = `arn:aws:iam::${TEST_ACCOUNT}:user/principalName`;

const cases: Record<string, Case> = {
  'to-create-a-new-cluster-1472514079365': {},
  'to-create-a-new-service-1472512584282': {
    async setup({ api }) {
      await defaultCluster(api);
      await registerTimes(api, 'hello_world', 6);
    },
    rules: { differs: { 'service.deployments[].id': 'a deployment id is made per deployment' } },
    output: {
      why: 'a service just created has one deployment; the example shows a second, ACTIVE one left from an earlier service of the same name',
      from: (o) => ({ service: { ...o.service, deployments: [o.service.deployments[0]] } }),
    },
  },
  'to-delete-the-account-setting-for-your-user-account-1549524548115': {
    async setup({ api }) {
      await api.ecs.send(new PutAccountSettingCommand({ name: 'serviceLongArnFormat', value: 'enabled' }));
    },
    rules: { differs: { 'setting.principalArn': PRINCIPAL_IS_CALLER } },
  },
  'to-delete-the-account-setting-for-a-specific-iam-user-or-iam-role-1549524612917': {
    async setup({ api }) {
      await api.ecs.send(new PutAccountSettingCommand({ name: 'containerInstanceLongArnFormat', value: 'enabled', principalArn: principal }));
    },
  },
  'to-delete-an-empty-cluster-1472512705352': {
    async setup({ api }) {
      await api.ecs.send(new CreateClusterCommand({ clusterName: 'my_cluster' }));
    },
  },
  'e8183e38-f86e-4390-b811-f74f30a6007d': {
    async setup({ api }) {
      await defaultCluster(api);
      await register(api, { family: 'web' });
      await api.ecs.send(new CreateServiceCommand({ serviceName: 'my-http-service', taskDefinition: 'web', desiredCount: 0 }));
    },
  },
  'bf624927-cf64-4f4b-8b7e-c024a4e682f6': {
    async setup(c) {
      await defaultCluster(c.api);
      c.ids.set('container_instance_UUID', (await c.agent()).instanceId);
    },
  },
  'ba88d100-9672-4231-80da-a4bd210bf728': { setup: ({ api }) => defaultCluster(api).then(() => undefined) },
  'c8f439de-eb27-4269-8ca7-2c0a7ba75ab0': {
    async setup(c) {
      await defaultCluster(c.api);
      const agent = await c.agent({ cpuUnits: 2048, memoryMib: 3768 });
      c.ids.set('f2756532-8f13-4d53-87c9-aed50dc94cd7', agent.instanceId);
      await register(c.api, { family: 'web', containerDefinitions: [container('web', { cpu: 100, memory: 100, portMappings: [{ containerPort: 80, hostPort: 80 }] })] });
      await runningTask(c.api, agent, 'web');
    },
    rules: {
      differs: { 'containerInstances[].ec2InstanceId': 'the host\'s own instance id' },
      // ECS lists PORTS_UDP too since 2017 (the example predates it): the example's resources are found by name.
      matchBy: { 'containerInstances[].registeredResources': 'name', 'containerInstances[].remainingResources': 'name' },
      superset: {
        'containerInstances[].registeredResources[].stringSetValue': 'the ports the agent reserves (ECS_RESERVED_PORTS): today 51679 too',
        'containerInstances[].remainingResources[].stringSetValue': 'the reserved ports and the task\'s port 80, as in the example',
      },
    },
  },
  'to-describe-a-service-1472513256350': {
    async setup(c) {
      await defaultCluster(c.api);
      const agent = await c.agent();
      c.ids.set('3f4de1c5-ffdd-4954-af7e-75b4be0c8841', agent.instanceId);
      const port80 = [container('web', { portMappings: [{ containerPort: 80, hostPort: 80 }] })];
      await register(c.api, { family: 'blocker', containerDefinitions: port80 });
      await runningTask(c.api, agent, 'blocker');
      await register(c.api, { family: 'hello_world', containerDefinitions: port80 });
      await c.api.ecs.send(new CreateServiceCommand({ serviceName: 'ecs-simple-service', taskDefinition: 'hello_world', desiredCount: 1 }));
      await expect
        .poll(async () => (await c.api.ecs.send(new DescribeServicesCommand({ services: ['ecs-simple-service'] }))).services?.[0]?.events?.length, {
          timeout: 10_000,
        })
        .toBe(1);
    },
    rules: { differs: { 'services[].deployments[].id': 'a deployment id is made per deployment', 'services[].events[].id': 'an event id is made per event' } },
  },
  '4c21eeb1-f1da-4a08-8c44-297fc8d0ea88': {
    async setup({ api }) {
      for (let i = 0; i < 8; i++)
        await register(api, {
          family: 'hello_world',
          containerDefinitions: [
            { name: 'wordpress', cpu: 10, essential: true, image: 'wordpress', links: ['mysql'], memory: 500, portMappings: [{ containerPort: 80, hostPort: 80 }] },
            { name: 'mysql', cpu: 10, essential: true, image: 'mysql', memory: 500, environment: [{ name: 'MYSQL_ROOT_PASSWORD', value: 'password' }] },
          ],
        });
    },
  },
  'a90b0cde-f965-4946-b55e-cfd8cc54e827': {
    async setup(c) {
      await defaultCluster(c.api);
      await c.agent({ images: ['amazon/amazon-ecs-sample'] });
      await register(c.api, {
        family: 'amazon-ecs-sample',
        containerDefinitions: [container('ecs-demo', { image: 'amazon/amazon-ecs-sample', portMappings: [{ containerPort: 80, hostPort: 80 }] })],
      });
      const { service } = await c.api.ecs.send(new CreateServiceCommand({ serviceName: 'demo', taskDefinition: 'amazon-ecs-sample', desiredCount: 1 }));
      c.ids.set('ecs-svc/9223370608528463088', service!.deployments![0]!.id!);
      await expect
        .poll(async () => (await c.api.ecs.send(new DescribeServicesCommand({ services: ['demo'] }))).services?.[0]?.runningCount, { timeout: 10_000 })
        .toBe(1);
      const taskArn = (await c.api.ecs.send(new ListTasksCommand({ serviceName: 'demo' }))).taskArns![0]!;
      c.ids.set('c5cba4eb-5dad-405e-96db-71ef8eefe6a8', taskArn.split('/').at(-1)!);
    },
  },
  'to-view-your-account-settings-1549524118170': {
    setup: ({ api }) => accountSettings(api),
    rules: { matchBy: { settings: 'name' }, differs: { 'settings[].principalArn': PRINCIPAL_IS_CALLER } },
  },
  'to-view-the-account-settings-for-a-specific-iam-user-or-iam-role-1549524237932': {
    setup: ({ api }) => accountSettings(api, principal),
    rules: { matchBy: { settings: 'name' } },
  },
  'e337d059-134f-4125-ba8e-4f499139facf': {
    async setup({ api }) {
      await api.ecs.send(new CreateClusterCommand({ clusterName: 'test' }));
      await defaultCluster(api);
    },
  },
  '62a82a94-713c-4e18-8420-1d2b2ba9d484': {
    async setup(c) {
      await defaultCluster(c.api);
      await c.agent();
      await c.agent();
    },
  },
  '1d9a8037-4e0e-4234-a528-609656809a3a': {
    async setup({ api }) {
      await defaultCluster(api);
      await register(api, { family: 'web' });
      await api.ecs.send(new CreateServiceCommand({ serviceName: 'my-http-service', taskDefinition: 'web', desiredCount: 0 }));
    },
  },
  'to-list-the-tags-for-a-cluster-1540582700259': {
    async setup({ api }) {
      await api.ecs.send(new CreateClusterCommand({ clusterName: 'dev', tags: [{ key: 'team', value: 'dev' }] }));
    },
  },
  'b5c89769-1d94-4ca2-a79e-8069103c7f75': {
    async setup({ api }) {
      for (const family of ['node-js-app', 'web-timer', 'hpcc', 'hpcc-c4-8xlarge']) await register(api, { family });
    },
    rules: { superset: { families: 'the order: ECS lists families in name order, the example does not' } },
  },
  '8a4cf9a6-42c1-4fe3-852d-99ac8968e11b': {
    async setup({ api }) {
      for (const family of ['node-js-app', 'web-timer', 'hpcc', 'hpcc-c4-8xlarge']) await register(api, { family });
    },
  },
  'b381ebaf-7eba-4d60-b99b-7f6ae49d3d60': { setup: ({ api }) => listedTaskDefinitions(api) },
  '734e7afd-753a-4bc2-85d0-badddce10910': { setup: ({ api }) => listedTaskDefinitions(api) },
  '9a6ec707-1a77-45d0-b2eb-516b5dd9e924': {
    async setup(c) {
      await defaultCluster(c.api);
      await register(c.api, { family: 'web' });
      const agent = await c.agent();
      await runningTask(c.api, agent, 'web');
      await runningTask(c.api, agent, 'web');
    },
  },
  '024bf3b7-9cbb-44e3-848f-9d074e1fecce': {
    async setup(c) {
      await defaultCluster(c.api);
      await register(c.api, { family: 'web' });
      const [one, other] = [await c.agent(), await c.agent()];
      c.ids.set('f6bbb147-5370-4ace-8c73-c7181ded911f', one.instanceId);
      await runningTask(c.api, one, 'web');
      await runningTask(c.api, other, 'web');
    },
  },
  'to-modify-the-account-settings-for-your-iam-user-account-1549523130939': { rules: { differs: { 'setting.principalArn': PRINCIPAL_IS_CALLER } } },
  'to-modify-the-account-settings-for-a-specific-iam-user-or-iam-role-1549523518390': {},
  'to-modify-the-default-account-settings-for-all-iam-users-or-roles-on-your-account-1549523794603': {},
  'to-register-a-task-definition-1470764550877': {},
  '6f238c83-a133-42cd-ab3d-abeca0560445': {
    async setup(c) {
      await defaultCluster(c.api);
      await c.agent();
      await register(c.api, { family: 'sleep360', containerDefinitions: [container('sleep', { command: ['sleep', '360'] })] });
    },
  },
  'to-tag-a-cluster-1540581863751': { setup: ({ api }) => api.ecs.send(new CreateClusterCommand({ clusterName: 'dev' })).then(() => undefined) },
  'to-untag-a-cluster-1540582546056': {
    setup: ({ api }) => api.ecs.send(new CreateClusterCommand({ clusterName: 'dev', tags: [{ key: 'team', value: 'dev' }] })).then(() => undefined),
  },
  'cc9e8900-0cc2-44d2-8491-64d1d3d37887': {
    async setup({ api }) {
      await defaultCluster(api);
      await registerTimes(api, 'amazon-ecs-sample', 2);
      await api.ecs.send(new CreateServiceCommand({ serviceName: 'my-http-service', taskDefinition: 'amazon-ecs-sample:1', desiredCount: 0 }));
    },
  },
  '9581d6c5-02e3-4140-8cc1-5a4301586633': {
    async setup({ api }) {
      await defaultCluster(api);
      await register(api, { family: 'web' });
      await api.ecs.send(new CreateServiceCommand({ serviceName: 'my-http-service', taskDefinition: 'web', desiredCount: 1 }));
    },
  },
};

/** sleep300:2, sleep360:1 and wordpress:3-6 active, as the example lists them (the others deregistered). */
async function listedTaskDefinitions(api: ApiFixture): Promise<void> {
  await registerTimes(api, 'sleep300', 2);
  await registerTimes(api, 'sleep360', 1);
  await registerTimes(api, 'wordpress', 6);
  for (const gone of ['sleep300:1', 'wordpress:1', 'wordpress:2']) await api.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: gone }));
}

/** An example's string as it reads for the fixture: its account, its region, and the ids the setup made. */
function mapper(ids: ReadonlyMap<string, string>): (s: string) => string {
  return (s) => {
    let out = s.replaceAll('<aws_account_id>', TEST_ACCOUNT).replaceAll('aws_account_id', TEST_ACCOUNT).replaceAll('012345678910', TEST_ACCOUNT);
    if (out.startsWith('arn:')) {
      const parts = out.split(':');
      if (parts[3] === 'region' || parts[3] === '<region>') parts[3] = TEST_REGION;
      out = parts.join(':');
    }
    for (const [from, to] of ids) out = out.replaceAll(from, to);
    return out;
  };
}
const mapDeep = (value: unknown, map: (s: string) => string): unknown =>
  typeof value === 'string'
    ? map(value)
    : Array.isArray(value)
      ? value.map((v) => mapDeep(v, map))
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapDeep(v, map)]))
        : value;

describe('the examples file of the ECS model', () => {
  it('has every example either checked here or listed as not applicable, and nothing else', () => {
    const ids = examples.map((e) => e.id);
    expect(ids.filter((id) => !Object.hasOwn(cases, id) && !Object.hasOwn(notApplicable, id))).toEqual([]);
    expect([...Object.keys(cases), ...Object.keys(notApplicable)].filter((id) => !ids.includes(id))).toEqual([]);
    expect(Object.keys(cases).filter((id) => Object.hasOwn(notApplicable, id))).toEqual([]);
  });

  let api: ApiFixture | undefined;
  const agents: FakeAgent[] = [];
  afterEach(async () => {
    for (const a of agents) await a.stop();
    await api?.stop();
    for (const a of agents.splice(0)) removeAgentDir(a);
    api = undefined;
  });

  it.each(examples.filter((e) => Object.hasOwn(cases, e.id)))('$operation: $id', async (example) => {
    const spec = cases[example.id]!;
    const fixture = (api = await startApiFixture({ heartbeatMs: 200, agentSilenceMs: 1_000, serviceResyncMs: 1_000 }));
    const ids = new Map<string, string>();
    await spec.setup?.({
      api: fixture,
      ids,
      async agent(options) {
        const agent = await startFakeAgent(fixture.server.url, { cluster: 'default', ...options });
        agents.push(agent);
        await untilConnected(fixture.ecs, [agent], 'default');
        return agent;
      },
    });
    const map = mapper(ids);
    const input = mapDeep(example.input ?? {}, map);
    const res = await fixture.raw({ target: `AmazonEC2ContainerServiceV20141113.${example.operation}`, body: JSON.stringify(input) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const output = spec.output ? spec.output.from(structuredClone(example.output ?? {})) : (example.output ?? {});
    const operation = model.operations[example.operation]!;
    expect(exampleMismatches(model, operation.output!.shape, output, res.body, { ...spec.rules, mapString: map })).toEqual([]);
  });
});
