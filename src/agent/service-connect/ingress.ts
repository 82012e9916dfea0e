/**
 * Service Connect's `ingressPortOverride` (pure): "the port number for the Service Connect proxy to listen on"
 * for traffic into a task, in ECS's words. ECS runs a proxy inside each task; berth's one proxy per host gets
 * the same listener into an awsvpc task's network namespace instead (HAProxy's `bind … namespace <netns>`, run
 * by the host's proxy), on the task's address and the override port, handing each connection to the task's
 * container port — so every host's proxy sends the alias's traffic for that task to `address:override`
 * (proxy-view.ts backendOf), and the container port stays open to direct (bypassing) traffic, as in ECS.
 *
 * Only awsvpc tasks have an address (and a namespace) of their own to listen on; a bridge task's backend stays its
 * host port (berth's proxy has no per-task listener on the host: see docs/architecture.md "Service Connect").
 */
import { basename } from 'node:path';
import { modeOf, serviceConnectOf, type Backend, type ProxyMode, type ServiceSeen } from './proxy-view.js';

/** One of this host's tasks, as the ingress listeners need it. */
export interface LocalIngressTask {
  readonly taskArn: string;
  readonly serviceName?: string;
  /** awsvpc: the task's network namespace (its path, `/var/run/netns/<name>`) and address. */
  readonly netnsPath?: string;
  readonly address?: string;
  /** Its containers' named port mappings. */
  readonly portMappings: readonly { readonly name?: string; readonly containerPort?: number; readonly appProtocol?: string }[];
}

/** A listener of the host's proxy inside a task's namespace: `address:port` there → the task's container port. */
export interface IngressListener {
  readonly taskArn: string;
  /** The namespace's name under /var/run/netns (what HAProxy's `namespace` takes). */
  readonly netns: string;
  readonly address: string;
  readonly port: number;
  readonly mode: ProxyMode;
  readonly target: Backend;
}

/**
 * The ingress listeners of this host's tasks: one per Service Connect entry with `ingressPortOverride` of the
 * task's service (its PRIMARY deployment, as `ownServices` were read), for awsvpc tasks only.
 */
export function ingressListeners(ownServices: readonly ServiceSeen[], localTasks: readonly LocalIngressTask[]): IngressListener[] {
  const byName = new Map(ownServices.map((s) => [s.serviceName, s]));
  const out: IngressListener[] = [];
  for (const t of localTasks) {
    const service = t.serviceName ? byName.get(t.serviceName) : undefined;
    const sc = service ? serviceConnectOf(service) : undefined;
    if (!sc || !t.netnsPath || !t.address) continue;
    for (const entry of sc.services ?? []) {
      const pm = t.portMappings.find((p) => p.name === entry.portName);
      if (!entry.ingressPortOverride || pm?.containerPort === undefined || pm.containerPort === entry.ingressPortOverride) continue;
      out.push({
        taskArn: t.taskArn,
        netns: basename(t.netnsPath),
        address: t.address,
        port: entry.ingressPortOverride,
        mode: modeOf(pm.appProtocol),
        target: { address: t.address, port: pm.containerPort, taskArn: t.taskArn },
      });
    }
  }
  return out.sort((a, b) => a.taskArn.localeCompare(b.taskArn) || a.port - b.port);
}
