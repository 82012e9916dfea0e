import { loadServiceModel } from '../api/protocol/service-model.js';
import type { JsonService } from '../api/protocol/json-rpc.js';
import type { LogsEnv } from './env.js';
import { filterEventOperations } from './filter-events.js';
import { logEventOperations } from './log-events.js';
import { logGroupOperations } from './log-groups.js';
import { logStreamOperations } from './log-streams.js';
import { logsActions } from './iam-actions.js';

export const LOGS_TARGET_PREFIX = 'Logs_20140328';

/**
 * Amazon CloudWatch Logs, the part containers' output needs: groups, streams, retention, PutLogEvents,
 * GetLogEvents and FilterLogEvents. Other actions of the model answer UnsupportedFeatureException.
 */
export function logsService(env: LogsEnv): JsonService {
  return {
    targetPrefix: LOGS_TARGET_PREFIX,
    signingNames: ['logs'],
    model: loadServiceModel('logs-2014-03-28.json'),
    // A full batch is 1 MiB of messages; JSON quoting and escaping can take that to several.
    bodyLimit: 8 * 1024 * 1024,
    actions: logsActions,
    operations: {
      ...logGroupOperations(env),
      ...logStreamOperations(env),
      ...logEventOperations(env),
      ...filterEventOperations(env),
    },
  };
}
