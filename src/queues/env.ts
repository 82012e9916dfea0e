import type { ArnScope } from '../model/arn.js';
import type { QueueHost } from './queue-host.js';

/** What the SQS operations need. */
export interface SqsEnv {
  readonly scope: ArnScope;
  /** The queues, when this process owns them; throws the error to answer otherwise (a follower replica). */
  readonly queues: () => QueueHost;
}
