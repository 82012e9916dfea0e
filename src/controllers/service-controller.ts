import { randomUUID } from 'node:crypto';
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import type { Logger } from 'pino';
import type { ArnScope } from '../model/arn.js';
import { happened, serviceMessages, withEvents } from '../model/service/events.js';
import { serviceGroup } from '../model/service/service.js';
import type { Tag } from '../model/tags.js';
import { taskNeeds } from '../model/task.js';
import type { Wire } from '../model/wire.js';
import { keys } from '../state/keys.js';
import { constraintsOf, requiredAttributesOf } from '../state/placement-request.js';
import type { ServiceRecord } from '../state/records/services.js';
import type { TaskDefinitionRecord } from '../state/records/task-definitions.js';
import type { TaskRecord } from '../state/records/tasks.js';
import type { ClusterCache } from '../state/cluster-cache.js';
import { Informer } from '../store/informer.js';
import type { Store } from '../store/store.js';
import { launchTasksInTx, type LaunchSpec } from '../state/task-launch.js';
import { deactivateTaskInTx, stopTaskInTx } from '../state/task-stop.js';
import { readRecord, transact } from '../store/transact.js';
import { reconcileService } from './services/reconcile.js';
import { DEFAULT_RECONCILE_SETTINGS, type ReconcileSettings, type ServicePlan, type TaskDefinitionFacts } from './services/state.js';
import { WorkQueue } from './work-queue.js';
import { launchOnProvidersInTx, readProviderHosts } from './services/provider-launches.js';
import { poolHostsOf } from '../state/spot-interruption.js';
import { launchKindOf } from './services/launch-plan.js';
import { setForwardWeights } from '../elb/forward-weights.js';
import { deregisterServiceTargets, deregistrationDelayMs, registerServiceTargets, targetGroupInTx, targetsInTx } from '../elb/service-targets.js';
import { elbKeys } from '../state/elb-keys.js';
import { applyServiceInstances, cloudMapServiceInTx, serviceInstancesInTx } from '../cloudmap/service-instances.js';
import { ecsRegistrar } from '../state/records/cloudmap.js';
import type { RegistryView } from './services/registry-view.js';
import { parseTargetSet } from '../state/records/elb.js';
import { allTargetGroupArns, type GroupView } from './services/target-of.js';
import { targetEvents } from './services/targets.js';
import { parseTaskDefinitionRecord } from '../state/records/task-definitions.js';
import { parseTaskRecord } from '../state/records/tasks.js';
import { parseServiceRecord } from '../state/records/services.js';
import { instancesFor, syncServiceConnectInstances } from './services/service-connect.js';
import { portNamesOf } from '../model/service/service-connect.js';
import { emitServiceEvents } from '../state/ecs-events.js';

const portNameOf = (td: Parameters<typeof portNamesOf>[0] | undefined, portName: string) => (td ? portNamesOf(td).get(portName) : undefined);

export interface ServiceControllerOptions {
  readonly store: Store;
  /** The process's instances and tasks (started); the controller adds its own informer on services/. */
  readonly cache: ClusterCache;
  readonly log: Logger;
  readonly scope: ArnScope;
  readonly now?: () => number;
  /** An instance whose agent is disconnected this long is lost; its service tasks are replaced (default 5 min). */
  readonly instanceLostAfterMs?: number;
  /** Every service is looked at again this often even without events (default 30 s). */
  readonly resyncMs?: number;
  /** Passes over different services at once (default 4). */
  readonly workers?: number;
  readonly maxLaunchesPerPass?: number;
  /** Least time between two passes over one service, so bursts of task reports batch up (default 100 ms). */
  readonly minPassIntervalMs?: number;
}

export interface ServiceController {
  /** Resolves when no pass is queued or under way (for tests). */
  idle(): Promise<void>;
  /** Passes completed per service key so far (for tests: proof that the controller looked again). */
  passes(key: string): number;
  /** Service keys queued or under a pass right now (operators' metrics). */
  queueDepth(): number;
  stop(): Promise<void>;
}

/** The plan was made on state that changed before it could be committed: make a new one. */
class StalePlan extends Error {
  override readonly name = 'StalePlan';
}

/**
 * The service controller: keeps each service's tasks where its desired state says, level-triggered.
 *
 * Events (a service, a task of a service, or an instance changed) only queue service keys
 * (`<cluster>/<name>`); a periodic resync queues them all. A pass reads the whole state of one service —
 * the record from the store, its tasks and the cluster's instances from the process's informer-fed
 * {@link ClusterCache} (caught up to the store's revision first), its task definitions — asks the pure `reconcileService` what
 * to do, and commits the stops, the launches (reserve-and-create, as RunTask) and the updated service record in
 * one transaction, which fails if the service or a task the plan relied on changed meanwhile (then the pass
 * starts over). The work queue never runs two passes over one service at once, so a launch is always
 * committed — and seen by the next pass — before another is planned.
 */
export function startServiceController(options: ServiceControllerOptions): ServiceController {
  const { store, cache, log } = options;
  const now = options.now ?? Date.now;
  const settings: ReconcileSettings = {
    instanceLostAfterMs: options.instanceLostAfterMs ?? DEFAULT_RECONCILE_SETTINGS.instanceLostAfterMs,
    maxLaunchesPerPass: options.maxLaunchesPerPass ?? DEFAULT_RECONCILE_SETTINGS.maxLaunchesPerPass,
  };
  const tdCache = new Map<string, { record: TaskDefinitionRecord; facts: TaskDefinitionFacts }>();
  const passCounts = new Map<string, number>();

  const queue = new WorkQueue<string>({
    workers: options.workers ?? 4,
    minIntervalMs: options.minPassIntervalMs ?? 100,
    process: (key) => pass(key),
    onError: (key, err) => log.warn({ err, service: key }, 'service pass failed; retrying with backoff'),
  });

  async function taskDefinition(arn: string) {
    const cached = tdCache.get(arn);
    if (cached) return cached;
    const [family, revision] = (arn.split('/')[1] ?? '').split(':');
    const record = family && revision ? await readRecord(store, parseTaskDefinitionRecord, keys.taskDefinition(family, Number(revision))) : undefined;
    if (!record) return undefined;
    const entry = { record, facts: factsOf(record.taskDefinition) };
    tdCache.set(arn, entry);
    return entry;
  }

  /** The service's target groups with their targets, as they stand (a group that is gone is left out). */
  async function readTargetGroups(record: ServiceRecord, setRevisions: Map<string, number>): Promise<Map<string, GroupView>> {
    const groups = new Map<string, GroupView>();
    for (const arn of allTargetGroupArns(record)) {
      const view = await transact(store, async (tx) => {
        const tg = await targetGroupInTx(tx, arn);
        if (!tg) return undefined;
        const targets = await targetsInTx(tx, tg);
        setRevisions.set(elbKeys.targets(tg.id), (await tx.get(elbKeys.targets(tg.id)))?.modRevision ?? 0);
        // A group no listener uses has nothing to drain: deregistration removes its targets at once.
        const drainMs = tg.usedBy.length > 0 ? deregistrationDelayMs(tg) : 0;
        return { arn, targetType: tg.targetType, drainMs, targets: targets.map((t) => ({ id: t.id, port: t.port, state: t.state })) } satisfies GroupView;
      });
      if (view) groups.set(arn, view);
    }
    return groups;
  }

  /** The Cloud Map services of the service's registries (current and former), with their instances. */
  async function readRegistries(record: ServiceRecord): Promise<Map<string, RegistryView>> {
    const registries = new Map<string, RegistryView>();
    const arns = new Set([...(record.serviceRegistries ?? []).flatMap((r) => (r.registryArn ? [r.registryArn] : [])), ...(record.berth.formerRegistries ?? [])]);
    for (const arn of arns) {
      const view = await transact(store, async (tx) => {
        const service = await cloudMapServiceInTx(tx, arn);
        if (!service) return undefined;
        const instances = await serviceInstancesInTx(tx, service.id);
        return {
          arn,
          recordTypes: (service.dns?.records ?? []).map((r) => r.Type),
          customHealth: service.customHealth,
          instances: instances.map((i) => ({ id: i.id, attributes: i.attributes, health: i.health, ...(i.registeredBy !== undefined ? { registeredBy: i.registeredBy } : {}) })),
        } satisfies RegistryView;
      });
      if (view) registries.set(arn, view);
    }
    return registries;
  }

  async function pass(key: string): Promise<{ requeueAfterMs?: number }> {
    const [cluster, name] = splitKey(key);
    const serviceKey = keys.service(cluster, name);
    const entry = await store.get(serviceKey);
    if (!entry) return {};
    const record = parseServiceRecord(entry.value, entry.key);
    // Not a record the services API wrote (no bookkeeping): nothing to converge.
    if (!record.berth || !record.serviceName) return {};
    // Everything committed before this pass — its own last commit included — is in the cache, so a launch
    // is never planned twice; the commit below re-checks what the plan relied on.
    await cache.catchUp();
    const tasks: TaskRecord[] = [];
    const revisions = new Map<string, number>();
    for (const { value: t, modRevision } of cache.serviceTasks(cluster, name)) {
      tasks.push(t);
      revisions.set(t.id, modRevision);
    }
    const instances = cache.snapshot(cluster);
    const fargatePool = cache.snapshot(cluster, 'fargate');
    // Only a service that launches on the pool may interrupt spot tasks there (and pays for looking them up).
    const onPool = [record, ...(record.deployments ?? []), ...(record.taskSets ?? [])].some((d) => launchKindOf(d).kind === 'fargate');
    const fargateSpot = onPool ? poolHostsOf(fargatePool, (id) => cache.task(cluster, id)) : undefined;
    const disconnectedAt = new Map<string, number>();
    for (const r of cache.instanceRecords(cluster).values()) {
      if (!r.instance.agentConnected && r.disconnectedAt !== undefined) disconnectedAt.set(r.id, r.disconnectedAt);
    }
    const arns = new Set([
      ...[...(record.deployments ?? []), ...(record.taskSets ?? [])].map((d) => d.taskDefinition!),
      ...tasks.map((t) => t.task.taskDefinitionArn!),
    ]);
    const taskDefinitions = new Map<string, TaskDefinitionFacts>();
    for (const arn of arns) {
      const td = await taskDefinition(arn);
      if (td) taskDefinitions.set(arn, td.facts);
    }
    const setRevisions = new Map<string, number>();
    const targetGroups = await readTargetGroups(record, setRevisions);
    const registries = await readRegistries(record);
    const providerHosts = await readProviderHosts(store, record);
    const plan = reconcileService({
      record,
      targetGroups,
      registries,
      tasks,
      instances,
      fargatePool,
      ...(fargateSpot ? { fargateSpot } : {}),
      disconnectedAt,
      taskDefinitions,
      now: now(),
      settings,
      seed: Math.floor(Math.random() * 2 ** 31),
      ...(providerHosts ? { providerHosts } : {}),
    });
    try {
      await commit(cluster, name, entry.modRevision, entry.value, plan, revisions, setRevisions);
    } catch (error) {
      if (error instanceof StalePlan) return { requeueAfterMs: 0 };
      throw error;
    }
    // Service Connect: the tasks in their discoveryName's Cloud Map service (services/service-connect.ts).
    const sc = instancesFor(record, tasks, cache.instanceRecords(cluster), (arn, portName) => portNameOf(tdCache.get(arn)?.record.taskDefinition, portName), options.scope.region);
    await syncServiceConnectInstances(store, options.scope, now, sc);
    passCounts.set(key, (passCounts.get(key) ?? 0) + 1);
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : {};
  }

  async function commit(
    cluster: string,
    name: string,
    revision: number,
    stored: string,
    plan: ServicePlan,
    revisions: ReadonlyMap<string, number>,
    setRevisions: ReadonlyMap<string, number>,
  ) {
    const serviceKey = keys.service(cluster, name);
    const ctx = { scope: options.scope, now };
    // The launches are a rolling deployment's or, for the EXTERNAL and CODE_DEPLOY controllers, a task set's.
    const launchFrom = plan.launchDeploymentId
      ? [...(plan.record.deployments ?? []), ...(plan.record.taskSets ?? [])].find((d) => d.id === plan.launchDeploymentId)
      : undefined;
    const primaryTd = launchFrom?.taskDefinition;
    const td = primaryTd ? await taskDefinition(primaryTd) : undefined;
    await transact(store, async (tx) => {
      const current = await tx.get(serviceKey);
      if (current?.modRevision !== revision) throw new StalePlan();
      if (plan.forget) {
        tx.delete(serviceKey);
        return;
      }
      // Healthy tasks behind load balancers are healthy by their targets: those must not have changed either.
      if (plan.reliesOn.length > 0) {
        for (const [key, rev] of setRevisions) if (((await tx.get(key))?.modRevision ?? 0) !== rev) throw new StalePlan();
      }
      for (const id of plan.reliesOn) {
        const task = await tx.get(keys.task(cluster, id));
        if (task?.modRevision !== revisions.get(id)) throw new StalePlan();
      }
      for (const stop of plan.stops) {
        const task = await tx.getRecord(parseTaskRecord, keys.task(cluster, stop.taskId));
        // A DEACTIVATING task's stop is the end of its drain: the agent may stop it now.
        if (task) await stopTaskInTx(ctx, tx, task, { reason: stop.reason, stopCode: 'ServiceSchedulerInitiated', drained: true });
      }
      for (const d of plan.deactivations ?? []) {
        const task = await tx.getRecord(parseTaskRecord, keys.task(cluster, d.taskId));
        if (task) await deactivateTaskInTx(tx, task, { reason: d.reason, stopCode: 'ServiceSchedulerInitiated' }, now());
      }
      // Deregistered before stopped (the plan holds the stop back until they drained); registered once RUNNING.
      const deregistered: [string, number][] = [];
      for (const d of plan.deregistrations ?? []) deregistered.push([d.targetGroupArn, (await deregisterServiceTargets(tx, d.targetGroupArn, d.targets, now())).count]);
      // Traffic shifting: the production and test rules' forward weights, in the same transaction as the record.
      for (const f of plan.forwards ?? []) await setForwardWeights(tx, f.ruleArn, f.weights);
      // Cloud Map: a stopping task leaves the answers in the transaction that stops it; a RUNNING one joins them.
      for (const c of plan.registryChanges ?? []) {
        const done = await applyServiceInstances(tx, c.registryArn, c, ecsRegistrar(plan.record.serviceArn!));
        if (done.refused.length > 0) log.warn({ service: `${cluster}/${name}`, registry: c.registryArn, tasks: done.refused }, 'tasks not registered: attributes the Cloud Map service cannot use');
      }
      const registered: [string, number][] = [];
      for (const r of plan.registrations ?? []) registered.push([r.targetGroupArn, await registerServiceTargets(tx, r.targetGroupArn, r.targets, now())]);
      const started: string[] = [];
      if (plan.launches.length > 0 && td && plan.launchDeploymentId) {
        const spec = launchSpec(cluster, plan.record, td.record, td.facts, plan.launchDeploymentId);
        const { created } = await launchTasksInTx(ctx, tx, spec, plan.launches);
        started.push(...created.map((t) => t.id));
      }
      if (plan.providerLaunches?.length && td && plan.launchDeploymentId) {
        const spec = launchSpec(cluster, plan.record, td.record, td.facts, plan.launchDeploymentId);
        started.push(...(await launchOnProvidersInTx(ctx, tx, spec, plan.record, td.facts, plan.providerLaunches)));
      }
      const added = [...targetEvents(name, registered, deregistered), ...plan.events, ...serviceMessages.started(name, started).map(happened)];
      const next: ServiceRecord = { ...plan.record, events: withEvents(plan.record.events ?? [], added, now(), randomUUID) };
      // Written only when something changed: the controller's own write queues the service once more.
      if (!sameJson(next, JSON.parse(stored))) tx.putJson(serviceKey, next);
      // The events it recorded, as EventBridge's ECS Service Action / Deployment State Change (state/ecs-events.ts).
      const before = new Set((plan.record.events ?? []).map((e) => e.id));
      const recorded = (next.events ?? []).filter((e) => !before.has(e.id)).map((e) => e.message ?? '');
      if (next.serviceArn && next.clusterArn) emitServiceEvents(tx, { serviceArn: next.serviceArn, clusterArn: next.clusterArn }, recorded.reverse(), now());
    });
  }

  // Services come from an informer of their own; tasks and instances from the process's cluster cache.
  // Each re-lists and re-watches by itself after any watch error, telling its handlers what changed meanwhile.
  const services = new Informer({
    store,
    prefix: keys.services(),
    parse: parseServiceRecord,
    onError: (err, failure) => log.warn({ err, ...failure }, `services informer: ${failure.kind} failed`),
  });
  const serviceKey = (k: string) => k.slice('services/'.length);
  const enqueueCluster = (cluster: string) => {
    const prefix = keys.servicesOf(cluster);
    for (const k of services.cache.keys()) if (k.startsWith(prefix)) queue.add(serviceKey(k));
  };
  const resync = () => {
    for (const k of services.cache.keys()) queue.add(serviceKey(k));
  };
  const serviceOf = (t: TaskRecord) => {
    if (t.serviceName) queue.add(`${t.cluster}/${t.serviceName}`);
  };
  // Target health (written by the data plane) and registrations decide what a service behind a load balancer does.
  const targetSets = new Informer({
    store,
    prefix: elbKeys.allTargets(),
    parse: parseTargetSet,
    onError: (err, failure) => log.warn({ err, ...failure }, `target sets informer: ${failure.kind} failed`),
  });
  const enqueueUsers = (set: { targetGroupArn: string }) => {
    for (const [k, r] of services.cache) {
      if (allTargetGroupArns(r.value).includes(set.targetGroupArn)) queue.add(serviceKey(k));
    }
  };
  const unsubscribe = [
    targetSets.subscribe({ added: (_k, set) => enqueueUsers(set), updated: (_k, _old, set) => enqueueUsers(set) }),
    services.subscribe({ added: (k) => queue.add(serviceKey(k)), updated: (k) => queue.add(serviceKey(k)) }),
    cache.tasks.subscribe({
      added: (_k, t) => serviceOf(t),
      updated: (_k, _old, t) => serviceOf(t),
    }),
    cache.instances.subscribe({
      // Reservations change with every launch; only what placement and lost hosts depend on matters here.
      added: (_k, r) => enqueueCluster(r.cluster),
      updated: (_k, old, r) => {
        const signature = (x: typeof r) => JSON.stringify([x.instance.status, x.instance.agentConnected, x.instance.attributes, x.instance.registeredResources]);
        if (signature(old) !== signature(r)) enqueueCluster(r.cluster);
      },
    }),
  ];
  // The first list queues every service (its handlers hear each one as added).
  services.start();
  targetSets.start();
  const timer = setInterval(resync, options.resyncMs ?? 30_000);
  timer.unref();

  return {
    idle: () => queue.idle(),
    passes: (key) => passCounts.get(key) ?? 0,
    queueDepth: () => queue.size,
    async stop() {
      clearInterval(timer);
      for (const u of unsubscribe) u();
      services.stop();
      targetSets.stop();
      await queue.stop();
    },
  };
}

/** Deep equality of JSON values, regardless of key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    return a.length === bs.length && a.every((x, i) => sameJson(x, bs[i]));
  }
  const ak = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bk = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** What the controller needs of a task definition: needs, health checks, constraints, required attributes. */
export function factsOf(td: Wire<TaskDefinition>): TaskDefinitionFacts {
  return {
    arn: td.taskDefinitionArn!,
    needs: taskNeeds(td),
    healthChecked: (td.containerDefinitions ?? []).some((c) => (c.essential ?? true) && c.healthCheck !== undefined),
    constraints: constraintsOf(td.placementConstraints),
    requiredAttributes: requiredAttributesOf(td),
  };
}

/** The tasks a service launches: its group, the deployment as startedBy, propagated and managed tags. */
function launchSpec(cluster: string, record: ServiceRecord, td: TaskDefinitionRecord, facts: TaskDefinitionFacts, deploymentId: string): LaunchSpec {
  const s = record;
  const propagated: Tag[] =
    s.propagateTags === 'TASK_DEFINITION'
      ? td.tags
      : s.propagateTags === 'SERVICE'
        ? (s.tags ?? []).map((t) => ({ key: t.key!, value: t.value ?? '' }))
        : [];
  const managed: Tag[] = s.enableECSManagedTags
    ? [
        { key: 'aws:ecs:clusterName', value: cluster },
        { key: 'aws:ecs:serviceName', value: record.serviceName! },
      ]
    : [];
  const awsvpc = [...(s.deployments ?? []), ...(s.taskSets ?? [])].find((d) => d.id === deploymentId)?.networkConfiguration?.awsvpcConfiguration;
  return {
    cluster,
    td: td.taskDefinition,
    ...(awsvpc && td.taskDefinition.networkMode === 'awsvpc' ? { awsvpc } : {}),
    propagatedTags: propagated,
    tags: managed,
    overrides: { containerOverrides: [], inferenceAcceleratorOverrides: [] },
    group: serviceGroup(record.serviceName!),
    startedBy: deploymentId,
    serviceName: record.serviceName!,
    needs: facts.needs,
    ...(s.enableExecuteCommand ? { enableExecuteCommand: true } : {}),
  };
}
