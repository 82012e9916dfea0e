import { describe, expect, it } from 'vitest';
import { checkServiceConnect, namespaceRefOf } from './service-connect.js';

const td = {
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1',
  networkMode: 'bridge' as const,
  containerDefinitions: [{ name: 'web', portMappings: [{ name: 'http', containerPort: 80, appProtocol: 'http' as const }, { containerPort: 81 }, { name: 'db', containerPort: 5432 }] }],
};
const ns = { arn: 'arn:aws:servicediscovery:us-east-1:000000000000:namespace/ns-abc', name: 'internal' };

describe('checkServiceConnect', () => {
  it('fills in ECS defaults: discoveryName from portName, dnsName discoveryName.namespace; the namespace as its ARN', () => {
    const out = checkServiceConnect({ enabled: true, namespace: 'internal', services: [{ portName: 'http', clientAliases: [{ port: 8080 }] }] }, td, ns);
    expect(out).toEqual({
      enabled: true,
      namespace: ns.arn,
      services: [{ portName: 'http', discoveryName: 'http', clientAliases: [{ port: 8080, dnsName: 'http.internal' }] }],
    });
  });

  it('keeps the given names, timeout, ingress override and log configuration', () => {
    const out = checkServiceConnect(
      {
        enabled: true,
        services: [{ portName: 'http', discoveryName: 'backend', clientAliases: [{ port: 8080, dnsName: 'backend' }], ingressPortOverride: 9000, timeout: { perRequestTimeoutSeconds: 15 } }],
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } },
      },
      td,
      ns,
    );
    expect(out.services[0]).toEqual({ portName: 'http', discoveryName: 'backend', clientAliases: [{ port: 8080, dnsName: 'backend' }], ingressPortOverride: 9000, timeout: { perRequestTimeoutSeconds: 15 } });
    expect(out.logConfiguration).toEqual({ logDriver: 'awslogs', options: { 'awslogs-group': 'g' } });
  });

  it('a client-only service (no services) is valid', () => {
    expect(checkServiceConnect({ enabled: true }, td, ns).services).toEqual([]);
  });

  it.each([
    [{ services: [{ portName: 'nope', clientAliases: [{ port: 1 }] }] }, /services\[0\]\.portName 'nope' does not match the name of any portMappings entry/],
    [{ services: [{ portName: '' }] }, /services\[0\]\.portName is required/],
    [{ services: [{ portName: 'http', discoveryName: '-x' }] }, /services\[0\]\.discoveryName '-x'/],
    [{ services: [{ portName: 'http', discoveryName: 'A' }] }, /discoveryName 'A'/],
    [{ services: [{ portName: 'http', clientAliases: [{ port: 1 }, { port: 2 }] }] }, /clientAliases: at most 1/],
    [{ services: [{ portName: 'http', clientAliases: [{ port: 0 }] }] }, /clientAliases\[0\]\.port must be between 1 and 65535/],
    [{ services: [{ portName: 'http', clientAliases: [{ port: 80, dnsName: 'Bad Name' }] }] }, /clientAliases\[0\]\.dnsName 'Bad Name'/],
    [{ services: [{ portName: 'http', ingressPortOverride: 70000 }] }, /ingressPortOverride must be between 1 and 65535/],
    [{ services: [{ portName: 'http' }, { portName: 'http' }] }, /services\[1\]\.discoveryName 'http' is used twice/],
    [{ services: [{ portName: 'http', timeout: { idleTimeoutSeconds: -1 } }] }, /timeout\.idleTimeoutSeconds/],
    [{ services: [{ portName: 'db', timeout: { perRequestTimeoutSeconds: 5 } }] }, /services\[0\]\.timeout\.perRequestTimeoutSeconds can only be set if Service Connect appProtocol isn't TCP/],
    [{ accessLogConfiguration: { format: 'TEXT' } }, /accessLogConfiguration requires serviceConnectConfiguration\.logConfiguration/],
  ])('refuses %j naming the field', (given, message) => {
    expect(() => checkServiceConnect({ enabled: true, ...given } as never, td, ns)).toThrow(message);
  });

  it('a TCP port takes an idle timeout; in awsvpc an ingressPortOverride may not be another container port of the task', () => {
    expect(checkServiceConnect({ enabled: true, services: [{ portName: 'db', timeout: { idleTimeoutSeconds: 60 } }] }, td, ns).services[0]!.timeout).toEqual({ idleTimeoutSeconds: 60 });
    const awsvpc = { ...td, networkMode: 'awsvpc' as const };
    expect(() => checkServiceConnect({ enabled: true, services: [{ portName: 'http', ingressPortOverride: 5432 }] }, awsvpc, ns)).toThrow(
      /services\[0\]\.ingressPortOverride 5432 is a container port of the task definition/,
    );
    expect(checkServiceConnect({ enabled: true, services: [{ portName: 'http', ingressPortOverride: 80 }] }, awsvpc, ns).services[0]!.ingressPortOverride).toBe(80);
    expect(checkServiceConnect({ enabled: true, services: [{ portName: 'http', ingressPortOverride: 9000 }] }, awsvpc, ns).services[0]!.ingressPortOverride).toBe(9000);
  });

  it('refuses host and none network modes', () => {
    expect(() => checkServiceConnect({ enabled: true }, { ...td, networkMode: 'host' }, ns)).toThrow(/requires the bridge or awsvpc network mode/);
  });
});

describe('namespaceRefOf', () => {
  it('the given namespace, else the cluster default, else InvalidParameterException', () => {
    expect(namespaceRefOf({ enabled: true, namespace: 'a' }, 'b')).toBe('a');
    expect(namespaceRefOf({ enabled: true }, 'b')).toBe('b');
    expect(() => namespaceRefOf({ enabled: true }, undefined)).toThrow(/serviceConnectConfiguration\.namespace/);
  });
});
