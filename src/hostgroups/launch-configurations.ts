import { randomUUID } from 'node:crypto';
import type { Operation } from '../api/protocol/json-rpc.js';
import { hostGroupKeys } from '../state/host-group-keys.js';
import { parseLaunchConfiguration, type LaunchConfigurationRecord } from '../state/records/host-groups.js';
import { transact } from '../store/transact.js';
import { hostGroupLimits, IMAGE_ID, type HostGroupEnv } from './env.js';
import { hostGroupErrors } from './errors.js';
import { instanceSize, INSTANCE_TYPES } from './instance-types.js';
import { hostGroupPage } from './paging.js';
import { launchConfigurationNamed, listAll } from './records.js';

/**
 * Launch configurations: what a group's new hosts are. ImageId names the provisioner that makes them (`netns`,
 * `command:NAME`), InstanceType their size (instance-types.ts), UserData their ecs.config lines (user-data.ts).
 * The rest of EC2's fields (key pairs, security groups, block devices, …) mean nothing to berth and are refused
 * rather than silently dropped.
 */

const NAME = /^[^:]{1,255}$/;
const UNSUPPORTED = ['InstanceId', 'KeyName', 'SecurityGroups', 'ClassicLinkVPCId', 'KernelId', 'RamdiskId', 'BlockDeviceMappings', 'SpotPrice', 'PlacementTenancy'] as const;

interface CreateInput {
  LaunchConfigurationName: string;
  ImageId?: string;
  InstanceType?: string;
  UserData?: string;
  IamInstanceProfile?: string;
  [field: string]: unknown;
}

export function launchConfigurationShape(lc: LaunchConfigurationRecord): object {
  return {
    LaunchConfigurationName: lc.name,
    LaunchConfigurationARN: lc.arn,
    ImageId: lc.imageId,
    InstanceType: lc.instanceType,
    ...(lc.userData !== undefined ? { UserData: lc.userData } : {}),
    SecurityGroups: [],
    ClassicLinkVPCSecurityGroups: [],
    BlockDeviceMappings: [],
    InstanceMonitoring: { Enabled: false },
    CreatedTime: lc.createdTime / 1000,
    EbsOptimized: false,
  };
}

export function launchConfigurationOperations(env: HostGroupEnv): Record<string, Operation> {
  return {
    async CreateLaunchConfiguration(input: CreateInput) {
      const name = input.LaunchConfigurationName;
      if (!NAME.test(name)) throw hostGroupErrors.validation(`LaunchConfigurationName: '${name}' must be 1 to 255 characters without ':'`);
      for (const field of UNSUPPORTED) {
        if (input[field] !== undefined) throw hostGroupErrors.validation(`${field}: berth's launch configurations do not take ${field}`);
      }
      const imageId = input.ImageId;
      if (imageId === undefined) throw hostGroupErrors.validation('ImageId: required (netns or command:NAME, the provisioner of the new hosts)');
      if (!IMAGE_ID.test(imageId)) throw hostGroupErrors.validation(`ImageId: '${imageId}' names no provisioner; expected netns or command:NAME`);
      const problem = env.provisionerProblem?.(imageId);
      if (problem !== undefined) throw hostGroupErrors.validation(`ImageId: ${problem}`);
      const type = input.InstanceType;
      if (type === undefined) throw hostGroupErrors.validation(`InstanceType: required (one of ${Object.keys(INSTANCE_TYPES).join(', ')}, or berth.<vCPUs>cpu.<MiB>mib)`);
      if (!instanceSize(type)) {
        throw hostGroupErrors.validation(`InstanceType: '${type}' is not a berth size (one of ${Object.keys(INSTANCE_TYPES).join(', ')}, or berth.<vCPUs>cpu.<MiB>mib)`);
      }
      if (input.UserData !== undefined && Buffer.byteLength(input.UserData) > 21_847) throw hostGroupErrors.validation('UserData: at most 21847 bytes');
      const limit = hostGroupLimits(env).launchConfigurations;
      await transact(env.store, async (tx) => {
        if (await tx.get(hostGroupKeys.launchConfiguration(name))) {
          throw hostGroupErrors.alreadyExists(`Launch Configuration by this name already exists - A launch configuration already exists with the name ${name}`);
        }
        const existing = await tx.range(hostGroupKeys.launchConfigurations(), { limit });
        if (existing.entries.length >= limit) throw hostGroupErrors.limit(`Launch configuration limit exceeded: at most ${limit} launch configurations`);
        const record: LaunchConfigurationRecord = {
          name,
          arn: `arn:aws:autoscaling:${env.scope.region}:${env.scope.accountId}:launchConfiguration:${randomUUID()}:launchConfigurationName/${name}`,
          imageId,
          instanceType: type,
          ...(input.UserData !== undefined ? { userData: input.UserData } : {}),
          createdTime: env.now(),
          groups: [],
        };
        tx.putJson(hostGroupKeys.launchConfiguration(name), record);
      });
      return {};
    },

    async DescribeLaunchConfigurations(input: { LaunchConfigurationNames?: string[]; NextToken?: string; MaxRecords?: number }) {
      const names = input.LaunchConfigurationNames;
      let all = await listAll(env.store, hostGroupKeys.launchConfigurations(), parseLaunchConfiguration);
      if (names && names.length > 0) all = all.filter((lc) => names.includes(lc.name));
      const page = hostGroupPage(all, (lc) => lc.name, input);
      return { LaunchConfigurations: page.items.map(launchConfigurationShape), ...(page.NextToken ? { NextToken: page.NextToken } : {}) };
    },

    async DeleteLaunchConfiguration(input: { LaunchConfigurationName: string }) {
      await transact(env.store, async (tx) => {
        const lc = await launchConfigurationNamed(tx, input.LaunchConfigurationName);
        if (lc.groups.length > 0) {
          throw hostGroupErrors.inUse(`Cannot delete launch configuration ${lc.name} because it is attached to AutoScalingGroup ${lc.groups[0]}`);
        }
        tx.delete(hostGroupKeys.launchConfiguration(lc.name));
      });
      return {};
    },
  };
}
