import type { ArnScope } from '../model/arn.js';
import type { Store } from '../store/store.js';

/** Auto Scaling's quotas berth applies (tests lower them to reach them quickly). */
export interface HostGroupLimits {
  readonly groups: number;
  readonly launchConfigurations: number;
  /** A group's MaxSize: berth's hosts are processes or machines an operator pays for, so a sane ceiling. */
  readonly maxSize: number;
  readonly tagsPerGroup: number;
}

export const DEFAULT_HOST_GROUP_LIMITS: HostGroupLimits = { groups: 500, launchConfigurations: 200, maxSize: 1000, tagsPerGroup: 50 };

/** What the host group operations need from the server. */
export interface HostGroupEnv {
  readonly store: Store;
  readonly scope: ArnScope;
  /** Epoch milliseconds. */
  readonly now: () => number;
  readonly limits?: Partial<HostGroupLimits>;
  /**
   * Whether a launch configuration's ImageId names a provisioner this server has (`netns`, `command:NAME`); the
   * reason when not. Without it (unit tests) every well-formed ImageId is taken.
   */
  readonly provisionerProblem?: (imageId: string) => string | undefined;
}

export const hostGroupLimits = (env: HostGroupEnv): HostGroupLimits => ({ ...DEFAULT_HOST_GROUP_LIMITS, ...env.limits });

/** `netns`, or `command:NAME` (NAME as the operator configured it). */
export const IMAGE_ID = /^(netns|command:[A-Za-z0-9][A-Za-z0-9._-]{0,63})$/;
