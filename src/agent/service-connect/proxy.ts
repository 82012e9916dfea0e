/**
 * The agent's Service Connect proxy: one HAProxy per host (the load balancer data plane's process manager,
 * src/lb/haproxy-process.ts) on the Service Connect address, following the ECS API.
 *
 *   every intervalMs ── ListServices/DescribeServices (cluster) ──▶ Service Connect services
 *                     └─ ListTasks/DescribeTasks per service, DescribeTaskDefinition (cached, immutable),
 *                        DescribeContainerInstances (berth.host-address, cached) ──▶ proxyView (pure)
 *        view ──▶ aliases changed? ──yes──▶ render → haproxy -c → seamless reload (or first start)
 *                      └──no──▶ planSlots → runtime API `set server …` (tasks in and out, no reload)
 *        view ──▶ /etc/hosts of this host's tasks of Service Connect services: `<address> <alias>…` per namespace
 *
 * The agent knows the control plane only through its public API (as `berth lb` does), so a task's arrival or
 * stop reaches the proxy within one interval plus the calls (~1 s by default).
 */
import type { ECSClient } from '@aws-sdk/client-ecs';
import { DescribeContainerInstancesCommand, DescribeServicesCommand, DescribeTaskDefinitionCommand, DescribeTasksCommand, ListServicesCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { mkdir } from 'node:fs/promises';
import { HaproxyProcess } from '../../lb/haproxy-process.js';
import { runtimeCommand } from '../../lb/haproxy-runtime.js';
import { background, type BackgroundLog } from '../../process/background.js';
import { HOST_ADDRESS_ATTRIBUTE } from '../host-address.js';
import { initialSlots, planSlots, renderProxyConfig, structureOf, type Slots } from './proxy-config.js';
import { aliasesByNamespace, proxyView, serviceConnectOf, type PortNames, type ProxyView, type ServiceSeen, type TaskSeen } from './proxy-view.js';

/** One of this host's tasks, as the proxy needs it for /etc/hosts. */
export interface LocalTask {
  readonly serviceName?: string;
  /** The runtime ids of its containers that have their own /etc/hosts (not host mode). */
  readonly runtimeIds: readonly string[];
}

export interface ServiceConnectProxyOptions {
  readonly ecs: ECSClient;
  readonly cluster: string;
  /** The address tasks reach the proxy on (a link-local address on the host's lo, as the metadata one). */
  readonly address: string;
  /** HAProxy's files. */
  readonly dir: string;
  readonly log: BackgroundLog & { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };
  readonly localTasks: () => readonly LocalTask[];
  /** Make a container's /etc/hosts carry these aliases (and no others of Service Connect's); idempotent. */
  readonly writeAliases: (runtimeId: string, names: readonly string[]) => Promise<void>;
  readonly intervalMs?: number;
  readonly binary?: string;
}

export class ServiceConnectProxy {
  private readonly haproxy: HaproxyProcess;
  private structure: string | undefined;
  private slots: Slots = new Map();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly portNames = new Map<string, Map<string, { container: string; containerPort: number }>>();
  private readonly hostAddresses = new Map<string, string>();
  /** The last view applied (tests and the log read it). */
  view: ProxyView = { endpoints: [] };

  constructor(private readonly options: ServiceConnectProxyOptions) {
    this.haproxy = new HaproxyProcess({
      dir: options.dir,
      ...(options.binary ? { binary: options.binary } : {}),
      log: options.log,
      onExit: () => {
        // Started again from the current view at the next refresh.
        this.structure = undefined;
      },
    });
  }

  start(): void {
    const every = this.options.intervalMs ?? 1_000;
    const tick = () => {
      if (this.stopped) return;
      this.running = background(this.options.log, 'service connect refresh', () => this.refresh()).then(() => {
        if (!this.stopped) this.timer = setTimeout(tick, every);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.haproxy.stop();
  }

  /** One pass: read the API, apply the view to HAProxy and to the local tasks' /etc/hosts. */
  async refresh(): Promise<void> {
    const services = await this.serviceConnectServices();
    const tasksByService = new Map<string, TaskSeen[]>();
    for (const s of services) tasksByService.set(s.serviceName, await this.tasksOf(s.serviceName));
    await this.learn([...tasksByService.values()].flat());
    const view = proxyView(services, tasksByService, this.portNames as PortNames, this.hostAddresses);
    await this.apply(view);
    this.view = view;
    await this.writeHosts(services, view);
  }

  private async apply(view: ProxyView): Promise<void> {
    const structure = structureOf(view);
    if (view.endpoints.length === 0 && this.structure === undefined) return;
    if (structure === this.structure) {
      const plan = planSlots(this.slots, view);
      if (plan) {
        if (plan.commands.length) {
          await runtimeCommand(this.haproxy.paths.adminSocket, plan.commands);
          this.options.log.info({ commands: plan.commands }, 'service connect proxy backends changed');
        }
        this.slots = plan.slots;
        return;
      }
    }
    const slots = initialSlots(view);
    const config = renderProxyConfig(view, slots, {
      bindAddress: this.options.address,
      adminSocket: this.haproxy.paths.adminSocket,
      serverStateFile: this.haproxy.paths.serverState,
    });
    await mkdir(this.options.dir, { recursive: true });
    if (this.haproxy.currentWorkerPid === undefined) await this.haproxy.start(config);
    else await this.haproxy.reload(config);
    this.slots = slots;
    this.structure = structure;
    this.options.log.info({ endpoints: view.endpoints.map((e) => `${e.dnsName}:${e.port}(${e.backends.length})`) }, 'service connect proxy configured');
  }

  private async serviceConnectServices(): Promise<ServiceSeen[]> {
    const { ecs, cluster } = this.options;
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ecs.send(new ListServicesCommand({ cluster, maxResults: 100, ...(nextToken ? { nextToken } : {}) }));
      arns.push(...(page.serviceArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const out: ServiceSeen[] = [];
    for (let i = 0; i < arns.length; i += 10) {
      const { services = [] } = await ecs.send(new DescribeServicesCommand({ cluster, services: arns.slice(i, i + 10) }));
      for (const s of services) {
        const seen: ServiceSeen = { serviceName: s.serviceName!, status: s.status ?? 'ACTIVE', deployments: (s.deployments ?? []).map((d) => ({ status: d.status ?? '', ...(d.serviceConnectConfiguration ? { serviceConnectConfiguration: d.serviceConnectConfiguration } : {}) })) };
        if (serviceConnectOf(seen)) out.push(seen);
      }
    }
    return out;
  }

  private async tasksOf(serviceName: string): Promise<TaskSeen[]> {
    const { ecs, cluster } = this.options;
    const { taskArns = [] } = await ecs.send(new ListTasksCommand({ cluster, serviceName, desiredStatus: 'RUNNING', maxResults: 100 }));
    const out: TaskSeen[] = [];
    for (let i = 0; i < taskArns.length; i += 100) {
      const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns.slice(i, i + 100) }));
      for (const t of tasks) {
        const eni = t.attachments?.find((a) => a.type === 'ElasticNetworkInterface');
        const eniAddress = eni?.details?.find((d) => d.name === 'privateIPv4Address')?.value;
        out.push({
          taskArn: t.taskArn!,
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

  /** Task definitions' port names and hosts' addresses not seen before (both never change). */
  private async learn(tasks: readonly TaskSeen[]): Promise<void> {
    const { ecs, cluster } = this.options;
    for (const arn of new Set(tasks.flatMap((t) => (t.taskDefinitionArn && !this.portNames.has(t.taskDefinitionArn) ? [t.taskDefinitionArn] : [])))) {
      const { taskDefinition } = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
      const names = new Map<string, { container: string; containerPort: number }>();
      for (const c of taskDefinition?.containerDefinitions ?? []) {
        for (const pm of c.portMappings ?? []) if (pm.name && pm.containerPort !== undefined) names.set(pm.name, { container: c.name!, containerPort: pm.containerPort });
      }
      this.portNames.set(arn, names);
    }
    const unknown = [...new Set(tasks.flatMap((t) => (t.containerInstanceArn && !t.eniAddress && !this.hostAddresses.has(t.containerInstanceArn) ? [t.containerInstanceArn] : [])))];
    if (unknown.length) {
      const { containerInstances = [] } = await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: unknown }));
      for (const ci of containerInstances) {
        const address = ci.attributes?.find((a) => a.name === HOST_ADDRESS_ATTRIBUTE)?.value;
        if (address) this.hostAddresses.set(ci.containerInstanceArn!, address);
      }
    }
  }

  /** Each local task of a Service Connect service gets its namespace's aliases, pointing at the proxy. */
  private async writeHosts(services: readonly ServiceSeen[], view: ProxyView): Promise<void> {
    const namespaceOf = new Map(services.map((s) => [s.serviceName, serviceConnectOf(s)?.namespace]));
    const aliases = aliasesByNamespace(view);
    for (const task of this.options.localTasks()) {
      const ns = task.serviceName ? namespaceOf.get(task.serviceName) : undefined;
      if (!ns) continue;
      // Checked every pass (a read per container): the engine may have rewritten the file since.
      for (const id of task.runtimeIds) await this.options.writeAliases(id, aliases.get(ns) ?? []);
    }
  }
}
