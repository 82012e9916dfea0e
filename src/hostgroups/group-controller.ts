import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { background } from '../process/background.js';
import { startPeriodic } from '../process/periodic.js';
import { hostGroupKeys } from '../state/host-group-keys.js';
import { retireGroupProviderInTx } from '../state/capacity-providers.js';
import { keys } from '../state/keys.js';
import { isTerminating, parseHostGroup, parseLaunchConfiguration, type HostGroupRecord, type HostInstanceRecord, type LaunchConfigurationRecord } from '../state/records/host-groups.js';
import { parseInstanceRecord, type InstanceRecord } from '../state/records/instances.js';
import type { Store } from '../store/store.js';
import { transact, type Tx } from '../store/transact.js';
import { beginTermination, causeTime, finishActivity, startActivity } from './activities.js';
import { instanceSize } from './instance-types.js';
import { planGroup, type PlanStep } from './plan.js';
import type { HostRequest, Provisioners } from './provisioners/provisioner.js';
import { allGroups } from './records.js';
import { clusterOf, ecsConfigFor } from './user-data.js';

/**
 * The leader's host group controller: each pass reads every group, applies its plan (plan.ts) in one
 * compare-and-swap on the group's record — new instances are written Pending *before* any provisioner is asked
 * for them, so a leader change never leaves a host the store does not know — then asks the provisioners for
 * what the record says is wanted:
 *
 *   Pending, not provisioned ──create──▶ Pending, provisioned ──agent registers──▶ InService
 *        │ create failed / no registration within the timeout                       │ scale in, terminate, delete
 *        ▼                                                                           ▼
 *   Terminating ───────────────────────terminate───────────────────────▶ removed (container instance INACTIVE)
 *
 * (An InService instance of a group with a termination hook passes through Terminating:Wait first; this controller
 * leaves it alone there: managed draining lets it go.)
 *
 * A call in flight is not repeated by this process; a new leader repeats calls whose outcome was not recorded
 * (provisioners are idempotent per instance id). A group being deleted is removed once its last instance is.
 */

export interface GroupControllerOptions {
  /** The leader term's fenced store. */
  readonly store: Store;
  readonly log: Logger;
  readonly provisioners: Provisioners;
  /** The container instances as the process's informer has them (connected agents count as registered). */
  readonly containerInstances: () => Iterable<InstanceRecord>;
  readonly now?: () => number;
  /** A host whose agent has not registered this long after its launch is terminated and replaced (default 5 min). */
  readonly registrationTimeoutMs?: number;
  /** Between passes (default 2 s). */
  readonly intervalMs?: number;
  /** ECS_BACKEND_HOST of new hosts' ecs.config, unless their UserData sets it. */
  readonly backendHost?: string;
  readonly setInterval?: typeof setInterval;
  readonly clearInterval?: typeof clearInterval;
}

export interface GroupController {
  /** One pass now (tests drive passes with it). */
  runOnce(): Promise<void>;
  /** Until every provisioner call started so far has finished and its outcome is recorded. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export const newInstanceId = () => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;

export function startGroupController(options: GroupControllerOptions): GroupController {
  const { store, log, provisioners } = options;
  const now = options.now ?? Date.now;
  const timeoutMs = options.registrationTimeoutMs ?? 300_000;
  const inFlight = new Map<string, Promise<void>>();
  let stopped = false;

  const registeredIds = () => {
    const ids = new Set<string>();
    for (const c of options.containerInstances()) {
      if (c.instance.status !== 'INACTIVE' && c.instance.agentConnected !== false && c.disconnectedAt === undefined) ids.add(c.ec2InstanceId);
    }
    return ids;
  };

  /** Apply a group's plan in one transaction; the group as committed (undefined once removed). */
  const reconcile = (name: string, registered: ReadonlySet<string>) =>
    transact(store, async (tx) => {
      const group = await tx.getRecord(parseHostGroup, hostGroupKeys.group(name));
      if (!group) return undefined;
      const at = now();
      if (group.deleting && group.instances.length === 0) {
        await removeGroup(tx, group, at);
        return undefined;
      }
      const steps = planGroup(group, { now: at, registered: (id) => registered.has(id), registrationTimeoutMs: timeoutMs });
      if (steps.length === 0) return group;
      const lc = await tx.getRecord(parseLaunchConfiguration, hostGroupKeys.launchConfiguration(group.launchConfigurationName));
      const next = await applySteps(tx, group, lc, steps, at, timeoutMs);
      tx.putJson(hostGroupKeys.group(name), next);
      return next;
    });

  /** Ask the provisioner for what `group` says is wanted, each call once per process at a time. */
  const act = (group: HostGroupRecord, launchConfigs: ReadonlyMap<string, LaunchConfigurationRecord>) => {
    for (const instance of group.instances) {
      if (inFlight.has(instance.instanceId) || stopped) continue;
      const provisioner = provisioners.get(instance.imageId);
      let work: (() => Promise<void>) | undefined;
      if (instance.lifecycleState === 'Terminating') {
        work = async () => {
          if (!provisioner) throw new Error(`no provisioner for ${instance.imageId}`);
          await provisioner.terminate(instance.instanceId);
          await recordTerminated(group.name, instance.instanceId);
        };
      } else if (instance.lifecycleState === 'Pending' && !instance.provisioned) {
        const lc = launchConfigs.get(instance.launchConfigurationName);
        work = async () => {
          try {
            if (!provisioner) throw new Error(`the launch configuration's ImageId '${instance.imageId}' names no provisioner of this server`);
            await provisioner.create(hostRequest(group, instance, lc, provisioner.backendHost?.() ?? options.backendHost));
          } catch (error) {
            await recordLaunchFailed(group.name, instance.instanceId, (error as Error).message);
            return;
          }
          await recordProvisioned(group.name, instance.instanceId);
        };
      }
      if (!work) continue;
      const what = instance.lifecycleState === 'Terminating' ? 'terminating a host' : 'creating a host';
      const running = background(log, what, work, { group: group.name, instanceId: instance.instanceId }).finally(() => inFlight.delete(instance.instanceId));
      inFlight.set(instance.instanceId, running);
    }
  };

  const recordProvisioned = (groupName: string, instanceId: string) =>
    updateInstance(groupName, instanceId, async (_tx, _group, i) => (i.lifecycleState === 'Pending' ? { ...i, provisioned: true } : i));

  const recordLaunchFailed = (groupName: string, instanceId: string, message: string) =>
    updateInstance(groupName, instanceId, async (tx, group, i) => {
      const at = now();
      return beginTermination(tx, group, i, at, `At ${causeTime(at)} instance ${instanceId} could not be launched: ${message}`, message);
    });

  const recordTerminated = (groupName: string, instanceId: string) =>
    transact(store, async (tx) => {
      const group = await tx.getRecord(parseHostGroup, hostGroupKeys.group(groupName));
      const instance = group?.instances.find((i) => i.instanceId === instanceId);
      if (!group || !instance) return;
      const at = now();
      await finishActivity(tx, group.name, instance.activityId, at, 'Successful');
      await deregisterContainerInstance(tx, instanceId, [...options.containerInstances()]);
      const rest = { ...group, instances: group.instances.filter((i) => i.instanceId !== instanceId) };
      if (rest.deleting && rest.instances.length === 0) await removeGroup(tx, rest, at);
      else tx.putJson(hostGroupKeys.group(group.name), rest satisfies HostGroupRecord);
    });

  const updateInstance = (groupName: string, instanceId: string, change: (tx: Tx, group: HostGroupRecord, i: HostInstanceRecord) => Promise<HostInstanceRecord>) =>
    transact(store, async (tx) => {
      const group = await tx.getRecord(parseHostGroup, hostGroupKeys.group(groupName));
      const instance = group?.instances.find((i) => i.instanceId === instanceId);
      if (!group || !instance) return;
      const changed = await change(tx, group, instance);
      if (changed === instance) return;
      tx.putJson(hostGroupKeys.group(group.name), { ...group, instances: group.instances.map((i) => (i.instanceId === instanceId ? changed : i)) } satisfies HostGroupRecord);
    });

  const runOnce = async () => {
    const registered = registeredIds();
    const launchConfigs = new Map<string, LaunchConfigurationRecord>();
    for (const group of await allGroups(store)) {
      const current = await reconcile(group.name, registered);
      if (!current) continue;
      for (const name of new Set(current.instances.map((i) => i.launchConfigurationName))) {
        if (launchConfigs.has(name)) continue;
        const entry = await store.get(hostGroupKeys.launchConfiguration(name));
        if (entry) launchConfigs.set(name, parseLaunchConfiguration(entry.value, entry.key));
      }
      act(current, launchConfigs);
    }
  };

  const periodic = startPeriodic({ ...options, log, what: 'host group pass', intervalMs: options.intervalMs ?? 2_000, run: runOnce });
  return {
    runOnce,
    async idle() {
      while (inFlight.size > 0) await Promise.all(inFlight.values());
    },
    async stop() {
      stopped = true;
      await periodic.stop();
      await Promise.all(inFlight.values());
    },
  };
}

/** The plan's steps written into the group (and its activities); the new record. */
async function applySteps(tx: Tx, group: HostGroupRecord, lc: LaunchConfigurationRecord | undefined, steps: readonly PlanStep[], at: number, timeoutMs: number): Promise<HostGroupRecord> {
  let instances = [...group.instances];
  const replace = (id: string, next: HostInstanceRecord) => (instances = instances.map((i) => (i.instanceId === id ? next : i)));
  const live = instances.filter((i) => !isTerminating(i.lifecycleState)).length;
  const launches = steps.filter((s) => s.kind === 'launch').length;
  const scaleIns = steps.filter((s) => s.kind === 'scale-in').length;
  const timeouts = steps.filter((s) => s.kind === 'registration-timeout').length;
  for (const step of steps) {
    if (step.kind === 'in-service') {
      const i = instances.find((x) => x.instanceId === step.instanceId)!;
      await finishActivity(tx, group.name, i.activityId, at, 'Successful');
      replace(i.instanceId, { ...i, lifecycleState: 'InService', provisioned: true, healthStatus: 'Healthy' });
    } else if (step.kind === 'registration-timeout') {
      const i = instances.find((x) => x.instanceId === step.instanceId)!;
      const why = `Instance ${i.instanceId} did not register with cluster ${clusterOf(lc?.userData)} within ${Math.round(timeoutMs / 1000)} seconds of its launch`;
      replace(i.instanceId, await beginTermination(tx, group, i, at, `At ${causeTime(at)} an instance was taken out of service in response to a failed registration: ${why}.`, why));
    } else if (step.kind === 'scale-in') {
      const i = instances.find((x) => x.instanceId === step.instanceId)!;
      const cause = `At ${causeTime(at)} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${live} to ${live - scaleIns}.`;
      replace(i.instanceId, await beginTermination(tx, group, i, at, cause));
    } else if (!lc) {
      // A launch configuration deleted under a group (DeleteLaunchConfiguration refuses that): nothing to launch from.
      continue;
    } else {
      const instanceId = newInstanceId();
      const from = live - timeouts;
      const activity = startActivity(tx, group, at, {
        description: `Launching a new EC2 instance: ${instanceId}`,
        cause: `At ${causeTime(at)} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${from} to ${from + launches}.`,
        instanceId,
      });
      instances.push({
        instanceId,
        availabilityZone: step.availabilityZone,
        lifecycleState: 'Pending',
        healthStatus: 'Healthy',
        protectedFromScaleIn: group.newInstancesProtectedFromScaleIn,
        launchConfigurationName: lc.name,
        instanceType: lc.instanceType,
        imageId: lc.imageId,
        launchedAt: at,
        provisioned: false,
        activityId: activity.id,
      });
    }
  }
  return { ...group, instances };
}

/** What the provisioner is asked for: the host, its size and its ecs.config. */
export function hostRequest(group: HostGroupRecord, instance: HostInstanceRecord, lc: LaunchConfigurationRecord | undefined, backendHost: string | undefined): HostRequest {
  const size = instanceSize(instance.instanceType);
  if (!size) throw new Error(`instance type '${instance.instanceType}' is not a berth size`);
  const attributes = Object.fromEntries(group.tags.filter((t) => t.propagateAtLaunch).map((t) => [t.key, t.value]));
  const userData = lc?.userData;
  return {
    instanceId: instance.instanceId,
    groupName: group.name,
    availabilityZone: instance.availabilityZone,
    instanceType: instance.instanceType,
    ...size,
    cluster: clusterOf(userData),
    ecsConfig: ecsConfigFor(userData, {
      instanceId: instance.instanceId,
      instanceType: instance.instanceType,
      ...size,
      availabilityZone: instance.availabilityZone,
      attributes,
      ...(backendHost !== undefined ? { backendHost } : {}),
    }),
  };
}

/** A terminated host's container instance leaves its cluster, as ECS deregisters a terminated EC2 instance's. */
async function deregisterContainerInstance(tx: Tx, ec2InstanceId: string, known: readonly InstanceRecord[]): Promise<void> {
  for (const seen of known.filter((c) => c.ec2InstanceId === ec2InstanceId)) {
    const key = keys.containerInstance(seen.cluster, seen.id);
    const current = await tx.getRecord(parseInstanceRecord, key);
    if (!current || current.instance.status === 'INACTIVE') continue;
    tx.putJson(key, {
      ...current,
      instance: { ...current.instance, status: 'INACTIVE', agentConnected: false, version: (current.instance.version ?? 0) + 1 },
    } satisfies InstanceRecord);
  }
}

async function removeGroup(tx: Tx, group: HostGroupRecord, nowMs: number): Promise<void> {
  tx.delete(hostGroupKeys.group(group.name));
  await retireGroupProviderInTx(tx, group.name, nowMs);
  const lc = await tx.getRecord(parseLaunchConfiguration, hostGroupKeys.launchConfiguration(group.launchConfigurationName));
  if (lc) tx.putJson(hostGroupKeys.launchConfiguration(lc.name), { ...lc, groups: lc.groups.filter((g) => g !== group.name) });
}
