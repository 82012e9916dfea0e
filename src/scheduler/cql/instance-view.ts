import type { InstanceSnapshot } from '../snapshot.js';

/** What a Cluster Query Language expression can see of one container instance. */
export interface CqlInstanceView {
  readonly agentConnected: boolean;
  /** The agent's reported version (versionInfo.agentVersion). */
  readonly agentVersion: string | undefined;
  readonly ec2InstanceId: string | undefined;
  /** Epoch seconds. */
  readonly registeredAt: number | undefined;
  /** Attribute name → value; a name present with an undefined value still `exists`. */
  readonly attributes: ReadonlyMap<string, string | undefined>;
  /** Tasks on the instance that have not stopped. */
  readonly runningTasksCount: number;
  /** Whether a task of `group` (family:web, service:api…) is on the instance. */
  hasTaskGroup(group: string): boolean;
  /** The distinct groups of the tasks on the instance. */
  taskGroups(): Iterable<string>;
}

/** A snapshot as an expression sees it on its own (ListContainerInstances filters; `place` keeps a live view). */
export function cqlView(s: InstanceSnapshot): CqlInstanceView {
  const groups = new Set(s.tasks.map((t) => t.group));
  return {
    agentConnected: s.agentConnected,
    agentVersion: s.agentVersion,
    ec2InstanceId: s.ec2InstanceId,
    registeredAt: s.registeredAt,
    attributes: s.attributes,
    runningTasksCount: s.tasks.length,
    hasTaskGroup: (group) => groups.has(group),
    taskGroups: () => groups,
  };
}
