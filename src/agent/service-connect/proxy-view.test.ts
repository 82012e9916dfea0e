import { describe, expect, it } from 'vitest';
import { aliasesByNamespace, proxyView, type ServiceSeen, type TaskSeen } from './proxy-view.js';

const ns = 'arn:aws:servicediscovery:us-east-1:000000000000:namespace/ns-1';
const td1 = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1';
const td2 = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:2';
const portNames = new Map([
  [td1, new Map([['http', { container: 'web', containerPort: 80 }]])],
  [td2, new Map([['http', { container: 'web', containerPort: 80 }]])],
]);
const hosts = new Map([['ci-1', '10.9.0.11']]);
const backend: ServiceSeen = {
  serviceArn: 'arn:aws:ecs:us-east-1:000000000000:service/default/backend',
  serviceName: 'backend',
  status: 'ACTIVE',
  deployments: [{ status: 'PRIMARY', serviceConnectConfiguration: { enabled: true, namespace: ns, services: [{ portName: 'http', clientAliases: [{ port: 8080, dnsName: 'backend' }] }] } }],
};
const client: ServiceSeen = { serviceArn: 'arn:aws:ecs:us-east-1:000000000000:service/default/client', serviceName: 'client', status: 'ACTIVE', deployments: [{ status: 'PRIMARY', serviceConnectConfiguration: { enabled: true, namespace: ns, services: [] } }] };
const task = (id: string, over: Partial<TaskSeen> = {}): TaskSeen => ({
  taskArn: id,
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
  taskDefinitionArn: td1,
  containerInstanceArn: 'ci-1',
  containers: [{ name: 'web', networkBindings: [{ containerPort: 80, hostPort: 32768 + Number(id) }] }],
  ...over,
});

const withTd = (s: ServiceSeen, taskDefinition: string, over: Record<string, unknown> = {}): ServiceSeen => ({
  ...s,
  deployments: s.deployments.map((d) => ({ ...d, taskDefinition, serviceConnectConfiguration: { ...d.serviceConnectConfiguration, services: d.serviceConnectConfiguration!.services!.map((e) => ({ ...e, ...over })) } })),
});

describe('proxyView', () => {
  it("an alias's mode is its PRIMARY deployment's portMappings appProtocol: http → HTTP, http2/grpc → h2, none or tcp → TCP", () => {
    const names = (appProtocol?: string) => new Map([['http', { container: 'web', containerPort: 80, ...(appProtocol ? { appProtocol } : {}) }]]);
    for (const [appProtocol, mode] of [['http', 'http'], ['http2', 'h2'], ['grpc', 'h2'], [undefined, 'tcp']] as const) {
      const view = proxyView([withTd(backend, td1)], new Map(), new Map([[td1, names(appProtocol)]]), hosts);
      expect(view.endpoints[0]!.mode).toBe(mode);
    }
  });

  it("ingressPortOverride: an awsvpc task is reached on the override port of its address; a bridge task still at its host port", () => {
    const view = proxyView([withTd(backend, td1, { ingressPortOverride: 9000 })], new Map([[backend.serviceArn, [task('1'), task('2', { eniAddress: '10.8.0.5' })]]]), portNames, hosts);
    expect(view.endpoints[0]!.backends).toEqual([{ address: '10.8.0.5', port: 9000, taskArn: '2' }, { address: '10.9.0.11', port: 32769, taskArn: '1' }]);
  });

  it('a TCP alias has its port to itself; HTTP aliases share a port (by Host); the left-out ones are named', () => {
    const httpNames = new Map([[td1, new Map([['http', { container: 'web', containerPort: 80, appProtocol: 'http' }]])], [td2, new Map([['http', { container: 'web', containerPort: 80 }]])]]);
    const svc = (name: string, td: string, dnsName: string): ServiceSeen => withTd({ ...backend, serviceArn: `${backend.serviceArn}-${name}`, serviceName: name, deployments: [{ status: 'PRIMARY', serviceConnectConfiguration: { enabled: true, namespace: ns, services: [{ portName: 'http', clientAliases: [{ port: 8080, dnsName }] }] } }] }, td);
    const view = proxyView([svc('a', td1, 'a'), svc('b', td1, 'b'), svc('c', td2, 'c')], new Map(), httpNames, hosts);
    expect(view.endpoints.map((e) => [e.dnsName, e.mode])).toEqual([['a', 'http'], ['b', 'http']]);
    expect(view.conflicts).toEqual(['c:8080 (tcp; the port is taken by a http alias)']);
  });

  it("an alias's backends are its service's serving tasks: bridge at host address + host port, awsvpc at the ENI address + container port", () => {
    const tasks = [task('1'), task('2', { taskDefinitionArn: td2, eniAddress: '10.8.0.5' }), task('3', { desiredStatus: 'STOPPED' }), task('4', { healthStatus: 'UNHEALTHY' }), task('5', { lastStatus: 'PENDING' })];
    const view = proxyView([backend, client], new Map([[backend.serviceArn, tasks]]), portNames, hosts);
    expect(view.endpoints).toEqual([
      { namespace: ns, dnsName: 'backend', port: 8080, mode: 'tcp', backends: [{ address: '10.8.0.5', port: 80, taskArn: '2' }, { address: '10.9.0.11', port: 32769, taskArn: '1' }] },
    ]);
    expect(aliasesByNamespace(view)).toEqual(new Map([[ns, ['backend']]]));
  });

  it('a task whose host address or port mapping is unknown is no backend; services without Service Connect give nothing', () => {
    const plain: ServiceSeen = { serviceArn: 'arn:aws:ecs:us-east-1:000000000000:service/default/plain', serviceName: 'plain', status: 'ACTIVE', deployments: [{ status: 'PRIMARY' }] };
    const view = proxyView([backend, plain], new Map([[backend.serviceArn, [task('1', { containerInstanceArn: 'ci-unknown' }), task('2', { taskDefinitionArn: 'other' })]]]), portNames, hosts);
    expect(view.endpoints[0]!.backends).toEqual([]);
    expect(view.endpoints).toHaveLength(1);
  });

  it('the aliases come from the PRIMARY deployment', () => {
    const rolling: ServiceSeen = { ...backend, deployments: [{ status: 'PRIMARY' }, ...backend.deployments.map((d) => ({ ...d, status: 'ACTIVE' }))] };
    expect(proxyView([rolling], new Map(), portNames, hosts).endpoints).toEqual([]);
  });

  it("a namespace's services of other clusters are served too, each service's tasks by its ARN", () => {
    const elsewhere: ServiceSeen = { ...backend, serviceArn: 'arn:aws:ecs:us-east-1:000000000000:service/other/api', serviceName: 'api', clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/other', deployments: [{ status: 'PRIMARY', serviceConnectConfiguration: { enabled: true, namespace: ns, services: [{ portName: 'http', clientAliases: [{ port: 9090, dnsName: 'api' }] }] } }] };
    const sameName: ServiceSeen = { ...backend, serviceArn: 'arn:aws:ecs:us-east-1:000000000000:service/other/backend' };
    const view = proxyView([client, backend, elsewhere, sameName], new Map([[elsewhere.serviceArn, [task('7')]], [sameName.serviceArn, [task('8')]], [backend.serviceArn, [task('1')]]]), portNames, hosts);
    // backend:8080 is claimed by both services named backend: the first by ARN (cluster default) has it.
    expect(view.endpoints.map((e) => [e.dnsName, e.port, e.backends.map((b) => b.port)])).toEqual([
      ['api', 9090, [32775]],
      ['backend', 8080, [32769]],
    ]);
    expect(aliasesByNamespace(view)).toEqual(new Map([[ns, ['api', 'backend']]]));
  });
});
