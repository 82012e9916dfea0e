import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type CreateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { CreatePrivateDnsNamespaceCommand, CreateServiceCommand as CreateSdServiceCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_KEYS, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';
import { finishedOperation } from '../../testing/cloud-map-operations.js';

/** `serviceRegistries` on CreateService/UpdateService through the SDK: what ECS refuses (and with which words), what it stores. */
let api: ApiFixture;
let sd: ServiceDiscoveryClient;
const cluster = 'sd-api';
let srvA = '';
let srvSrv = '';
let srvBoth = '';

beforeAll(async () => {
  api = await startApiFixture();
  sd = new ServiceDiscoveryClient({ endpoint: api.server.url, region: TEST_REGION, credentials: TEST_KEYS, disableHostPrefix: true, maxAttempts: 1 });
  await api.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const port = { portMappings: [{ containerPort: 80 }] };
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'bridge', containerDefinitions: [{ name: 'web', image: 'busybox', memory: 64, ...port }] }));
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'vpc', networkMode: 'awsvpc', containerDefinitions: [{ name: 'web', image: 'busybox', memory: 64, ...port }] }));
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'hostnet', networkMode: 'host', containerDefinitions: [{ name: 'web', image: 'busybox', memory: 64, ...port }] }));
  const op = await sd.send(new CreatePrivateDnsNamespaceCommand({ Name: 'sd-api.internal', Vpc: 'vpc-1' }));
  const ns = (await finishedOperation(sd, op.OperationId!)).Targets!.NAMESPACE!;
  const make = async (Name: string, types: ('A' | 'SRV')[]) =>
    (await sd.send(new CreateSdServiceCommand({ Name, NamespaceId: ns, DnsConfig: { DnsRecords: types.map((Type) => ({ Type, TTL: 10 })) } }))).Service!.Arn!;
  srvA = await make('a-only', ['A']);
  srvSrv = await make('srv-only', ['SRV']);
  srvBoth = await make('both', ['A', 'SRV']);
});
afterAll(async () => {
  sd.destroy();
  await api.stop();
});

let n = 0;
const create = (input: Partial<CreateServiceCommandInput>) =>
  api.ecs.send(new CreateServiceCommand({ cluster, serviceName: `s${n++}`, taskDefinition: 'bridge:1', desiredCount: 0, ...input }));
const awsvpc = { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } } };

describe('serviceRegistries', () => {
  it('stores a bridge service with an SRV registry, container name and port', async () => {
    const entry = { registryArn: srvSrv, containerName: 'web', containerPort: 80 };
    const { service } = await create({ serviceName: 'bridge-ok', serviceRegistries: [entry] });
    expect(service!.serviceRegistries).toEqual([entry]);
    const described = (await api.ecs.send(new DescribeServicesCommand({ cluster, services: ['bridge-ok'] }))).services![0]!;
    expect(described.serviceRegistries).toEqual([entry]);
  });

  it('stores an awsvpc service with an A registry and nothing else, and one with A+SRV and a port', async () => {
    expect((await create({ taskDefinition: 'vpc:1', ...awsvpc, serviceRegistries: [{ registryArn: srvA }] })).service!.serviceRegistries).toEqual([{ registryArn: srvA }]);
    expect((await create({ taskDefinition: 'vpc:1', ...awsvpc, serviceRegistries: [{ registryArn: srvBoth, port: 8080 }] })).service!.serviceRegistries).toEqual([
      { registryArn: srvBoth, port: 8080 },
    ]);
    // host networking: the host's address is the task's, so A records go too (with a container and port).
    expect((await create({ taskDefinition: 'hostnet:1', serviceRegistries: [{ registryArn: srvBoth, containerName: 'web', containerPort: 80 }] })).service).toBeDefined();
  });

  it.each([
    ['two registries', () => [{ registryArn: srvSrv, containerName: 'web', containerPort: 80 }, { registryArn: srvSrv, containerName: 'web', containerPort: 80 }], 'bridge:1', /only one service registry/],
    ['a missing registry', () => [{ registryArn: srvSrv.replace(/srv-[a-z0-9]+$/, 'srv-doesnotexist0'), containerName: 'web', containerPort: 80 }], 'bridge:1', /does not exist/],
    ['no registryArn', () => [{ containerName: 'web', containerPort: 80 }], 'bridge:1', /registryArn/],
    ['bridge without a container', () => [{ registryArn: srvSrv }], 'bridge:1', /When specifying 'host' or 'bridge' for networkMode, values for 'containerName' and 'containerPort' must be specified/],
    ['bridge with A records', () => [{ registryArn: srvBoth, containerName: 'web', containerPort: 80 }], 'bridge:1', /A DNS record, which is not supported with the bridge network mode/],
    ['a container that is not there', () => [{ registryArn: srvSrv, containerName: 'nope', containerPort: 80 }], 'bridge:1', /The container nope does not exist in the task definition/],
    ['a port the container does not map', () => [{ registryArn: srvSrv, containerName: 'web', containerPort: 81 }], 'bridge:1', /did not have a container port 81 defined/],
    ['containerName without containerPort', () => [{ registryArn: srvSrv, containerName: 'web' }], 'bridge:1', /go together/],
    ['awsvpc SRV without a port', () => [{ registryArn: srvSrv }], 'vpc:1', /has an SRV DNS record: specify either 'port' or 'containerName' and 'containerPort'/],
    ['port and container both', () => [{ registryArn: srvSrv, port: 80, containerName: 'web', containerPort: 80 }], 'vpc:1', /either 'port' or 'containerName' and 'containerPort', not both/],
    ['awsvpc A-only with containerPort', () => [{ registryArn: srvA, containerName: 'web', containerPort: 80 }], 'vpc:1', /do not require a value for 'containerPort'/],
    ['awsvpc A-only with port', () => [{ registryArn: srvA, port: 80 }], 'vpc:1', /do not require a value for 'port'/],
    ['a port out of range', () => [{ registryArn: srvSrv, port: 70000 }], 'vpc:1', /serviceRegistries.port: 70000/],
  ])('refuses %s (InvalidParameterException), creating nothing', async (_what, entries, td, message) => {
    const name = `refused${n++}`;
    const err = await failure(create({ serviceName: name, taskDefinition: td, ...(td.startsWith('vpc') ? awsvpc : {}), serviceRegistries: entries() }));
    expect(err).toMatchObject({ name: 'InvalidParameterException', status: 400 });
    expect(err.message).toMatch(message);
    const { services, failures } = await api.ecs.send(new DescribeServicesCommand({ cluster, services: [name] }));
    expect(services).toEqual([]);
    expect(failures![0]!.reason).toBe('MISSING');
  });

  it('UpdateService changes the registry with a new deployment and remembers the old one for deregistration; checks it first', async () => {
    const first = { registryArn: srvSrv, containerName: 'web', containerPort: 80 };
    await create({ serviceName: 'moving', serviceRegistries: [first] });
    const refused = await failure(api.ecs.send(new UpdateServiceCommand({ cluster, service: 'moving', serviceRegistries: [{ registryArn: srvBoth, containerName: 'web', containerPort: 80 }] })));
    expect(refused.message).toMatch(/not supported with the bridge network mode/);
    const before = (await api.ecs.send(new DescribeServicesCommand({ cluster, services: ['moving'] }))).services![0]!;
    expect(before.serviceRegistries).toEqual([first]);
    const { service } = await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'moving', serviceRegistries: [] }));
    expect(service!.serviceRegistries).toEqual([]);
    expect(service!.deployments!.length).toBe(2);
    expect(service!.deployments![0]!.id).not.toBe(before.deployments![0]!.id);
    // A new task definition is checked against the registry the service keeps.
    await create({ serviceName: 'keeps', taskDefinition: 'vpc:1', ...awsvpc, serviceRegistries: [{ registryArn: srvA }] });
    const bridge = await failure(api.ecs.send(new UpdateServiceCommand({ cluster, service: 'keeps', taskDefinition: 'bridge:1' })));
    expect(bridge.message).toMatch(/When specifying 'host' or 'bridge' for networkMode/);
  });
});
