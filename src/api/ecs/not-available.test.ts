import {
  CreateClusterCommand,
  CreateDaemonCommand,
  CreateExpressGatewayServiceCommand,
  DescribeDaemonTaskDefinitionCommand,
  ListDaemonsCommand,
  ListDaemonTaskDefinitionsCommand,
  ListServicesByNamespaceCommand,
  RegisterContainerInstanceCommand,
  RegisterDaemonTaskDefinitionCommand,
  UpdateContainerAgentCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';

let api: ApiFixture;
beforeAll(async () => {
  api = await startApiFixture();
  await api.ecs.send(new CreateClusterCommand({ clusterName: 'na' }));
});
afterAll(() => api.stop());

const resources = [{ name: 'CPU', type: 'INTEGER', integerValue: 1024 }, { name: 'MEMORY', type: 'INTEGER', integerValue: 1024 }];

describe('actions whose part berth does not have', () => {
  it('managed daemons and Express Mode services answer UnsupportedFeatureException', async () => {
    for (const call of [
      api.ecs.send(new CreateDaemonCommand({ daemonName: 'd', clusterArn: 'na', daemonTaskDefinitionArn: 'x', capacityProviderArns: ['x'] })),
      api.ecs.send(new ListDaemonsCommand({})),
      api.ecs.send(new CreateExpressGatewayServiceCommand({ executionRoleArn: 'r', infrastructureRoleArn: 'r', primaryContainer: { image: 'busybox' } })),
    ]) {
      expect(await failure(call)).toMatchObject({ name: 'UnsupportedFeatureException', status: 400 });
    }
  });

  it('daemon task definitions: none to list or describe, and none can be registered', async () => {
    expect((await api.ecs.send(new ListDaemonTaskDefinitionsCommand({}))).daemonTaskDefinitions).toEqual([]);
    expect(await failure(api.ecs.send(new DescribeDaemonTaskDefinitionCommand({ daemonTaskDefinition: 'd:1' })))).toMatchObject({ name: 'ClientException' });
    const register = await failure(api.ecs.send(new RegisterDaemonTaskDefinitionCommand({ family: 'd', containerDefinitions: [{ name: 'a', image: 'busybox' }] })));
    expect(register).toMatchObject({ name: 'ClientException', message: expect.stringMatching(/Managed Instances/) });
  });

  it('ListServicesByNamespace finds no Cloud Map namespace', async () => {
    const e = await failure(api.ecs.send(new ListServicesByNamespaceCommand({ namespace: 'internal' })));
    expect(e).toMatchObject({ name: 'NamespaceNotFoundException', message: 'Failed to retrieve namespace for internal' });
  });

  it('UpdateContainerAgent: no update for a berth agent, a missing version for an instance that gave none', async () => {
    const withVersion = await api.ecs.send(
      new RegisterContainerInstanceCommand({ cluster: 'na', totalResources: resources, versionInfo: { agentVersion: '1.0.0', agentHash: 'berth' } }),
    );
    const e = await failure(api.ecs.send(new UpdateContainerAgentCommand({ cluster: 'na', containerInstance: withVersion.containerInstance!.containerInstanceArn! })));
    expect(e).toMatchObject({ name: 'NoUpdateAvailableException', message: expect.stringMatching(/version 1\.0\.0/) });
    const without = await api.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'na', totalResources: resources }));
    const missing = await failure(api.ecs.send(new UpdateContainerAgentCommand({ cluster: 'na', containerInstance: without.containerInstance!.containerInstanceArn! })));
    expect(missing).toMatchObject({ name: 'MissingVersionException' });
    expect(await failure(api.ecs.send(new UpdateContainerAgentCommand({ cluster: 'na', containerInstance: 'nope' })))).toMatchObject({
      name: 'InvalidParameterException',
    });
    expect(await failure(api.ecs.send(new UpdateContainerAgentCommand({ cluster: 'ghost', containerInstance: 'nope' })))).toMatchObject({
      name: 'ClusterNotFoundException',
    });
  });
});
