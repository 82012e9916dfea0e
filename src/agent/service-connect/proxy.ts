/**
 * The agent's Service Connect proxy: one HAProxy per host (the load balancer data plane's process manager,
 * src/lb/haproxy-process.ts) on the Service Connect address, following the ECS API.
 *
 *   every intervalMs ── ListServices/DescribeServices (cluster) ──▶ the cluster's Service Connect services
 *     (or at once when a task  └─ ListServicesByNamespace (their namespaces, every cluster) ──▶ DescribeServices
 *      waits to start)          └─ ListTasks/DescribeTasks per service, DescribeTaskDefinition (cached, immutable),
 *                                  DescribeContainerInstances (berth.host-address, cached) ──▶ proxyView (pure)
 *        view ──▶ aliases changed? ──yes──▶ render → haproxy -c → seamless reload (or first start)
 *                      └──no──▶ planSlots → runtime API `set server …` (tasks in and out, no reload)
 *        view ──▶ /etc/hosts of this host's tasks of Service Connect services: `<address> <alias>…` per namespace
 *        this host's awsvpc tasks with ingressPortOverride ──▶ ingress listeners in their namespaces (ingress.ts)
 *   a local task stopped ──▶ drain (drain.ts): out of the proxies' backends, its sessions done, within a bound
 *
 * The agent knows the control plane only through its public API (as `berth lb` does), so a task's arrival or
 * stop reaches the proxy within one interval plus the calls (~1 s by default). A container of a service's task
 * starts only after a pass that began after it asked (`readyToStart`): its /etc/hosts then has its namespace's
 * aliases and HAProxy serves them, as ECS starts a task's containers only once its Service Connect container
 * is healthy.
 */
import { mkdir } from 'node:fs/promises';
import { HaproxyProcess } from '../../lb/haproxy-process.js';
import { parseShowStat, runtimeCommand } from '../../lb/haproxy-runtime.js';
import { background, type BackgroundLog } from '../../process/background.js';
import type { EcsClient } from '../aws-json/services.js';
import { systemTimers, type Timers } from '../task-engine/timers.js';
import { drainTask, type DrainEnd } from './drain.js';
import { learn, serviceConnectServices, tasksOf } from './ecs-reads.js';
import { ingressListeners, type IngressListener, type LocalIngressTask } from './ingress.js';
import { PassGate } from './pass-gate.js';
import { ingressName, initialSlots, planSlots, renderProxyConfig, structureOf, type Slots } from './proxy-config.js';
import { aliasesByNamespace, proxyView, serviceConnectOf, type NamedPort, type PortNames, type ProxyView, type TaskSeen } from './proxy-view.js';

/** One of this host's tasks, as the proxy needs it for /etc/hosts and ingress listeners. */
export interface LocalTask extends LocalIngressTask {
  /** The runtime ids of its containers that have their own /etc/hosts (not host mode). */
  readonly runtimeIds: readonly string[];
}

export interface ServiceConnectProxyOptions {
  readonly ecs: EcsClient;
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
  readonly timers?: Timers;
  readonly now?: () => number;
}

export class ServiceConnectProxy {
  private readonly haproxy: HaproxyProcess;
  private structure: string | undefined;
  private slots: Slots = new Map();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly portNames = new Map<string, Map<string, NamedPort>>();
  private readonly hostAddresses = new Map<string, string>();
  private readonly gate: PassGate;
  private inPass = false;
  /** The agent's cluster's Service Connect services by name, as the last pass read them: their namespace. */
  private ownNamespaces = new Map<string, string>();
  /** The last view applied (tests and the log read it). */
  view: ProxyView = { endpoints: [] };
  /** The ingress listeners applied with it. */
  ingress: readonly IngressListener[] = [];
  private conflicts = '';

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
    this.gate = new PassGate(options.timers ?? systemTimers, () => this.kick());
  }

  start(): void {
    this.tick();
  }

  private readonly tick = (): void => {
    if (this.stopped) return;
    this.inPass = true;
    let ok = false;
    this.running = background(this.options.log, 'service connect refresh', async () => {
      await this.refresh();
      ok = true;
    }).then(() => {
      this.inPass = false;
      // Someone waits for a pass that began after the one that just ended: the next at once (after a failed
      // pass, the usual interval: the API is not hammered).
      if (!this.stopped) this.timer = setTimeout(this.tick, ok && this.gate.waiting ? 0 : (this.options.intervalMs ?? 1_000));
    });
  };

  /** A pass as soon as possible: now when none runs (one running hands over to the next at its end). */
  private kick(): void {
    if (this.inPass || this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.gate.close();
    await this.running;
    await this.haproxy.stop();
  }

  /**
   * Before a container of a task of `serviceName` (this agent's cluster) starts: wait for a pass that began now
   * or later, then give the container its namespace's aliases when the service uses Service Connect. Rejects
   * (ProxyNotReadyError) when no pass succeeds within `timeoutMs`.
   */
  async readyToStart(serviceName: string, runtimeId: string, timeoutMs: number): Promise<void> {
    await this.gate.wait(timeoutMs);
    const ns = this.ownNamespaces.get(serviceName);
    if (ns) await this.options.writeAliases(runtimeId, aliasesByNamespace(this.view).get(ns) ?? []);
  }

  /** Whether this agent's cluster's service uses Service Connect (as the last pass read it). */
  usesServiceConnect(serviceName: string): boolean {
    return this.ownNamespaces.has(serviceName);
  }

  /**
   * A local task the control plane stopped: resolves once the proxies no longer send it requests and this host's
   * proxy holds none to it, or after `boundMs` (drain.ts).
   */
  drain(taskArn: string, boundMs: number): Promise<DrainEnd> {
    // Its servers as they are now (the pass that takes it out frees their slots).
    const servers = new Set<string>();
    for (const [backend, row] of this.slots) row.forEach((b, i) => b?.taskArn === taskArn && servers.add(`${backend}/s${i + 1}`));
    for (const l of this.ingress) if (l.taskArn === taskArn) servers.add(`${ingressName(l)}/task`);
    const sessions = async () => {
      if (servers.size === 0 || this.haproxy.currentWorkerPid === undefined) return 0;
      const stats = parseShowStat(await runtimeCommand(this.haproxy.paths.adminSocket, 'show stat'));
      return stats.filter((st) => servers.has(`${st.backend}/${st.server}`)).reduce((n, st) => n + st.currentSessions, 0);
    };
    const now = this.options.now ?? Date.now;
    const began = now();
    return drainTask({ gate: this.gate, sessions, timers: this.options.timers ?? systemTimers, now }, boundMs).then((end) => {
      this.options.log.info({ task: taskArn, end, ms: now() - began }, 'service connect drain over');
      return end;
    });
  }

  /** One pass: read the API, apply the view to HAProxy and to the local tasks' /etc/hosts. */
  async refresh(): Promise<void> {
    const pass = this.gate.begin();
    const { services, own } = await serviceConnectServices(this.options.ecs, this.options.cluster);
    const tasksByService = new Map<string, TaskSeen[]>();
    for (const s of services) tasksByService.set(s.serviceArn, await tasksOf(this.options.ecs, s, this.options.cluster));
    await learn(this.options.ecs, [...tasksByService.values()].flat(), services, this.portNames, this.hostAddresses);
    const view = proxyView(services, tasksByService, this.portNames as PortNames, this.hostAddresses);
    // Tasks not stopped yet keep their listener while they drain.
    const ingress = ingressListeners(services.filter((s) => own.has(s.serviceArn)), this.options.localTasks());
    await this.apply(view, ingress);
    this.view = view;
    this.ingress = ingress;
    this.ownNamespaces = new Map(services.filter((s) => own.has(s.serviceArn)).map((s) => [s.serviceName, serviceConnectOf(s)!.namespace!]));
    const conflicts = (view.conflicts ?? []).join(', ');
    if (conflicts && conflicts !== this.conflicts) this.options.log.warn({ conflicts: view.conflicts ?? [] }, 'service connect aliases left out: their port is taken');
    this.conflicts = conflicts;
    await this.writeHosts(view);
    this.gate.succeeded(pass);
  }

  private async apply(view: ProxyView, ingress: readonly IngressListener[]): Promise<void> {
    const structure = structureOf(view, ingress);
    if (view.endpoints.length === 0 && ingress.length === 0 && this.structure === undefined) return;
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
    const config = renderProxyConfig(
      view,
      slots,
      { bindAddress: this.options.address, adminSocket: this.haproxy.paths.adminSocket, serverStateFile: this.haproxy.paths.serverState },
      ingress,
    );
    await mkdir(this.options.dir, { recursive: true });
    if (this.haproxy.currentWorkerPid === undefined) await this.haproxy.start(config);
    else await this.haproxy.reload(config);
    this.slots = slots;
    this.structure = structure;
    this.options.log.info(
      { endpoints: view.endpoints.map((e) => `${e.dnsName}:${e.port}/${e.mode}(${e.backends.length})`), ingress: ingress.map((l) => `${l.address}:${l.port}→${l.target.port}`) },
      'service connect proxy configured',
    );
  }

  /** Each local task of a Service Connect service gets its namespace's aliases, pointing at the proxy. */
  private async writeHosts(view: ProxyView): Promise<void> {
    const aliases = aliasesByNamespace(view);
    for (const task of this.options.localTasks()) {
      const ns = task.serviceName ? this.ownNamespaces.get(task.serviceName) : undefined;
      if (!ns) continue;
      // Checked every pass (a read per container): the engine may have rewritten the file since.
      for (const id of task.runtimeIds) await this.options.writeAliases(id, aliases.get(ns) ?? []);
    }
  }
}
