/**
 * Where EventBridge Scheduler keeps its records. Group and schedule names are `[0-9a-zA-Z-_.]`, safe in keys. A
 * schedule's next firing is also indexed under `scheduler/next/<fire time>/…`, so the leader reads only what is due
 * (a prefix range in time order, stopping at the first entry after now) instead of every schedule each pass; the
 * schedule record holds the same time, and the firing commit checks the two agree.
 */
const timeKey = (at: number) => String(Math.max(0, Math.floor(at))).padStart(15, '0');

export const schedulerKeys = {
  group: (name: string) => `scheduler/groups/${name}`,
  groups: () => 'scheduler/groups/',
  schedule: (group: string, name: string) => `scheduler/schedules/${group}/${name}`,
  schedulesOf: (group: string) => `scheduler/schedules/${group}/`,
  schedules: () => 'scheduler/schedules/',
  next: (at: number, group: string, name: string) => `scheduler/next/${timeKey(at)}/${group}/${name}`,
  nexts: () => 'scheduler/next/',
  /** The index entry's fire time (epoch ms). */
  nextTime: (key: string) => Number(key.slice('scheduler/next/'.length, 'scheduler/next/'.length + 15)),
};
