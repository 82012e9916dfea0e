import type { CapacityProviderRecord } from '../../model/capacity-provider.js';
import { recordParser } from './codec.js';

/** Capacity providers of Auto Scaling groups as stored (the record's shape and defaults: model/capacity-provider.ts). */
export type {
  AutoScalingGroupProviderRecord,
  CapacityProviderRecord,
  CapacityProviderUpdateStatus,
  ManagedScalingRecord,
  ManagedScalingStatus,
  OnOff,
} from '../../model/capacity-provider.js';
export { autoScalingGroupProviderDefaults, managedScalingDefaults } from '../../model/capacity-provider.js';

export const parseCapacityProvider = recordParser<CapacityProviderRecord>('capacity provider', {
  name: 'string',
  capacityProviderArn: 'string',
  status: 'string',
  autoScalingGroupProvider: 'object',
  'autoScalingGroupProvider.autoScalingGroupArn': 'string',
  'autoScalingGroupProvider.groupName': 'string',
  'autoScalingGroupProvider.managedScaling': 'object',
  'autoScalingGroupProvider.managedScaling.targetCapacity': 'number',
  tags: 'array',
  createdAt: 'number',
});
