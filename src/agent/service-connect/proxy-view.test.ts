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
  serviceName: 'backend',
  status: 'ACTIVE',
  deployments: [{ status: 'PRIMARY', serviceConnectConfiguration: { enabled: true, namespace: ns, services: [{ portName: 'http', clientAliases: [{ port: 8080, dnsName: 'backend' }] }] } }],
};
const client: ServiceSeen = { serviceName: 'client', status: 'ACTIVE', deployments: [{ status: 'PRIMARY', serviceConnectConfiguration: { enabled: true, namespace: ns, services: [] } }] };
const task = (id: string, over: Partial<TaskSeen> = {}): TaskSeen => ({
  taskArn: id,
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
  taskDefinitionArn: td1,
  containerInstanceArn: 'ci-1',
  containers: [{ name: 'web', networkBindings: [{ containerPort: 80, hostPort: 32768 + Number(id) }] }],
  ...over,
});

describe('proxyView', () => {
  it("an alias's backends are its service's serving tasks: bridge at host address + host port, awsvpc at the ENI address + container port", () => {
    const tasks = [task('1'), task('2', { taskDefinitionArn: td2, eniAddress: '10.8.0.5' }), task('3', { desiredStatus: 'STOPPED' }), task('4', { healthStatus: 'UNHEALTHY' }), task('5', { lastStatus: 'PENDING' })];
    const view = proxyView([backend, client], new Map([['backend', tasks]]), portNames, hosts);
    expect(view.endpoints).toEqual([{ namespace: ns, dnsName: 'backend', port: 8080, backends: [{ address: '10.8.0.5', port: 80 }, { address: '10.9.0.11', port: 32769 }] }]);
    expect(aliasesByNamespace(view)).toEqual(new Map([[ns, ['backend']]]));
  });

  it('a task whose host address or port mapping is unknown is no backend; services without Service Connect give nothing', () => {
    const plain: ServiceSeen = { serviceName: 'plain', status: 'ACTIVE', deployments: [{ status: 'PRIMARY' }] };
    const view = proxyView([backend, plain], new Map([['backend', [task('1', { containerInstanceArn: 'ci-unknown' }), task('2', { taskDefinitionArn: 'other' })]]]), portNames, hosts);
    expect(view.endpoints[0]!.backends).toEqual([]);
    expect(view.endpoints).toHaveLength(1);
  });

  it('the aliases come from the PRIMARY deployment', () => {
    const rolling: ServiceSeen = { ...backend, deployments: [{ status: 'PRIMARY' }, ...backend.deployments.map((d) => ({ ...d, status: 'ACTIVE' }))] };
    expect(proxyView([rolling], new Map(), portNames, hosts).endpoints).toEqual([]);
  });
});
