import type { ArnScope } from '../../model/arn.js';
import type { Store } from '../../store/store.js';
import type { MetricsEnv } from '../api/env.js';

/** What CloudWatch's alarm actions need: the control plane's Store (records, compare-and-swap) beside the metrics. */
export interface AlarmsEnv extends MetricsEnv {
  readonly records: Store;
  readonly scope: ArnScope;
}

export const alarmArn = (scope: ArnScope, name: string) => `arn:aws:cloudwatch:${scope.region}:${scope.accountId}:alarm:${name}`;
