import type { ArnScope } from '../model/arn.js';
import type { LogStorage } from './storage/log-storage.js';

/** What every CloudWatch Logs operation needs from the server around it. */
export interface LogsEnv {
  readonly storage: LogStorage;
  readonly scope: ArnScope;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  readonly now: () => number;
}
