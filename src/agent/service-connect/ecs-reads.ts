/**
 * What the Service Connect proxy reads from the ECS API each pass (the agent knows the control plane only
 * through its public APIs). A namespace spans clusters, as in ECS: the agent's own cluster's Service Connect
 * services name the namespaces its tasks are clients of, and ListServicesByNamespace gives those namespaces'
 * services in every cluster, whose tasks are then backends like the local cluster's.
 *
 *   ListServices + DescribeServices (own cluster) ──▶ own Service Connect services ──▶ their namespaces
 *   ListServicesByNamespace (each namespace) ──▶ other clusters' services ──▶ DescribeServices (per cluster)
 *   ListTasks + DescribeTasks (each service, in its cluster)
 */
import type { EcsClient } from '../aws-json/services.js';
import { HOST_ADDRESS_ATTRIBUTE } from '../host-address.js';
import { serviceConnectOf, type NamedPort, type ServiceSeen, type TaskSeen } from './proxy-view.js';

/** The cluster part of a service's ARN (`…:service/<cluster>/<name>`), or undefined for the old, cluster-less form. */
export function clusterOfServiceArn(arn: string): string | undefined {
  const m = /:service\/([^/]+)\/[^/]+$/.exec(arn);
  return m?.[1];
}

async function pages(next: (token: string | undefined) => Promise<{ arns?: string[]; nextToken?: string }>): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await next(token);
    out.push(...(page.arns ?? []));
    token = page.nextToken;
  } while (token);
  return out;
}

async function describeServices(ecs: Pick<EcsClient, 'send'>, cluster: string, arns: readonly string[]): Promise<ServiceSeen[]> {
  const out: ServiceSeen[] = [];
  for (let i = 0; i < arns.length; i += 10) {
    const { services = [] } = await ecs.send('DescribeServices', { cluster, services: arns.slice(i, i + 10) });
    for (const s of services) {
      out.push({
        serviceArn: s.serviceArn!,
        serviceName: s.serviceName!,
        ...(s.clusterArn ? { clusterArn: s.clusterArn } : {}),
        status: s.status ?? 'ACTIVE',
        deployments: (s.deployments ?? []).map((d) => ({ status: d.status ?? '', ...(d.taskDefinition ? { taskDefinition: d.taskDefinition } : {}), ...(d.serviceConnectConfiguration ? { serviceConnectConfiguration: d.serviceConnectConfiguration } : {}) })),
      });
    }
  }
  return out;
}

/**
 * The Service Connect services this host's proxy serves: the agent's cluster's, and every service (any
 * cluster) of the namespaces those use. `own` marks which are the agent's cluster's (their tasks are the
 * host's clients).
 */
export async function serviceConnectServices(ecs: Pick<EcsClient, 'send'>, cluster: string): Promise<{ services: ServiceSeen[]; own: Set<string> }> {
  const ownArns = await pages(async (nextToken) => {
    const p = await ecs.send('ListServices', { cluster, maxResults: 100, ...(nextToken ? { nextToken } : {}) });
    return { arns: p.serviceArns ?? [], ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
  });
  const own = (await describeServices(ecs, cluster, ownArns)).filter((s) => serviceConnectOf(s));
  const byArn = new Map(own.map((s) => [s.serviceArn, s]));
  for (const namespace of new Set(own.map((s) => serviceConnectOf(s)!.namespace!).filter(Boolean))) {
    const arns = await pages(async (nextToken) => {
      const p = await ecs.send('ListServicesByNamespace', { namespace, maxResults: 100, ...(nextToken ? { nextToken } : {}) });
      return { arns: p.serviceArns ?? [], ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
    });
    const byCluster = new Map<string, string[]>();
    for (const arn of arns) {
      const c = clusterOfServiceArn(arn);
      if (byArn.has(arn) || !c) continue;
      byCluster.set(c, [...(byCluster.get(c) ?? []), arn]);
    }
    for (const [c, list] of byCluster) for (const s of await describeServices(ecs, c, list)) if (serviceConnectOf(s)?.namespace === namespace) byArn.set(s.serviceArn, s);
  }
  return { services: [...byArn.values()], own: new Set(own.map((s) => s.serviceArn)) };
}

/** A service's tasks meant to run (its cluster's). */
export async function tasksOf(ecs: Pick<EcsClient, 'send'>, service: ServiceSeen, fallbackCluster: string): Promise<TaskSeen[]> {
  const cluster = service.clusterArn ?? fallbackCluster;
  const { taskArns = [] } = await ecs.send('ListTasks', { cluster, serviceName: service.serviceName, desiredStatus: 'RUNNING', maxResults: 100 });
  const out: TaskSeen[] = [];
  for (let i = 0; i < taskArns.length; i += 100) {
    const { tasks = [] } = await ecs.send('DescribeTasks', { cluster, tasks: taskArns.slice(i, i + 100) });
    for (const t of tasks) {
      const eni = t.attachments?.find((a) => a.type === 'ElasticNetworkInterface');
      const eniAddress = eni?.details?.find((d) => d.name === 'privateIPv4Address')?.value;
      out.push({
        taskArn: t.taskArn!,
        clusterArn: t.clusterArn ?? cluster,
        ...(t.group ? { group: t.group } : {}),
        ...(t.lastStatus ? { lastStatus: t.lastStatus } : {}),
        ...(t.desiredStatus ? { desiredStatus: t.desiredStatus } : {}),
        ...(t.healthStatus ? { healthStatus: t.healthStatus } : {}),
        ...(t.taskDefinitionArn ? { taskDefinitionArn: t.taskDefinitionArn } : {}),
        ...(t.containerInstanceArn ? { containerInstanceArn: t.containerInstanceArn } : {}),
        ...(eniAddress ? { eniAddress } : {}),
        containers: (t.containers ?? []).map((c) => ({ ...(c.name ? { name: c.name } : {}), networkBindings: c.networkBindings ?? [] })),
      });
    }
  }
  return out;
}

/**
 * Task definitions' port names (of the tasks, and of the services' deployments: the aliases' appProtocol), and
 * container instances' host addresses (both never change: cached by the caller).
 */
export async function learn(
  ecs: Pick<EcsClient, 'send'>,
  tasks: readonly TaskSeen[],
  services: readonly ServiceSeen[],
  portNames: Map<string, Map<string, NamedPort>>,
  hostAddresses: Map<string, string>,
): Promise<void> {
  const definitions = [...tasks.map((t) => t.taskDefinitionArn), ...services.flatMap((s) => s.deployments.map((d) => d.taskDefinition))];
  for (const arn of new Set(definitions.flatMap((a) => (a && !portNames.has(a) ? [a] : [])))) {
    const { taskDefinition } = await ecs.send('DescribeTaskDefinition', { taskDefinition: arn });
    const names = new Map<string, NamedPort>();
    for (const c of taskDefinition?.containerDefinitions ?? []) {
      for (const pm of c.portMappings ?? []) {
        if (pm.name && pm.containerPort !== undefined) names.set(pm.name, { container: c.name!, containerPort: pm.containerPort, ...(pm.appProtocol ? { appProtocol: pm.appProtocol } : {}) });
      }
    }
    portNames.set(arn, names);
  }
  // DescribeContainerInstances answers one cluster at a time: the unknown instances grouped by their task's cluster.
  const unknown = new Map<string, Set<string>>();
  for (const t of tasks) {
    if (!t.containerInstanceArn || t.eniAddress || hostAddresses.has(t.containerInstanceArn) || !t.clusterArn) continue;
    unknown.set(t.clusterArn, (unknown.get(t.clusterArn) ?? new Set()).add(t.containerInstanceArn));
  }
  for (const [cluster, arns] of unknown) {
    const { containerInstances = [] } = await ecs.send('DescribeContainerInstances', { cluster, containerInstances: [...arns] });
    for (const ci of containerInstances) {
      const address = ci.attributes?.find((a) => a.name === HOST_ADDRESS_ATTRIBUTE)?.value;
      if (address) hostAddresses.set(ci.containerInstanceArn!, address);
    }
  }
}
