import { pruneExpiredProviders } from '../state/capacity-providers.js';
import type { Logger } from 'pino';
import { beginTermination, causeTime, startActivity, continueTermination } from '../hostgroups/activities.js';
import { instanceSize } from '../hostgroups/instance-types.js';
import { allGroups } from '../hostgroups/records.js';
import { singleValueSample, type Sample } from '../metrics/metric-store.js';
import { seriesRef } from '../metrics/series.js';
import { startPeriodic } from '../process/periodic.js';
import type { ClusterCache } from '../state/cluster-cache.js';
import { hostGroupKeys } from '../state/host-group-keys.js';
import { keys } from '../state/keys.js';
import { parseHostGroup, parseLaunchConfiguration, type HostGroupRecord, type TerminationHook } from '../state/records/host-groups.js';
import { parseInstanceRecord, type InstanceRecord } from '../state/records/instances.js';
import { parseServiceRecord } from '../state/records/services.js';
import type { TaskRecord } from '../state/records/tasks.js';
import type { Store } from '../store/store.js';
import { transact, type Tx } from '../store/transact.js';
import { drainStep, MANAGED_DRAINING_HOOK } from './draining.js';
import { capacityProviderReservation, type Reservation, type TaskSize } from './reservation.js';
import { decideScaling, isWarming, protectionChanges, type ScalingDecision, type ScalingSettings } from './scaling-decision.js';

/**
 * The leader's managed-scaling controller: each pass, for every capacity provider of a host group,
 *
 *   1. keeps the group's termination hook in step with managedDraining (ECS's `ecs-managed-draining-termination-hook`)
 *      and moves each instance waiting on it (draining.ts): container instance DRAINING, then terminated once empty;
 *   2. with managedScaling ENABLED and the provider in a cluster: computes CapacityProviderReservation
 *      (reservation.ts), publishes it as `AWS/ECS/ManagedScaling` `CapacityProviderReservation` {ClusterName,
 *      CapacityProviderName}, and applies the decision (scaling-decision.ts) to the group's record in one
 *      compare-and-swap, with a scaling activity saying why;
 *   3. with managedTerminationProtection ENABLED: sets each InService instance's scale-in protection to whether
 *      it runs tasks.
 *
 * Every write goes through the leader term's fenced store; the only state kept in memory is since when each
 * provider's metric has been low (a new leader starts that wait again: scale-in is only ever later, never sooner).
 */

export interface ManagedProvider {
  readonly name: string;
  /** The cluster it serves (a provider in no cluster does not scale). */
  readonly cluster: string | undefined;
  readonly groupName: string;
  readonly managedScaling: ScalingSettings & { readonly status: 'ENABLED' | 'DISABLED' };
  readonly managedTerminationProtection: 'ENABLED' | 'DISABLED';
  readonly managedDraining: 'ENABLED' | 'DISABLED';
}

export interface ManagedScalingOptions {
  /** The leader term's fenced store. */
  readonly store: Store;
  readonly log: Logger;
  readonly cache: Pick<ClusterCache, 'instanceRecords' | 'liveTaskIds' | 'task' | 'tasks'>;
  /** The ACTIVE capacity providers of host groups. */
  readonly providers: () => Promise<readonly ManagedProvider[]>;
  /** Where the metric goes (berth's metrics store), if metrics are served. */
  readonly publish?: (samples: readonly Sample[]) => Promise<void>;
  readonly now?: () => number;
  /** Between passes (default 15 s: the metric at least each minute, a scale-out within one). */
  readonly intervalMs?: number;
  /** How long the metric must stay under target before a scale-in (default 15 min, ECS's AlarmLow). */
  readonly scaleInAfterMs?: number;
  /** The draining hook's timeout (default 1 h). */
  readonly drainTimeoutS?: number;
  readonly setInterval?: typeof setInterval;
  readonly clearInterval?: typeof clearInterval;
}

export interface ManagedScalingController {
  runOnce(): Promise<void>;
  /** The last reservation computed per provider (for tests and logs). */
  readonly last: ReadonlyMap<string, Reservation>;
  stop(): Promise<void>;
}

export function startManagedScaling(options: ManagedScalingOptions): ManagedScalingController {
  const { store, log, cache } = options;
  const now = options.now ?? Date.now;
  const scaleInAfterMs = options.scaleInAfterMs ?? 15 * 60_000;
  const hook: TerminationHook = { name: MANAGED_DRAINING_HOOK, heartbeatTimeoutS: options.drainTimeoutS ?? 3600 };
  const lowSince = new Map<string, number>();
  const last = new Map<string, Reservation>();

  const runOnce = async () => {
    // Deleted providers are shown for a while, then forgotten (model/capacity-provider.ts).
    const pruned = await pruneExpiredProviders(store, now());
    if (pruned > 0) log.info({ pruned }, 'removed deleted capacity providers past their retention');
    const providers = await options.providers();
    const byGroup = new Map(providers.map((p) => [p.groupName, p]));
    for (const group of await allGroups(store)) {
      const provider = byGroup.get(group.name);
      if (group.terminationHook?.name === MANAGED_DRAINING_HOOK && (!provider || provider.managedDraining !== 'ENABLED')) await setHook(group.name, undefined);
    }
    for (const provider of providers) {
      const entry = await store.get(hostGroupKeys.group(provider.groupName));
      if (!entry) continue;
      const group = parseHostGroup(entry.value, entry.key);
      if (group.deleting) continue;
      if (provider.managedDraining === 'ENABLED' && group.terminationHook?.name !== MANAGED_DRAINING_HOOK) await setHook(group.name, hook);
      const view = provider.cluster !== undefined ? clusterView(provider.cluster) : undefined;
      if (view) await drainWaiting(group, view);
      if (provider.cluster === undefined || !view) continue;
      if (provider.managedScaling.status === 'ENABLED') await scale(provider, provider.cluster, view);
      if (provider.managedTerminationProtection === 'ENABLED') await protect(group.name, view);
    }
  };

  /** The cluster as the cache has it: container instances by EC2 id, and what runs on each. */
  const clusterView = (cluster: string) => {
    const byEc2 = new Map<string, InstanceRecord>();
    for (const c of cache.instanceRecords(cluster).values()) if (c.instance.status !== 'INACTIVE') byEc2.set(c.ec2InstanceId, c);
    const daemon = new Map<string, Promise<boolean>>();
    const isDaemon = (t: TaskRecord) => {
      if (t.serviceName === undefined) return Promise.resolve(false);
      let known = daemon.get(t.serviceName);
      if (!known) {
        known = store.get(keys.service(cluster, t.serviceName)).then((e) => (e ? parseServiceRecord(e.value, e.key).schedulingStrategy === 'DAEMON' : false));
        daemon.set(t.serviceName, known);
      }
      return known;
    };
    /** Tasks other than daemon tasks not yet stopped on the instance with this EC2 id. */
    const liveTasks = async (ec2Id: string) => {
      const c = byEc2.get(ec2Id);
      if (!c) return 0;
      let n = 0;
      for (const id of cache.liveTaskIds(cluster, c.id)) {
        const t = cache.task(cluster, id);
        if (t && !(await isDaemon(t))) n += 1;
      }
      return n;
    };
    return { cluster, byEc2, liveTasks };
  };
  type ClusterView = ReturnType<typeof clusterView>;

  const waitingTasks = (cluster: string, provider: string): TaskSize[] => {
    const out: TaskSize[] = [];
    for (const { value: t } of cache.tasks.cache.values()) {
      if (t.cluster !== cluster || t.instanceId !== undefined || t.task.lastStatus !== 'PROVISIONING' || t.task.desiredStatus === 'STOPPED') continue;
      if (t.task.capacityProviderName !== provider) continue;
      out.push({ cpu: t.needs.cpu, memory: t.needs.memory });
    }
    return out;
  };

  const busyMap = async (group: HostGroupRecord, view: ClusterView) => {
    const busy = new Set<string>();
    for (const i of group.instances) if ((await view.liveTasks(i.instanceId)) > 0) busy.add(i.instanceId);
    return busy;
  };

  const scale = async (provider: ManagedProvider, cluster: string, view: ClusterView) => {
    const settings = provider.managedScaling;
    const snapshot = await store.get(hostGroupKeys.group(provider.groupName));
    if (!snapshot) return;
    const seen = parseHostGroup(snapshot.value, snapshot.key);
    const busy = await busyMap(seen, view);
    const lcEntry = await store.get(hostGroupKeys.launchConfiguration(seen.launchConfigurationName));
    const size = lcEntry ? instanceSize(parseLaunchConfiguration(lcEntry.value, lcEntry.key).instanceType) : undefined;
    if (!size) return;
    const at = now();
    const running = seen.instances.filter((i) => i.lifecycleState === 'InService' && !isWarming(i, at, settings.instanceWarmupPeriod));
    const reservation = capacityProviderReservation({
      running: running.length,
      busy: running.filter((i) => busy.has(i.instanceId)).length,
      waiting: waitingTasks(cluster, provider.name),
      instance: size,
      minimumScalingStepSize: settings.minimumScalingStepSize,
      maximumScalingStepSize: settings.maximumScalingStepSize,
    });
    last.set(provider.name, reservation);
    if (options.publish) await options.publish([reservationSample(cluster, provider.name, reservation.value, at)]);
    const decision = await transact(store, async (tx) => {
      const group = await tx.getRecord(parseHostGroup, hostGroupKeys.group(provider.groupName));
      if (!group || group.deleting) return undefined;
      const low = lowSince.get(provider.name);
      const d = decideScaling(group, settings, { now: at, needed: reservation.needed, lowSince: low, scaleInAfterMs, busy: (id) => busy.has(id) });
      await applyDecision(tx, group, d, at, `capacity provider ${provider.name} (CapacityProviderReservation ${round(reservation.value)}, target ${settings.targetCapacity})`);
      return d;
    });
    if (!decision) return;
    if (decision.target < seen.desiredCapacity) {
      if (!lowSince.has(provider.name)) lowSince.set(provider.name, at);
    } else lowSince.delete(provider.name);
    if (decision.kind !== 'hold') log.info({ provider: provider.name, group: provider.groupName, decision, reservation }, 'managed scaling changed the group');
  };

  const protect = (groupName: string, view: ClusterView) =>
    transact(store, async (tx) => {
      const group = await tx.getRecord(parseHostGroup, hostGroupKeys.group(groupName));
      if (!group) return;
      const busy = await busyMap(group, view);
      const changes = new Map(protectionChanges(group, (id) => busy.has(id)).map((c) => [c.instanceId, c.protect]));
      if (changes.size === 0) return;
      const instances = group.instances.map((i) => (changes.has(i.instanceId) ? { ...i, protectedFromScaleIn: changes.get(i.instanceId)! } : i));
      tx.putJson(hostGroupKeys.group(groupName), { ...group, instances } satisfies HostGroupRecord);
    });

  const setHook = (groupName: string, to: TerminationHook | undefined) =>
    transact(store, async (tx) => {
      const group = await tx.getRecord(parseHostGroup, hostGroupKeys.group(groupName));
      if (!group) return;
      const { terminationHook: _, ...rest } = group;
      // Without the hook nothing holds a waiting instance any more: its termination goes on.
      const next: HostGroupRecord = to ? { ...rest, terminationHook: to } : { ...rest, instances: rest.instances.map(continueTermination) };
      tx.putJson(hostGroupKeys.group(groupName), next);
    });

  const drainWaiting = async (group: HostGroupRecord, view: ClusterView) => {
    const hookNow = group.terminationHook;
    if (!hookNow) return;
    for (const i of group.instances.filter((x) => x.lifecycleState === 'Terminating:Wait')) {
      const c = view.byEc2.get(i.instanceId);
      const step = drainStep(i, hookNow, { now: now(), containerInstanceStatus: c?.instance.status, liveTasks: await view.liveTasks(i.instanceId) });
      if (step.kind === 'wait') continue;
      if (step.kind === 'set-draining' && c) {
        await transact(store, async (tx) => {
          const key = keys.containerInstance(c.cluster, c.id);
          const current = await tx.getRecord(parseInstanceRecord, key);
          if (!current || current.instance.status !== 'ACTIVE') return;
          tx.putJson(key, { ...current, instance: { ...current.instance, status: 'DRAINING', version: (current.instance.version ?? 0) + 1 } } satisfies InstanceRecord);
        });
        log.info({ group: group.name, instanceId: i.instanceId }, 'managed draining: container instance set to DRAINING');
      } else if (step.kind === 'continue') {
        await transact(store, async (tx) => {
          const fresh = await tx.getRecord(parseHostGroup, hostGroupKeys.group(group.name));
          if (!fresh) return;
          tx.putJson(hostGroupKeys.group(group.name), { ...fresh, instances: fresh.instances.map((x) => (x.instanceId === i.instanceId ? continueTermination(x) : x)) } satisfies HostGroupRecord);
        });
        log.info({ group: group.name, instanceId: i.instanceId, why: step.why }, 'managed draining: termination goes on');
      }
    }
  };

  const periodic = startPeriodic({ ...options, log, what: 'managed scaling pass', intervalMs: options.intervalMs ?? 15_000, run: runOnce });
  return {
    runOnce,
    last,
    async stop() {
      await periodic.stop();
    },
  };
}

/** The decision written into the group's record (and its activities); nothing for a hold. */
async function applyDecision(tx: Tx, group: HostGroupRecord, d: ScalingDecision, at: number, why: string): Promise<void> {
  if (d.kind === 'hold') return;
  const from = group.desiredCapacity;
  if (d.kind === 'scale-out' || d.kind === 'lower-desired') {
    startActivity(tx, group, at, {
      description: `Setting desired capacity of ${group.name} from ${from} to ${d.to}`,
      cause: `At ${causeTime(at)} ECS managed scaling of ${why} changed the desired capacity from ${from} to ${d.to}.`,
      statusCode: 'Successful',
    });
    tx.putJson(hostGroupKeys.group(group.name), { ...group, desiredCapacity: d.to } satisfies HostGroupRecord);
    return;
  }
  const chosen = new Set(d.instanceIds);
  const instances = [];
  for (const i of group.instances) {
    if (!chosen.has(i.instanceId)) instances.push(i);
    else {
      const cause = `At ${causeTime(at)} instance ${i.instanceId} was taken out of service in response to ECS managed scaling of ${why}, shrinking the capacity from ${from} to ${d.to}.`;
      instances.push(await beginTermination(tx, group, i, at, cause));
    }
  }
  tx.putJson(hostGroupKeys.group(group.name), { ...group, desiredCapacity: d.to, instances } satisfies HostGroupRecord);
}

export function reservationSample(cluster: string, provider: string, value: number, atMs: number): Sample {
  const series = seriesRef('AWS/ECS/ManagedScaling', 'CapacityProviderReservation', [
    { Name: 'ClusterName', Value: cluster },
    { Name: 'CapacityProviderName', Value: provider },
  ]);
  return singleValueSample(series, 'Percent', atMs, value);
}

const round = (v: number) => Math.round(v * 100) / 100;
