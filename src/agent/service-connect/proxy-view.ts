/**
 * What this host's Service Connect proxy should serve, from what the ECS API says (pure): every client
 * alias of the Service Connect services the agent sees, each with the healthy RUNNING tasks of its service
 * as backends, and for each namespace the aliases its tasks get in /etc/hosts.
 *
 * A backend is the task's address for the alias's `portName`: an awsvpc task's own address and the
 * container port, a bridge task's host (`berth.host-address`) and the host port the container port is
 * bound to. A task that is not RUNNING, is UNHEALTHY, or is asked to stop, is no backend: the proxy stops
 * sending it new requests as soon as the API shows the stop.
 */

/**
 * How the proxy carries an alias's traffic, from its portMappings entry's `appProtocol`: `http` is proxied as
 * HTTP/1.1 (requests chosen by Host, retried), `http2` and `grpc` as HTTP/2 (prior knowledge, as gRPC speaks it),
 * none or anything else as TCP, as ECS does.
 */
export type ProxyMode = 'http' | 'h2' | 'tcp';

export function modeOf(appProtocol: string | undefined): ProxyMode {
  return appProtocol === 'http' ? 'http' : appProtocol === 'http2' || appProtocol === 'grpc' ? 'h2' : 'tcp';
}

/** A client alias served by the proxy: `<dnsName>:<port>` from tasks of the namespace. */
export interface ProxyEndpoint {
  readonly namespace: string;
  readonly dnsName: string;
  readonly port: number;
  readonly mode: ProxyMode;
  readonly backends: readonly Backend[];
  /** ECS's perRequestTimeoutSeconds (0: none), when the service sets it. */
  readonly perRequestTimeoutSeconds?: number;
  readonly idleTimeoutSeconds?: number;
}

export interface Backend {
  readonly address: string;
  readonly port: number;
  /** The task it is (the drain looks its sessions up by it). */
  readonly taskArn?: string;
}

export interface ProxyView {
  readonly endpoints: readonly ProxyEndpoint[];
  /** Aliases left out: their port is already taken on the proxy's address by an alias it cannot share with. */
  readonly conflicts?: readonly string[];
}

/** The parts of a DescribeServices answer the view reads. */
export interface ServiceSeen {
  readonly serviceArn: string;
  readonly serviceName: string;
  /** Its cluster's ARN (a namespace's services may be in any cluster). */
  readonly clusterArn?: string;
  readonly status: string;
  readonly deployments: readonly {
    readonly status: string;
    /** The deployment's task definition ARN (its portMappings give the aliases' appProtocol). */
    readonly taskDefinition?: string;
    readonly serviceConnectConfiguration?: {
      readonly enabled?: boolean;
      readonly namespace?: string;
      readonly services?: readonly {
        readonly portName?: string;
        readonly clientAliases?: readonly { readonly port?: number; readonly dnsName?: string }[];
        readonly ingressPortOverride?: number;
        readonly timeout?: { readonly idleTimeoutSeconds?: number; readonly perRequestTimeoutSeconds?: number };
      }[];
    };
  }[];
}

/** The parts of a DescribeTasks answer the view reads. */
export interface TaskSeen {
  readonly taskArn: string;
  readonly clusterArn?: string;
  readonly group?: string;
  readonly lastStatus?: string;
  readonly desiredStatus?: string;
  readonly healthStatus?: string;
  readonly taskDefinitionArn?: string;
  readonly containerInstanceArn?: string;
  /** awsvpc: the ENI's private address. */
  readonly eniAddress?: string;
  readonly containers: readonly { readonly name?: string; readonly networkBindings?: readonly { readonly containerPort?: number; readonly hostPort?: number }[] }[];
}

/** A named portMappings entry: its container, container port and appProtocol. */
export interface NamedPort {
  readonly container: string;
  readonly containerPort: number;
  readonly appProtocol?: string;
}

/** portName → its portMappings entry, per task definition ARN. */
export type PortNames = ReadonlyMap<string, ReadonlyMap<string, NamedPort>>;

/** The PRIMARY deployment's Service Connect configuration, when it is on. */
export function serviceConnectOf(s: ServiceSeen): NonNullable<ServiceSeen['deployments'][number]['serviceConnectConfiguration']> | undefined {
  const primary = s.deployments.find((d) => d.status === 'PRIMARY');
  return primary?.serviceConnectConfiguration?.enabled ? primary.serviceConnectConfiguration : undefined;
}

/**
 * A task's backend address for `portName`, or undefined when it has none (yet). An awsvpc task of an entry with
 * `ingressPortOverride` is reached on that port of its address, where its host's proxy listens in the task's network
 * namespace (ingressListeners) and hands the traffic to the container port.
 */
export function backendOf(task: TaskSeen, portName: string, portNames: PortNames, hostAddresses: ReadonlyMap<string, string>, ingressPortOverride?: number): Backend | undefined {
  const mapping = task.taskDefinitionArn ? portNames.get(task.taskDefinitionArn)?.get(portName) : undefined;
  if (!mapping) return undefined;
  if (task.eniAddress) return { address: task.eniAddress, port: ingressPortOverride ?? mapping.containerPort, taskArn: task.taskArn };
  const host = task.containerInstanceArn ? hostAddresses.get(task.containerInstanceArn) : undefined;
  const binding = task.containers.find((c) => c.name === mapping.container)?.networkBindings?.find((b) => b.containerPort === mapping.containerPort);
  return host && binding?.hostPort ? { address: host, port: binding.hostPort, taskArn: task.taskArn } : undefined;
}

/** The alias mode of a service's entry: its PRIMARY deployment's task definition's portMappings entry (TCP when unknown). */
function entryMode(s: ServiceSeen, portName: string, portNames: PortNames): ProxyMode {
  const td = s.deployments.find((d) => d.status === 'PRIMARY')?.taskDefinition;
  return modeOf(td ? portNames.get(td)?.get(portName)?.appProtocol : undefined);
}

/** Whether a task takes new requests: RUNNING, meant to keep running, not UNHEALTHY. */
export const servesRequests = (t: TaskSeen) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING' && t.healthStatus !== 'UNHEALTHY';

/**
 * The proxy's endpoints: one per client alias of each ACTIVE/DRAINING Service Connect service, whose
 * backends are the service's tasks that serve requests (`tasksByService`: the tasks of each service, by ARN).
 * The services may be of several clusters (a namespace spans clusters, as in ECS). An alias (name and port)
 * claimed twice in one namespace goes to the service first by name (then by ARN). The proxy has one address, so
 * aliases share a port only when it can tell them apart by the request's Host: HTTP aliases of one mode; a TCP
 * alias has its port to itself (the first to claim a port keeps it; the others are `conflicts`).
 */
export function proxyView(
  services: readonly ServiceSeen[],
  tasksByService: ReadonlyMap<string, readonly TaskSeen[]>,
  portNames: PortNames,
  hostAddresses: ReadonlyMap<string, string>,
): ProxyView {
  const endpoints = new Map<string, ProxyEndpoint>();
  const portModes = new Map<number, ProxyMode>();
  const conflicts: string[] = [];
  for (const s of [...services].sort((a, b) => a.serviceName.localeCompare(b.serviceName) || a.serviceArn.localeCompare(b.serviceArn))) {
    const sc = serviceConnectOf(s);
    if (!sc?.namespace || s.status === 'INACTIVE') continue;
    for (const entry of sc.services ?? []) {
      for (const alias of entry.clientAliases ?? []) {
        if (!alias.dnsName || !alias.port || !entry.portName) continue;
        const key = `${sc.namespace}|${alias.dnsName}|${alias.port}`;
        if (endpoints.has(key)) continue;
        const mode = entryMode(s, entry.portName, portNames);
        const taken = portModes.get(alias.port);
        if (taken !== undefined && (taken === 'tcp' || taken !== mode)) {
          conflicts.push(`${alias.dnsName}:${alias.port} (${mode}; the port is taken by a ${taken} alias)`);
          continue;
        }
        portModes.set(alias.port, mode);
        const backends = (tasksByService.get(s.serviceArn) ?? [])
          .filter(servesRequests)
          .flatMap((t) => backendOf(t, entry.portName!, portNames, hostAddresses, entry.ingressPortOverride) ?? [])
          .sort((a, b) => `${a.address}:${a.port}`.localeCompare(`${b.address}:${b.port}`));
        endpoints.set(key, {
          namespace: sc.namespace,
          dnsName: alias.dnsName,
          port: alias.port,
          mode,
          backends,
          ...(entry.timeout?.perRequestTimeoutSeconds !== undefined ? { perRequestTimeoutSeconds: entry.timeout.perRequestTimeoutSeconds } : {}),
          ...(entry.timeout?.idleTimeoutSeconds !== undefined ? { idleTimeoutSeconds: entry.timeout.idleTimeoutSeconds } : {}),
        });
      }
    }
  }
  return { endpoints: [...endpoints.values()], ...(conflicts.length ? { conflicts } : {}) };
}

/** The alias names tasks of each namespace get in /etc/hosts (all of the namespace's, sorted). */
export function aliasesByNamespace(view: ProxyView): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of view.endpoints) {
    const names = out.get(e.namespace) ?? [];
    if (!names.includes(e.dnsName)) names.push(e.dnsName);
    out.set(e.namespace, names.sort());
  }
  return out;
}
