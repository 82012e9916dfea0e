/**
 * Where capacity providers of Auto Scaling groups keep their records (state/records/capacity-providers.ts). ECS
 * names are case-sensitive, so keys hold them as given. `byGroup` claims a host group for one provider: ECS lets an
 * Auto Scaling group serve one capacity provider only, and CreateCapacityProvider and DeleteCapacityProvider meet
 * on that key. The built-in FARGATE and FARGATE_SPOT have no record. `waitingTask` indexes the tasks waiting for
 * capacity, so the leader's pass reads those and never scans every task. `inUse` is the guard between launches on a
 * provider and PutClusterCapacityProviders taking it off the cluster (the store does not record ranges read).
 */
export const capacityProviderKeys = {
  provider: (name: string) => `capacity-providers/items/${name}`,
  providers: () => 'capacity-providers/items/',
  /** The provider using host group `group` (its name, not its ARN). */
  byGroup: (group: string) => `capacity-providers/by-group/${group}`,
  byGroups: () => 'capacity-providers/by-group/',
  /** A task waiting in PROVISIONING for room on its provider's group (the value is the provider's name). */
  waitingTask: (cluster: string, taskId: string) => `capacity-providers/waiting/${cluster}/${taskId}`,
  waitingTasks: () => 'capacity-providers/waiting/',
  /**
   * Written by every transaction that creates tasks on provider `provider` in `cluster` (or names it in a service's
   * strategy); read by PutClusterCapacityProviders in the transaction that takes the provider off, so the two conflict.
   */
  inUse: (cluster: string, provider: string) => `capacity-providers/in-use/${cluster}/${provider}`,
} as const;
