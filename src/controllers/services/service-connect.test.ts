import { describe, expect, it } from 'vitest';
import { CloudMapCatalog } from '../../cloudmap/catalog.js';
import { ecsRegistrar } from '../../state/records/cloudmap.js';
import type { InstanceRecord } from '../../state/records/instances.js';
import { MemoryStore } from '../../store/memory.js';
import type { ServiceRecord } from '../../state/records/services.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import { instancesFor, syncServiceConnectInstances } from './service-connect.js';

const td = 'arn:aws:ecs:us-east-1:000000000000:task-definition/backend:2';
const srv = 'arn:aws:servicediscovery:us-east-1:000000000000:service/srv-1';
const record = {
  serviceName: 'backend',
  serviceArn: 'arn:aws:ecs:us-east-1:000000000000:service/c1/backend',
  berth: { cluster: 'c1' },
  deployments: [
    {
      id: 'ecs-svc/1',
      status: 'PRIMARY',
      serviceConnectConfiguration: { enabled: true, namespace: 'ns', services: [{ portName: 'http', discoveryName: 'backend', clientAliases: [] }] },
      serviceConnectResources: [{ discoveryName: 'backend', discoveryArn: srv }],
    },
  ],
} as unknown as ServiceRecord;
const hosts = new Map([['i-1', { instance: { attributes: [{ name: 'berth.host-address', value: '10.0.0.11' }] } } as unknown as InstanceRecord]]);
const portOf = (arn: string, name: string) => (arn === td && name === 'http' ? { container: 'web', containerPort: 80 } : undefined);
const task = (id: string, over: Record<string, unknown> = {}) =>
  ({
    cluster: 'c1',
    id,
    instanceId: 'i-1',
    task: { lastStatus: 'RUNNING', desiredStatus: 'RUNNING', startedBy: 'ecs-svc/1', taskDefinitionArn: td, availabilityZone: 'az-a', containers: [{ name: 'web', networkBindings: [{ containerPort: 80, hostPort: 32000 }] }], ...over },
  }) as unknown as TaskRecord;

describe('instancesFor', () => {
  it('serving tasks are instances of the discoveryName service with ECS attributes (bridge: host address and host port)', () => {
    const plan = instancesFor(record, [task('t1'), task('t2', { desiredStatus: 'STOPPED' }), task('t3', { healthStatus: 'UNHEALTHY' }), task('t4', { lastStatus: 'PENDING' })], hosts, portOf, 'us-east-1');
    expect(plan.services).toEqual([srv]);
    expect(plan.owner).toEqual({ cluster: 'c1', service: 'backend', serviceArn: record.serviceArn });
    expect(plan.wanted).toEqual([
      {
        serviceArn: srv,
        instanceId: 't1',
        attributes: { AWS_INSTANCE_IPV4: '10.0.0.11', AWS_INSTANCE_PORT: '32000', AVAILABILITY_ZONE: 'az-a', ECS_CLUSTER_NAME: 'c1', ECS_SERVICE_NAME: 'backend', ECS_TASK_DEFINITION_FAMILY: 'backend', REGION: 'us-east-1' },
      },
    ]);
  });

  it('awsvpc tasks: the ENI address and the container port', () => {
    const eni = { attachments: [{ type: 'ElasticNetworkInterface', details: [{ name: 'privateIPv4Address', value: '10.8.0.5' }] }] };
    expect(instancesFor(record, [task('t1', eni)], hosts, portOf, 'us-east-1').wanted[0]!.attributes).toMatchObject({ AWS_INSTANCE_IPV4: '10.8.0.5', AWS_INSTANCE_PORT: '80' });
  });

  it('a service without Service Connect has nothing in Cloud Map', () => {
    const plain = { ...record, deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY' }] } as unknown as ServiceRecord;
    expect(instancesFor(plain, [task('t1')], hosts, portOf, 'us-east-1')).toMatchObject({ wanted: [], services: [] });
  });
});

describe('syncServiceConnectInstances', () => {
  it('deregisters only the instances this ECS service registered (a RegisterInstance with its attributes stays)', async () => {
    const store = new MemoryStore();
    const scope = { region: 'us-east-1', accountId: '000000000000' };
    const catalog = new CloudMapCatalog({ store, scope, now: () => 1 });
    await catalog.runOperation(await catalog.createNamespace({ name: 'apps', type: 'HTTP', tags: [] }));
    const ns = (await catalog.namespaceByName('apps'))!;
    const svc = await catalog.createService({ name: 'backend', namespaceId: ns.id, customHealth: true, type: 'HTTP', tags: [] });
    const attributes = { AWS_INSTANCE_IPV4: '10.0.0.9', AWS_INSTANCE_PORT: '80', ECS_CLUSTER_NAME: 'c1', ECS_SERVICE_NAME: 'backend' };
    const mine = ecsRegistrar(record.serviceArn!);
    await catalog.registerInstance(svc.id, 'manual', attributes);
    await catalog.registerInstance(svc.id, 'old-task', attributes, undefined, mine);
    await syncServiceConnectInstances(store, scope, () => 1, {
      wanted: [{ serviceArn: svc.arn, instanceId: 't1', attributes }],
      services: [svc.arn],
      owner: { cluster: 'c1', service: 'backend', serviceArn: record.serviceArn! },
    });
    expect((await catalog.instances(svc.id)).map((i) => [i.id, i.registeredBy])).toEqual([
      ['manual', 'api'],
      ['t1', mine],
    ]);
  });
});
