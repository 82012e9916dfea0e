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

/** A client alias served by the proxy: `http://<dnsName>:<port>` from tasks of the namespace. */
export interface ProxyEndpoint {
  readonly namespace: string;
  readonly dnsName: string;
  readonly port: number;
  readonly backends: readonly Backend[];
  /** ECS's perRequestTimeoutSeconds (0: none), when the service sets it. */
  readonly perRequestTimeoutSeconds?: number;
  readonly idleTimeoutSeconds?: number;
}

export interface Backend {
  readonly address: string;
  readonly port: number;
}

export interface ProxyView {
  readonly endpoints: readonly ProxyEndpoint[];
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
    readonly serviceConnectConfiguration?: {
      readonly enabled?: boolean;
      readonly namespace?: string;
      readonly services?: readonly {
        readonly portName?: string;
        readonly clientAliases?: readonly { readonly port?: number; readonly dnsName?: string }[];
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

/** portName → container and container port, per task definition ARN. */
export type PortNames = ReadonlyMap<string, ReadonlyMap<string, { container: string; containerPort: number }>>;

/** The PRIMARY deployment's Service Connect configuration, when it is on. */
export function serviceConnectOf(s: ServiceSeen): NonNullable<ServiceSeen['deployments'][number]['serviceConnectConfiguration']> | undefined {
  const primary = s.deployments.find((d) => d.status === 'PRIMARY');
  return primary?.serviceConnectConfiguration?.enabled ? primary.serviceConnectConfiguration : undefined;
}

/** A task's backend address for `portName`, or undefined when it has none (yet). */
export function backendOf(task: TaskSeen, portName: string, portNames: PortNames, hostAddresses: ReadonlyMap<string, string>): Backend | undefined {
  const mapping = task.taskDefinitionArn ? portNames.get(task.taskDefinitionArn)?.get(portName) : undefined;
  if (!mapping) return undefined;
  if (task.eniAddress) return { address: task.eniAddress, port: mapping.containerPort };
  const host = task.containerInstanceArn ? hostAddresses.get(task.containerInstanceArn) : undefined;
  const binding = task.containers.find((c) => c.name === mapping.container)?.networkBindings?.find((b) => b.containerPort === mapping.containerPort);
  return host && binding?.hostPort ? { address: host, port: binding.hostPort } : undefined;
}

/** Whether a task takes new requests: RUNNING, meant to keep running, not UNHEALTHY. */
export const servesRequests = (t: TaskSeen) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING' && t.healthStatus !== 'UNHEALTHY';

/**
 * The proxy's endpoints: one per client alias of each ACTIVE/DRAINING Service Connect service, whose
 * backends are the service's tasks that serve requests (`tasksByService`: the tasks of each service, by ARN).
 * The services may be of several clusters (a namespace spans clusters, as in ECS). An alias (name and port)
 * claimed twice in one namespace goes to the service first by name (then by ARN).
 */
export function proxyView(
  services: readonly ServiceSeen[],
  tasksByService: ReadonlyMap<string, readonly TaskSeen[]>,
  portNames: PortNames,
  hostAddresses: ReadonlyMap<string, string>,
): ProxyView {
  const endpoints = new Map<string, ProxyEndpoint>();
  for (const s of [...services].sort((a, b) => a.serviceName.localeCompare(b.serviceName) || a.serviceArn.localeCompare(b.serviceArn))) {
    const sc = serviceConnectOf(s);
    if (!sc?.namespace || s.status === 'INACTIVE') continue;
    for (const entry of sc.services ?? []) {
      for (const alias of entry.clientAliases ?? []) {
        if (!alias.dnsName || !alias.port || !entry.portName) continue;
        const key = `${sc.namespace}|${alias.dnsName}|${alias.port}`;
        if (endpoints.has(key)) continue;
        const backends = (tasksByService.get(s.serviceArn) ?? [])
          .filter(servesRequests)
          .flatMap((t) => backendOf(t, entry.portName!, portNames, hostAddresses) ?? [])
          .sort((a, b) => `${a.address}:${a.port}`.localeCompare(`${b.address}:${b.port}`));
        endpoints.set(key, {
          namespace: sc.namespace,
          dnsName: alias.dnsName,
          port: alias.port,
          backends,
          ...(entry.timeout?.perRequestTimeoutSeconds !== undefined ? { perRequestTimeoutSeconds: entry.timeout.perRequestTimeoutSeconds } : {}),
          ...(entry.timeout?.idleTimeoutSeconds !== undefined ? { idleTimeoutSeconds: entry.timeout.idleTimeoutSeconds } : {}),
        });
      }
    }
  }
  return { endpoints: [...endpoints.values()] };
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
