/**
 * Where EventBridge keeps its records in the Store. Bus and rule names are `[/.\-_A-Za-z0-9]` (a bus may hold `/`),
 * so they are URI-encoded in keys. The queue holds events PutEvents acknowledged and the dispatcher has not yet
 * routed, keyed by time then id so a prefix range reads them oldest first; a delivery is one (event, rule, target)
 * the dispatcher owes a target, kept until the target took it or its retry policy gave up.
 */
const enc = encodeURIComponent;
const timeKey = (at: number) => String(Math.max(0, Math.floor(at))).padStart(15, '0');

export const eventsKeys = {
  bus: (name: string) => `events/buses/${enc(name)}`,
  buses: () => 'events/buses/',
  rule: (bus: string, name: string) => `events/rules/${enc(bus)}/${enc(name)}`,
  rulesOf: (bus: string) => `events/rules/${enc(bus)}/`,
  rules: () => 'events/rules/',
  /** A scheduled rule's next fire time (rule-schedule.ts), apart from the rule so PutRule and a fire do not collide. */
  schedule: (bus: string, name: string) => `events/schedules/${enc(bus)}/${enc(name)}`,
  schedules: () => 'events/schedules/',
  queued: (at: number, id: string) => `events/queue/${timeKey(at)}-${id}`,
  queue: () => 'events/queue/',
  delivery: (id: string) => `events/deliveries/${id}`,
  deliveries: () => 'events/deliveries/',
};
