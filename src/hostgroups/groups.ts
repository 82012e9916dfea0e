import { retireGroupProviderInTx } from '../state/capacity-providers.js';
import { randomUUID } from 'node:crypto';
import type { Operation } from '../api/protocol/json-rpc.js';
import { hostGroupKeys } from '../state/host-group-keys.js';
import type { HostGroupRecord, HostGroupTag, HostInstanceRecord } from '../state/records/host-groups.js';
import { transact, type Tx } from '../store/transact.js';
import { beginTermination, causeTime, startActivity } from './activities.js';
import { hostGroupLimits, type HostGroupEnv } from './env.js';
import { hostGroupErrors } from './errors.js';
import { hostGroupPage } from './paging.js';
import { allGroups, groupNamed, launchConfigurationNamed } from './records.js';

/**
 * Auto Scaling groups of berth hosts: sizes and zones here, the instances themselves by the group controller
 * (group-controller.ts), which reads the desired capacity these operations write. Fields of EC2 Auto Scaling that
 * need what berth has not (launch templates, subnets, load balancers, warm pools, …) are refused, naming the field.
 */

const NAME = /^[^:]{1,255}$/;
const ZONE = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;
const UNSUPPORTED = [
  'LaunchTemplate',
  'MixedInstancesPolicy',
  'InstanceId',
  'VPCZoneIdentifier',
  'LoadBalancerNames',
  'TargetGroupARNs',
  'PlacementGroup',
  'LifecycleHookSpecificationList',
  'TrafficSources',
  'AvailabilityZoneIds',
] as const;

interface SizeInput {
  MinSize?: number;
  MaxSize?: number;
  DesiredCapacity?: number;
  LaunchConfigurationName?: string;
  AvailabilityZones?: string[];
  DefaultCooldown?: number;
  HealthCheckType?: string;
  HealthCheckGracePeriod?: number;
  NewInstancesProtectedFromScaleIn?: boolean;
  [field: string]: unknown;
}

interface CreateInput extends SizeInput {
  AutoScalingGroupName: string;
  MinSize: number;
  MaxSize: number;
  Tags?: { Key: string; Value?: string; PropagateAtLaunch?: boolean; ResourceId?: string; ResourceType?: string }[];
}

export function instanceShape(i: HostInstanceRecord): object {
  return {
    InstanceId: i.instanceId,
    InstanceType: i.instanceType,
    AvailabilityZone: i.availabilityZone,
    LifecycleState: i.lifecycleState,
    HealthStatus: i.healthStatus,
    LaunchConfigurationName: i.launchConfigurationName,
    ProtectedFromScaleIn: i.protectedFromScaleIn,
  };
}

export function groupShape(g: HostGroupRecord, includeInstances = true): object {
  return {
    AutoScalingGroupName: g.name,
    AutoScalingGroupARN: g.arn,
    LaunchConfigurationName: g.launchConfigurationName,
    MinSize: g.minSize,
    MaxSize: g.maxSize,
    DesiredCapacity: g.desiredCapacity,
    DefaultCooldown: g.defaultCooldown,
    AvailabilityZones: g.availabilityZones,
    LoadBalancerNames: [],
    TargetGroupARNs: [],
    HealthCheckType: g.healthCheckType,
    HealthCheckGracePeriod: g.healthCheckGracePeriod,
    ...(includeInstances ? { Instances: g.instances.map(instanceShape) } : {}),
    CreatedTime: g.createdTime / 1000,
    SuspendedProcesses: [],
    EnabledMetrics: [],
    ...(g.deleting ? { Status: 'Delete in progress' } : {}),
    Tags: g.tags.map((t) => ({ ResourceId: g.name, ResourceType: 'auto-scaling-group', Key: t.key, Value: t.value, PropagateAtLaunch: t.propagateAtLaunch })),
    TerminationPolicies: ['Default'],
    NewInstancesProtectedFromScaleIn: g.newInstancesProtectedFromScaleIn,
    TrafficSources: [],
  };
}

interface GroupFilter {
  Name?: string;
  Values?: string[];
}

/**
 * DescribeAutoScalingGroups' Filters, as Auto Scaling has them: `tag-key`, `tag-value`, `tag:<key>` (a group matches
 * a filter when one of its tags does, and every filter); any other name is a ValidationError naming it.
 */
function groupFilter(filters: readonly GroupFilter[]): (g: HostGroupRecord) => boolean {
  const tests = filters.map((f) => {
    const name = f.Name ?? '';
    const values = f.Values ?? [];
    if (name === 'tag-key') return (g: HostGroupRecord) => g.tags.some((t) => values.includes(t.key));
    if (name === 'tag-value') return (g: HostGroupRecord) => g.tags.some((t) => values.includes(t.value));
    if (name.startsWith('tag:')) {
      const key = name.slice(4);
      return (g: HostGroupRecord) => g.tags.some((t) => t.key === key && values.includes(t.value));
    }
    throw hostGroupErrors.validation(`Filters: '${name}' is not a filter name (tag-key, tag-value or tag:<key>)`);
  });
  return (g) => tests.every((test) => test(g));
}

function refuseUnsupported(input: SizeInput): void {
  for (const field of UNSUPPORTED) {
    if (input[field] !== undefined) throw hostGroupErrors.validation(`${field}: berth's host groups do not take ${field}`);
  }
  if (input.HealthCheckType !== undefined && input.HealthCheckType !== 'EC2') {
    throw hostGroupErrors.validation(`HealthCheckType: berth checks hosts by their agents' registration only ('EC2'), not '${input.HealthCheckType}'`);
  }
}

function checkZones(zones: readonly string[] | undefined): string[] {
  if (!zones || zones.length === 0) throw hostGroupErrors.validation('AvailabilityZones: at least one Availability Zone is required');
  for (const z of zones) if (!ZONE.test(z)) throw hostGroupErrors.validation(`AvailabilityZones: '${z}' is not an Availability Zone name (like us-east-1a)`);
  return [...new Set(zones)];
}

/** Min ≤ desired ≤ max ≤ the limit, in Auto Scaling's words. */
function checkSizes(min: number, max: number, desired: number, limit: number): void {
  if (min < 0) throw hostGroupErrors.validation(`MinSize: ${min} must not be negative`);
  if (max > limit) throw hostGroupErrors.validation(`MaxSize: ${max} is above berth's limit of ${limit}`);
  if (min > max) throw hostGroupErrors.validation(`MinSize: ${min} must be less than or equal to MaxSize ${max}`);
  if (desired < min) throw hostGroupErrors.validation(`DesiredCapacity: ${desired} must be greater than or equal to MinSize ${min}`);
  if (desired > max) throw hostGroupErrors.validation(`DesiredCapacity: ${desired} must be less than or equal to MaxSize ${max}`);
}

function tagsOf(input: CreateInput, name: string, limit: number): HostGroupTag[] {
  const tags = input.Tags ?? [];
  if (tags.length > limit) throw hostGroupErrors.limit(`Tags: at most ${limit} tags per group`);
  const seen = new Set<string>();
  return tags.map((t) => {
    if (t.ResourceId !== undefined && t.ResourceId !== name) throw hostGroupErrors.validation(`Tags: ResourceId '${t.ResourceId}' is not the group '${name}'`);
    if (t.ResourceType !== undefined && t.ResourceType !== 'auto-scaling-group') throw hostGroupErrors.validation(`Tags: ResourceType must be auto-scaling-group`);
    if (t.Key.startsWith('aws:')) throw hostGroupErrors.validation(`Tags: the key '${t.Key}' uses the reserved prefix aws:`);
    if (seen.has(t.Key)) throw hostGroupErrors.validation(`Tags: the key '${t.Key}' is given twice`);
    seen.add(t.Key);
    return { key: t.Key, value: t.Value ?? '', propagateAtLaunch: t.PropagateAtLaunch ?? false };
  });
}

/** The group named, refusing one being deleted (nothing may change it but the controller then). */
async function changeableGroup(tx: Tx, name: string): Promise<HostGroupRecord> {
  const group = await groupNamed(tx, name);
  if (group.deleting) throw hostGroupErrors.inProgress(`AutoScalingGroup ${name}: the group is being deleted`);
  return group;
}

/** Record a user's change of desired capacity as the activity cause Auto Scaling writes, for the next launches. */
function desiredChange(env: HostGroupEnv, tx: Tx, group: HostGroupRecord, to: number, what: string): void {
  if (to === group.desiredCapacity) return;
  startActivity(tx, group, env.now(), {
    description: `Setting desired capacity of ${group.name} from ${group.desiredCapacity} to ${to}`,
    cause: `At ${causeTime(env.now())} a user request ${what} changing the desired capacity from ${group.desiredCapacity} to ${to}.`,
    statusCode: 'Successful',
  });
}

export function groupOperations(env: HostGroupEnv): Record<string, Operation> {
  const limits = () => hostGroupLimits(env);
  return {
    async CreateAutoScalingGroup(input: CreateInput) {
      const name = input.AutoScalingGroupName;
      if (!NAME.test(name)) throw hostGroupErrors.validation(`AutoScalingGroupName: '${name}' must be 1 to 255 characters without ':'`);
      refuseUnsupported(input);
      if (input.LaunchConfigurationName === undefined) throw hostGroupErrors.validation('LaunchConfigurationName: required (berth launches hosts from launch configurations)');
      const zones = checkZones(input.AvailabilityZones);
      const desired = input.DesiredCapacity ?? input.MinSize;
      checkSizes(input.MinSize, input.MaxSize, desired, limits().maxSize);
      const tags = tagsOf(input, name, limits().tagsPerGroup);
      await transact(env.store, async (tx) => {
        if (await tx.get(hostGroupKeys.group(name))) throw hostGroupErrors.alreadyExists(`AutoScalingGroup by this name already exists - A group with the name ${name} already exists`);
        const lc = await launchConfigurationNamed(tx, input.LaunchConfigurationName!);
        const count = (await tx.range(hostGroupKeys.groups(), { limit: limits().groups })).entries.length;
        if (count >= limits().groups) throw hostGroupErrors.limit(`You have reached your limit of ${limits().groups} Auto Scaling groups`);
        const group: HostGroupRecord = {
          name,
          arn: `arn:aws:autoscaling:${env.scope.region}:${env.scope.accountId}:autoScalingGroup:${randomUUID()}:autoScalingGroupName/${name}`,
          launchConfigurationName: lc.name,
          minSize: input.MinSize,
          maxSize: input.MaxSize,
          desiredCapacity: 0,
          defaultCooldown: input.DefaultCooldown ?? 300,
          availabilityZones: zones,
          healthCheckType: 'EC2',
          healthCheckGracePeriod: input.HealthCheckGracePeriod ?? 0,
          newInstancesProtectedFromScaleIn: input.NewInstancesProtectedFromScaleIn ?? false,
          tags,
          createdTime: env.now(),
          instances: [],
        };
        desiredChange(env, tx, group, desired, 'created an AutoScalingGroup');
        tx.putJson(hostGroupKeys.group(name), { ...group, desiredCapacity: desired } satisfies HostGroupRecord);
        tx.putJson(hostGroupKeys.launchConfiguration(lc.name), { ...lc, groups: [...lc.groups, name] });
      });
      return {};
    },

    async UpdateAutoScalingGroup(input: SizeInput & { AutoScalingGroupName: string }) {
      refuseUnsupported(input);
      const zones = input.AvailabilityZones !== undefined ? checkZones(input.AvailabilityZones) : undefined;
      await transact(env.store, async (tx) => {
        const group = await changeableGroup(tx, input.AutoScalingGroupName);
        const min = input.MinSize ?? group.minSize;
        const max = input.MaxSize ?? group.maxSize;
        // As Auto Scaling does: a new minimum above the desired capacity raises it, a new maximum below lowers it.
        const desired = input.DesiredCapacity ?? Math.min(max, Math.max(min, group.desiredCapacity));
        checkSizes(min, max, desired, limits().maxSize);
        let launchConfigurationName = group.launchConfigurationName;
        if (input.LaunchConfigurationName !== undefined && input.LaunchConfigurationName !== group.launchConfigurationName) {
          const next = await launchConfigurationNamed(tx, input.LaunchConfigurationName);
          const previous = await launchConfigurationNamed(tx, group.launchConfigurationName);
          tx.putJson(hostGroupKeys.launchConfiguration(previous.name), { ...previous, groups: previous.groups.filter((g) => g !== group.name) });
          tx.putJson(hostGroupKeys.launchConfiguration(next.name), { ...next, groups: [...next.groups, group.name] });
          launchConfigurationName = next.name;
        }
        desiredChange(env, tx, group, desired, 'updated the AutoScalingGroup');
        tx.putJson(hostGroupKeys.group(group.name), {
          ...group,
          launchConfigurationName,
          minSize: min,
          maxSize: max,
          desiredCapacity: desired,
          ...(zones ? { availabilityZones: zones } : {}),
          ...(input.DefaultCooldown !== undefined ? { defaultCooldown: input.DefaultCooldown } : {}),
          ...(input.HealthCheckGracePeriod !== undefined ? { healthCheckGracePeriod: input.HealthCheckGracePeriod } : {}),
          ...(input.NewInstancesProtectedFromScaleIn !== undefined ? { newInstancesProtectedFromScaleIn: input.NewInstancesProtectedFromScaleIn } : {}),
        } satisfies HostGroupRecord);
      });
      return {};
    },

    async SetDesiredCapacity(input: { AutoScalingGroupName: string; DesiredCapacity: number; HonorCooldown?: boolean }) {
      await transact(env.store, async (tx) => {
        const group = await changeableGroup(tx, input.AutoScalingGroupName);
        const d = input.DesiredCapacity;
        if (d > group.maxSize) throw hostGroupErrors.validation(`DesiredCapacity: New SetDesiredCapacity value ${d} is above max value ${group.maxSize} for the AutoScalingGroup.`);
        if (d < group.minSize) throw hostGroupErrors.validation(`DesiredCapacity: New SetDesiredCapacity value ${d} is below min value ${group.minSize} for the AutoScalingGroup.`);
        desiredChange(env, tx, group, d, 'set the desired capacity');
        tx.putJson(hostGroupKeys.group(group.name), { ...group, desiredCapacity: d } satisfies HostGroupRecord);
      });
      return {};
    },

    async DescribeAutoScalingGroups(input: { AutoScalingGroupNames?: string[]; IncludeInstances?: boolean; NextToken?: string; MaxRecords?: number; Filters?: GroupFilter[] }) {
      const matches = groupFilter(input.Filters ?? []);
      const names = input.AutoScalingGroupNames;
      let all = (await allGroups(env.store)).filter(matches);
      if (names && names.length > 0) all = all.filter((g) => names.includes(g.name));
      const page = hostGroupPage(all, (g) => g.name, input);
      return { AutoScalingGroups: page.items.map((g) => groupShape(g, input.IncludeInstances ?? true)), ...(page.NextToken ? { NextToken: page.NextToken } : {}) };
    },

    async DeleteAutoScalingGroup(input: { AutoScalingGroupName: string; ForceDelete?: boolean }) {
      await transact(env.store, async (tx) => {
        const group = await groupNamed(tx, input.AutoScalingGroupName);
        if (group.deleting) return;
        if (group.instances.length === 0) {
          // Nothing to terminate: gone at once, its launch configuration free again.
          tx.delete(hostGroupKeys.group(group.name));
          await retireGroupProviderInTx(tx, group.name, env.now());
          const lc = await launchConfigurationNamed(tx, group.launchConfigurationName).catch(() => undefined);
          if (lc) tx.putJson(hostGroupKeys.launchConfiguration(lc.name), { ...lc, groups: lc.groups.filter((g) => g !== group.name) });
          return;
        }
        if (!input.ForceDelete) {
          throw hostGroupErrors.inUse('You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.');
        }
        // The controller terminates every instance (protected ones too: a forced delete overrides protection and any
        // termination hook, as Auto Scaling's ForceDelete drops outstanding lifecycle actions), then removes the group.
        const now = env.now();
        const instances: HostInstanceRecord[] = [];
        for (const i of group.instances) {
          instances.push(await beginTermination(tx, group, i, now, `At ${causeTime(now)} a user request deleted the AutoScalingGroup, terminating instance ${i.instanceId}.`, undefined, true));
        }
        tx.putJson(hostGroupKeys.group(group.name), { ...group, deleting: true, minSize: 0, desiredCapacity: 0, instances } satisfies HostGroupRecord);
      });
      return {};
    },
  };
}
