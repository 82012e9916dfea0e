/**
 * A service's `serviceConnectConfiguration` checked as ECS checks it, against the task definition the
 * deployment runs. Pure: the namespace is looked up (or made) by the caller, which passes its name in.
 *
 * What is kept is what DescribeServices shows on the deployment: the configuration with the namespace as
 * its ARN, each service's discoveryName and client aliases' dnsName filled in with ECS's defaults
 * (`portName`; `discoveryName.namespace`), timeout and log configuration as given.
 */
import type { ServiceConnectConfiguration, TaskDefinition } from '@aws-sdk/client-ecs';
import { invalidParameter } from '../errors.js';
import type { Wire } from '../wire.js';

/** A checked Service Connect service entry, defaults filled in. */
export interface ServiceConnectEntry {
  portName: string;
  discoveryName: string;
  clientAliases: { port: number; dnsName: string }[];
  ingressPortOverride?: number;
  timeout?: { idleTimeoutSeconds?: number; perRequestTimeoutSeconds?: number };
}

/** What a deployment keeps (and DescribeServices shows) when Service Connect is on. */
export interface StoredServiceConnect {
  enabled: true;
  /** The Cloud Map namespace's ARN. */
  namespace: string;
  services: ServiceConnectEntry[];
  logConfiguration?: Wire<ServiceConnectConfiguration>['logConfiguration'];
}

/** Service Connect's discovery names: up to 64 of a-z 0-9 _ -, not starting with a hyphen. */
const DISCOVERY_NAME = /^[a-z0-9_][a-z0-9_-]{0,63}$/;
/** Client alias DNS names: up to 127 of a-z 0-9 _ - ., not starting with a hyphen. */
const DNS_NAME = /^[a-z0-9_.][a-z0-9_.-]{0,126}$/;

const isPort = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;

/** The portMappings names of every container of the task definition. */
export function portNamesOf(td: Pick<Wire<TaskDefinition>, 'containerDefinitions'>): Map<string, { container: string; containerPort: number; appProtocol?: string }> {
  const names = new Map<string, { container: string; containerPort: number; appProtocol?: string }>();
  for (const c of td.containerDefinitions ?? []) {
    for (const pm of c.portMappings ?? []) {
      if (pm.name && pm.containerPort !== undefined) names.set(pm.name, { container: c.name!, containerPort: pm.containerPort, ...(pm.appProtocol ? { appProtocol: pm.appProtocol } : {}) });
    }
  }
  return names;
}

/** Service Connect proxies a port as HTTP only with one of these appProtocols; without one, as TCP. */
const HTTP_APP_PROTOCOLS: readonly string[] = ['http', 'http2', 'grpc'];

/**
 * `given` checked against `td` (whose portMappings must name every portName), with the namespace resolved
 * to `namespace` (its ARN and name). Throws InvalidParameterException naming the field.
 */
export function checkServiceConnect(
  given: Wire<ServiceConnectConfiguration>,
  td: Pick<Wire<TaskDefinition>, 'containerDefinitions' | 'networkMode' | 'taskDefinitionArn'>,
  namespace: { readonly arn: string; readonly name: string },
): StoredServiceConnect {
  if (td.networkMode === 'host' || td.networkMode === 'none') {
    throw invalidParameter(`serviceConnectConfiguration: Service Connect requires the bridge or awsvpc network mode; the task definition uses ${td.networkMode}.`);
  }
  const portNames = portNamesOf(td);
  const services: ServiceConnectEntry[] = [];
  const discoveryNames = new Set<string>();
  const aliases = new Set<string>();
  for (const [i, s] of (given.services ?? []).entries()) {
    const field = `serviceConnectConfiguration.services[${i}]`;
    if (!s.portName) throw invalidParameter(`${field}.portName is required.`);
    if (!portNames.has(s.portName)) {
      throw invalidParameter(
        `${field}.portName '${s.portName}' does not match the name of any portMappings entry in task definition ${td.taskDefinitionArn ?? ''}`.trim() + '.',
      );
    }
    const discoveryName = s.discoveryName ?? s.portName;
    if (!DISCOVERY_NAME.test(discoveryName)) {
      throw invalidParameter(
        `${field}.discoveryName '${discoveryName}': up to 64 lowercase letters, numbers, underscores and hyphens, not starting with a hyphen.`,
      );
    }
    if (discoveryNames.has(discoveryName)) throw invalidParameter(`${field}.discoveryName '${discoveryName}' is used twice in the service.`);
    discoveryNames.add(discoveryName);
    const given = s.clientAliases ?? [];
    if (given.length > 1) throw invalidParameter(`${field}.clientAliases: at most 1 client alias per Service Connect service.`);
    const clientAliases = given.map((a, j) => {
      if (!isPort(a.port)) throw invalidParameter(`${field}.clientAliases[${j}].port must be between 1 and 65535.`);
      const dnsName = a.dnsName ?? `${discoveryName}.${namespace.name}`;
      if (!DNS_NAME.test(dnsName)) {
        throw invalidParameter(
          `${field}.clientAliases[${j}].dnsName '${dnsName}': up to 127 lowercase letters, numbers, underscores, hyphens and periods, not starting with a hyphen.`,
        );
      }
      const key = `${dnsName}:${a.port}`;
      if (aliases.has(key)) throw invalidParameter(`${field}.clientAliases[${j}]: ${key} is already an alias of this service.`);
      aliases.add(key);
      return { port: a.port, dnsName };
    });
    if (s.ingressPortOverride !== undefined && s.ingressPortOverride !== null) {
      if (!isPort(s.ingressPortOverride)) throw invalidParameter(`${field}.ingressPortOverride must be between 1 and 65535.`);
      // awsvpc: the proxy listens in the task's own namespace, beside its containers (berth's words).
      const own = portNames.get(s.portName)!.containerPort;
      if (td.networkMode === 'awsvpc' && s.ingressPortOverride !== own && [...portNames.values()].some((p) => p.containerPort === s.ingressPortOverride)) {
        throw invalidParameter(`${field}.ingressPortOverride ${s.ingressPortOverride} is a container port of the task definition: the Service Connect proxy cannot listen on it.`);
      }
    }
    if (s.tls) throw invalidParameter(`${field}.tls: Service Connect TLS is not supported by berth yet.`);
    const timeout = s.timeout;
    for (const k of ['idleTimeoutSeconds', 'perRequestTimeoutSeconds'] as const) {
      const v = timeout?.[k];
      if (v !== undefined && v !== null && (!Number.isInteger(v) || v < 0 || v > 2_147_483_647)) {
        throw invalidParameter(`${field}.timeout.${k} must be a whole number of seconds, 0 or more.`);
      }
    }
    const perRequest = timeout?.perRequestTimeoutSeconds;
    if (perRequest !== undefined && perRequest !== null && !HTTP_APP_PROTOCOLS.includes(portNames.get(s.portName)!.appProtocol ?? 'tcp')) {
      throw invalidParameter(
        `${field}.timeout.perRequestTimeoutSeconds can only be set if Service Connect appProtocol isn't TCP (portMappings '${s.portName}' has no http, http2 or grpc appProtocol). Only idleTimeoutSeconds is allowed for TCP.`,
      );
    }
    services.push({
      portName: s.portName,
      discoveryName,
      clientAliases,
      ...(s.ingressPortOverride !== undefined && s.ingressPortOverride !== null ? { ingressPortOverride: s.ingressPortOverride } : {}),
      ...(timeout ? { timeout: { ...timeout } as ServiceConnectEntry['timeout'] } : {}),
    });
  }
  if (given.accessLogConfiguration && !given.logConfiguration) {
    throw invalidParameter('serviceConnectConfiguration.accessLogConfiguration requires serviceConnectConfiguration.logConfiguration.');
  }
  return {
    enabled: true,
    namespace: namespace.arn,
    services,
    ...(given.logConfiguration ? { logConfiguration: given.logConfiguration } : {}),
  };
}

/** The namespace a request names: its own, else the cluster's default; ECS refuses Service Connect without one. */
export function namespaceRefOf(given: Wire<ServiceConnectConfiguration>, clusterDefault: string | undefined): string {
  const ref = given.namespace ?? clusterDefault;
  if (!ref) {
    throw invalidParameter(
      'serviceConnectConfiguration.namespace: Service Connect is enabled but no namespace was given and the cluster has no serviceConnectDefaults namespace.',
    );
  }
  return ref;
}
