import type { Sample } from '../metrics/metric-store.js';
import type { ArnScope } from '../model/arn.js';
import type { Store } from '../store/store.js';

/** AWS's quotas berth applies (tests lower some to reach them quickly). */
export interface ElbLimits {
  readonly loadBalancers: number;
  readonly targetGroups: number;
  readonly listenersPerLoadBalancer: number;
  readonly rulesPerListener: number;
  readonly targetsPerTargetGroup: number;
  readonly tagsPerResource: number;
}

export const DEFAULT_ELB_LIMITS: ElbLimits = {
  loadBalancers: 50,
  targetGroups: 3000,
  listenersPerLoadBalancer: 50,
  rulesPerListener: 100,
  targetsPerTargetGroup: 1000,
  tagsPerResource: 50,
};

/** What the Elastic Load Balancing operations need from the server. */
export interface ElbEnv {
  readonly store: Store;
  readonly scope: ArnScope;
  /** Epoch milliseconds (deregistration delays are measured with it). */
  readonly now: () => number;
  /** The domain of DNS names, `<name>-<id>.<region>.elb.<domain>` (default `berth.internal`). */
  readonly dnsDomain?: string;
  readonly limits?: Partial<ElbLimits>;
  /**
   * Whether `instanceId` (an EC2-style id, `i-…`) is a registered container instance's: instance targets must be.
   * Without it (unit tests) every well-formed id is accepted.
   */
  readonly knownInstance?: (instanceId: string) => Promise<boolean>;
  /** Where `AWS/ApplicationELB` datapoints from the nodes' traffic reports go (the metric store's put). */
  readonly metrics?: { put(samples: readonly Sample[]): Promise<void> };
  /**
   * Keep those datapoints per second too (for 3 hours, as PutMetricData's StorageResolution 1): what alarms with
   * periods under a minute read. The server sets it when target tracking's alarms run at 10–30 s
   * (`--target-tracking-period`, tests and demos), so ALBRequestCountPerTarget policies work there too.
   */
  readonly metricsHighResolution?: boolean;
}

export const limitsOf = (env: ElbEnv): ElbLimits => ({ ...DEFAULT_ELB_LIMITS, ...env.limits });
