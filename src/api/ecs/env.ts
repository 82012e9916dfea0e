import type { ArnScope } from '../../model/arn.js';
import type { ClusterCache } from '../../state/cluster-cache.js';
import type { Store } from '../../store/store.js';
import type { StartSpans } from '../../process/spans.js';

/** What every ECS operation needs from the server around it. */
export interface EcsEnv {
  readonly store: Store;
  /** This process's informer-fed view of instances and tasks (placement, CQL filters, the gateway). */
  readonly cache: ClusterCache;
  readonly scope: ArnScope;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  readonly now: () => number;
  /**
   * Tasks one launch transaction may create (RunTask calls arriving together share one): etcd refuses
   * transactions beyond its `--max-txn-ops`, and a task writes itself, its instance and perhaps a client token.
   */
  readonly maxTasksPerCommit?: number;
  /** How long a deleted (INACTIVE) cluster stays listed and describable, as ECS keeps it "for a period of time" (default 1 h). */
  readonly inactiveClusterRetentionMs?: number;
  /** Where a task start's time goes on the control plane (RunTask, placement, commit, push), at debug level. */
  readonly spans?: StartSpans;
  /** Whether berth's CloudWatch Logs has the group (ExecuteCommand checks the cluster's OVERRIDE audit group); absent: not checked. */
  readonly logGroupExists?: (name: string) => Promise<boolean>;
}

/** ECS timestamps on the wire: epoch seconds, with fractions. */
export const epochSeconds = (ms: number) => ms / 1000;
