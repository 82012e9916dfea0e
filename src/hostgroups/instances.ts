import type { Operation } from '../api/protocol/json-rpc.js';
import { hostGroupKeys } from '../state/host-group-keys.js';
import { isTerminating, parseScalingActivity, type HostGroupRecord, type ScalingActivityRecord } from '../state/records/host-groups.js';
import { transact } from '../store/transact.js';
import { activityShape, beginTermination, causeTime } from './activities.js';
import type { HostGroupEnv } from './env.js';
import { hostGroupErrors } from './errors.js';
import { instanceShape } from './groups.js';
import { hostGroupPage } from './paging.js';
import { allGroups, groupNamed, listAll } from './records.js';

/** The instances of groups (describe, protect, terminate one) and the activities that made and ended them. */

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/** The group holding `instanceId` (every group's record read: a group lists its own instances). */
async function groupOfInstance(env: HostGroupEnv, instanceId: string): Promise<HostGroupRecord> {
  const group = (await allGroups(env.store)).find((g) => g.instances.some((i) => i.instanceId === instanceId));
  if (!group) throw hostGroupErrors.validation(`InstanceId: Instance Id not found - No managed instance found for instance ID: ${instanceId}`);
  return group;
}

export function instanceOperations(env: HostGroupEnv): Record<string, Operation> {
  return {
    async DescribeAutoScalingInstances(input: { InstanceIds?: string[]; NextToken?: string; MaxRecords?: number }) {
      const ids = input.InstanceIds;
      const all = (await allGroups(env.store))
        .flatMap((g) => g.instances.map((i) => ({ ...instanceShape(i), InstanceId: i.instanceId, AutoScalingGroupName: g.name })))
        .filter((i) => !ids || ids.length === 0 || ids.includes(i.InstanceId))
        .sort((a, b) => (a.InstanceId < b.InstanceId ? -1 : 1));
      const page = hostGroupPage(all, (i) => i.InstanceId, input);
      return { AutoScalingInstances: page.items, ...(page.NextToken ? { NextToken: page.NextToken } : {}) };
    },

    async SetInstanceProtection(input: { InstanceIds: string[]; AutoScalingGroupName: string; ProtectedFromScaleIn: boolean }) {
      if (input.InstanceIds.length > 50) throw hostGroupErrors.limit('InstanceIds: at most 50 instances at a time');
      await transact(env.store, async (tx) => {
        const group = await groupNamed(tx, input.AutoScalingGroupName);
        for (const id of input.InstanceIds) {
          if (!group.instances.some((i) => i.instanceId === id)) throw hostGroupErrors.validation(`InstanceIds: The instance ${id} is not part of Auto Scaling group ${group.name}.`);
        }
        const instances = group.instances.map((i) => (input.InstanceIds.includes(i.instanceId) ? { ...i, protectedFromScaleIn: input.ProtectedFromScaleIn } : i));
        tx.putJson(hostGroupKeys.group(group.name), { ...group, instances } satisfies HostGroupRecord);
      });
      return {};
    },

    async TerminateInstanceInAutoScalingGroup(input: { InstanceId: string; ShouldDecrementDesiredCapacity: boolean }) {
      const id = input.InstanceId;
      if (!INSTANCE_ID.test(id)) throw hostGroupErrors.validation(`InstanceId: '${id}' is not an instance id (i- and hex digits)`);
      const { name } = await groupOfInstance(env, id);
      const activity = await transact(env.store, async (tx) => {
        const group = await groupNamed(tx, name);
        const instance = group.instances.find((i) => i.instanceId === id);
        if (!instance) throw hostGroupErrors.validation(`InstanceId: Instance Id not found - No managed instance found for instance ID: ${id}`);
        if (isTerminating(instance.lifecycleState)) throw hostGroupErrors.inProgress(`InstanceId: instance ${id} is already being terminated`);
        const desired = input.ShouldDecrementDesiredCapacity ? group.desiredCapacity - 1 : group.desiredCapacity;
        if (desired < group.minSize) {
          throw hostGroupErrors.validation(
            `ShouldDecrementDesiredCapacity: Currently, desiredSize equals minSize (${group.minSize}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
          );
        }
        const now = env.now();
        const cause = input.ShouldDecrementDesiredCapacity
          ? `At ${causeTime(now)} instance ${id} was taken out of service in response to a user request, shrinking the capacity from ${group.desiredCapacity} to ${desired}.`
          : `At ${causeTime(now)} instance ${id} was taken out of service in response to a user request.`;
        const terminating = await beginTermination(tx, group, instance, now, cause);
        tx.putJson(hostGroupKeys.group(group.name), {
          ...group,
          desiredCapacity: desired,
          instances: group.instances.map((i) => (i.instanceId === id ? terminating : i)),
        } satisfies HostGroupRecord);
        return (await tx.getRecord(parseScalingActivity, hostGroupKeys.activity(group.name, terminating.activityId)))!;
      });
      return { Activity: activityShape(activity) };
    },

    async DescribeScalingActivities(input: { ActivityIds?: string[]; AutoScalingGroupName?: string; NextToken?: string; MaxRecords?: number; IncludeDeletedGroups?: boolean }) {
      const prefix = input.AutoScalingGroupName !== undefined ? hostGroupKeys.activitiesOf(input.AutoScalingGroupName) : hostGroupKeys.activities();
      const ids = input.ActivityIds;
      const all = (await listAll(env.store, prefix, parseScalingActivity)).filter((a) => !ids || ids.length === 0 || ids.includes(a.id));
      if (input.AutoScalingGroupName !== undefined && all.length === 0 && !(await env.store.get(hostGroupKeys.group(input.AutoScalingGroupName)))) {
        throw hostGroupErrors.groupNotFound(input.AutoScalingGroupName);
      }
      // Newest first, as Auto Scaling lists them: the page key is the start-ordered id, inverted.
      const newestFirst = all.sort((a, b) => b.startTime - a.startTime || (a.id < b.id ? 1 : -1));
      const page = hostGroupPage(newestFirst, (a: ScalingActivityRecord) => inverted(`${String(a.startTime).padStart(15, '0')}${a.id}`), input, 100);
      return { Activities: page.items.map(activityShape), ...(page.NextToken ? { NextToken: page.NextToken } : {}) };
    },
  };
}

/** A key that sorts in the opposite order (each character's code complemented). */
const inverted = (key: string) => [...key].map((c) => String.fromCharCode(0xffff - c.charCodeAt(0))).join('');
