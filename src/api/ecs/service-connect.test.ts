/**
 * Service Connect through the ECS API with the SDK: namespaces made and resolved, ECS's refusals (the error
 * shape, the field named, nothing created), the deployment's configuration and resources, UpdateService,
 * ListServicesByNamespace.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ListServicesByNamespaceCommand,
  RegisterTaskDefinitionCommand,
  UpdateClusterCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { CreateHttpNamespaceCommand, ListNamespacesCommand, ListServicesCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_KEYS, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';
import { finishedOperation } from '../../testing/cloud-map-operations.js';

let api: ApiFixture;
let sd: ServiceDiscoveryClient;
let nsArn: string;

const sc = (extra: object = {}) => ({ enabled: true, services: [{ portName: 'http', clientAliases: [{ port: 8080, dnsName: 'backend' }] }], ...extra });

beforeAll(async () => {
  api = await startApiFixture();
  sd = new ServiceDiscoveryClient({ endpoint: api.server.url, region: TEST_REGION, credentials: TEST_KEYS, maxAttempts: 1, disableHostPrefix: true });
  const op = await sd.send(new CreateHttpNamespaceCommand({ Name: 'apps' }));
  const nsId = (await finishedOperation(sd, op.OperationId!)).Targets!.NAMESPACE!;
  nsArn = `arn:aws:servicediscovery:${TEST_REGION}:123456789012:namespace/${nsId}`;
  await api.ecs.send(new CreateClusterCommand({ clusterName: 'sc' }));
  for (const port of [80, 81]) {
    await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', networkMode: 'bridge', containerDefinitions: [{ name: 'web', image: 'busybox', memory: 64, portMappings: [{ name: port === 80 ? 'http' : 'other', containerPort: port }] }] }));
  }
});
afterAll(async () => {
  sd?.destroy();
  await api?.stop();
});

describe('Service Connect in the ECS API', () => {
  it('refuses, naming the field, and creates nothing: unknown namespace, no namespace and no cluster default, unknown portName', async () => {
    const cases: [object, RegExp][] = [
      [sc({ namespace: 'nope' }), /serviceConnectConfiguration\.namespace: the Cloud Map namespace nope was not found/],
      [sc(), /serviceConnectConfiguration\.namespace: .*no serviceConnectDefaults namespace/],
      [sc({ namespace: 'apps', services: [{ portName: 'web', clientAliases: [{ port: 8080 }] }] }), /services\[0\]\.portName 'web' does not match/],
      [{ namespace: 'apps' }, /serviceConnectConfiguration\.enabled/],
    ];
    for (const [config, message] of cases) {
      const e = await failure(api.ecs.send(new CreateServiceCommand({ cluster: 'sc', serviceName: 'bad', taskDefinition: 'web:1', desiredCount: 0, serviceConnectConfiguration: config as never })));
      expect(e, JSON.stringify(config)).toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(message) });
    }
    expect((await api.ecs.send(new DescribeServicesCommand({ cluster: 'sc', services: ['bad'] }))).services).toEqual([]);
    expect((await sd.send(new ListServicesCommand({}))).Services ?? []).toEqual([]);
  });

  it('keeps the configuration on the deployment (namespace ARN, defaults) with the Cloud Map service it made', async () => {
    const s = (await api.ecs.send(new CreateServiceCommand({ cluster: 'sc', serviceName: 'backend', taskDefinition: 'web:1', desiredCount: 0, serviceConnectConfiguration: sc({ namespace: 'apps' }) }))).service!;
    expect(s.deployments![0]!.serviceConnectConfiguration).toEqual({ enabled: true, namespace: nsArn, services: [{ portName: 'http', discoveryName: 'http', clientAliases: [{ port: 8080, dnsName: 'backend' }] }] });
    const made = (await sd.send(new ListServicesCommand({}))).Services!;
    expect(made.map((m) => m.Name)).toEqual(['http']);
    expect(s.deployments![0]!.serviceConnectResources).toEqual([{ discoveryName: 'http', discoveryArn: made[0]!.Arn }]);
  });

  it('UpdateService: a new task definition keeps the configuration and checks its port names again', async () => {
    const e = await failure(api.ecs.send(new UpdateServiceCommand({ cluster: 'sc', service: 'backend', taskDefinition: 'web:2' })));
    expect(e).toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(/portName 'http' does not match/) });
    const updated = (await api.ecs.send(new UpdateServiceCommand({ cluster: 'sc', service: 'backend', serviceConnectConfiguration: { enabled: true, namespace: 'apps', services: [{ portName: 'http', discoveryName: 'backend', clientAliases: [{ port: 9090 }] }] } }))).service!;
    expect(updated.deployments).toHaveLength(2);
    expect(updated.deployments![0]!.serviceConnectConfiguration!.services![0]!.clientAliases).toEqual([{ port: 9090, dnsName: 'backend.apps' }]);
  });

  it("a cluster's default namespace: a new name makes an HTTP namespace, kept as its ARN; services use it", async () => {
    const c = (await api.ecs.send(new UpdateClusterCommand({ cluster: 'sc', serviceConnectDefaults: { namespace: 'made-by-ecs' } }))).cluster!;
    const made = (await sd.send(new ListNamespacesCommand({}))).Namespaces!.find((n) => n.Name === 'made-by-ecs')!;
    expect(made.Type).toBe('HTTP');
    expect(c.serviceConnectDefaults).toEqual({ namespace: made.Arn });
    const s = (await api.ecs.send(new CreateServiceCommand({ cluster: 'sc', serviceName: 'client', taskDefinition: 'web:1', desiredCount: 0, serviceConnectConfiguration: { enabled: true } }))).service!;
    expect(s.deployments![0]!.serviceConnectConfiguration).toEqual({ enabled: true, namespace: made.Arn, services: [] });
  });

  it('ListServicesByNamespace: by name or ARN, paginated; unknown namespaces are NamespaceNotFoundException', async () => {
    await api.ecs.send(new CreateServiceCommand({ cluster: 'sc', serviceName: 'second', taskDefinition: 'web:1', desiredCount: 0, serviceConnectConfiguration: sc({ namespace: nsArn, services: [] }) }));
    const first = await api.ecs.send(new ListServicesByNamespaceCommand({ namespace: 'apps', maxResults: 1 }));
    expect(first.serviceArns).toHaveLength(1);
    const second = await api.ecs.send(new ListServicesByNamespaceCommand({ namespace: nsArn, maxResults: 1, nextToken: first.nextToken! }));
    expect([...first.serviceArns!, ...second.serviceArns!].map((a) => a.split('/').at(-1))).toEqual(['backend', 'second']);
    expect(second.nextToken).toBeUndefined();
    const e = await failure(api.ecs.send(new ListServicesByNamespaceCommand({ namespace: 'nowhere' })));
    expect(e).toMatchObject({ name: 'NamespaceNotFoundException', message: 'Failed to retrieve namespace for nowhere' });
  });
});
