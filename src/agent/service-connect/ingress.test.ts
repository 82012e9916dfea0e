import { describe, expect, it } from 'vitest';
import { ingressListeners, type LocalIngressTask } from './ingress.js';
import type { ServiceSeen } from './proxy-view.js';

const ns = 'arn:aws:servicediscovery:us-east-1:000000000000:namespace/ns-1';
const service = (ingressPortOverride?: number): ServiceSeen => ({
  serviceArn: 'arn:aws:ecs:us-east-1:000000000000:service/default/api',
  serviceName: 'api',
  status: 'ACTIVE',
  deployments: [{ status: 'PRIMARY', serviceConnectConfiguration: { enabled: true, namespace: ns, services: [{ portName: 'web', clientAliases: [{ port: 80, dnsName: 'api' }], ...(ingressPortOverride ? { ingressPortOverride } : {}) }] } }],
});
const awsvpc: LocalIngressTask = {
  taskArn: 'arn:aws:ecs:us-east-1:000000000000:task/default/abc',
  serviceName: 'api',
  netnsPath: '/var/run/netns/berth-abc',
  address: '10.8.0.7',
  portMappings: [{ name: 'web', containerPort: 8080, appProtocol: 'http' }],
};

describe('ingressListeners', () => {
  it("an awsvpc task of a service with ingressPortOverride: a listener in its namespace on the override port, to its container port", () => {
    expect(ingressListeners([service(9000)], [awsvpc])).toEqual([
      { taskArn: awsvpc.taskArn, netns: 'berth-abc', address: '10.8.0.7', port: 9000, mode: 'http', target: { address: '10.8.0.7', port: 8080, taskArn: awsvpc.taskArn } },
    ]);
  });

  it('none without the override, for bridge tasks (no namespace of their own), for other services, or when the override is the container port', () => {
    expect(ingressListeners([service()], [awsvpc])).toEqual([]);
    expect(ingressListeners([service(9000)], [{ ...awsvpc, netnsPath: undefined, address: undefined } as LocalIngressTask])).toEqual([]);
    expect(ingressListeners([service(9000)], [{ ...awsvpc, serviceName: 'other' }])).toEqual([]);
    expect(ingressListeners([service(8080)], [awsvpc])).toEqual([]);
  });
});
