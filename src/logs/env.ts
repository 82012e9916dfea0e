import type { ArnScope } from '../model/arn.js';
import type { LogDatabase } from './storage/database.js';

/** What every CloudWatch Logs operation needs from the server around it. */
export interface LogsEnv {
  readonly db: LogDatabase;
  readonly scope: ArnScope;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  readonly now: () => number;
}
