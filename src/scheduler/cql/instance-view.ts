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
