/**
 * Where host groups (berth's EC2 Auto Scaling groups) keep their records (state/records/host-groups.ts). Names are
 * case-sensitive in Auto Scaling, so keys hold them as given. A group's activities sit under its name, keyed by
 * their id — a UUIDv7, whose leading bits are the start time, so the keys sort by start — and deleting a group's
 * history is one range.
 */
export const hostGroupKeys = {
  launchConfiguration: (name: string) => `hostgroups/launch-configurations/${name}`,
  launchConfigurations: () => 'hostgroups/launch-configurations/',
  group: (name: string) => `hostgroups/groups/${name}`,
  groups: () => 'hostgroups/groups/',
  activity: (group: string, id: string) => `hostgroups/activities/${group}/${id}`,
  activitiesOf: (group: string) => `hostgroups/activities/${group}/`,
  activities: () => 'hostgroups/activities/',
} as const;
