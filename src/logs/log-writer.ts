import type { LogsEnv } from './env.js';
import { logEventOperations } from './log-events.js';
import { logStreamOperations } from './log-streams.js';

/**
 * Events berth itself writes to one of its log streams (ECS Exec's audit records), through the same operations as
 * PutLogEvents, so the same limits and retention apply. The stream is created on first use; the group must exist.
 */
export function logWriter(env: LogsEnv) {
  const streams = logStreamOperations(env);
  const events = logEventOperations(env);
  const created = new Set<string>();
  return {
    async write(destination: { logGroupName: string; logStreamName: string }, batch: readonly { timestamp: number; message: string }[]): Promise<void> {
      const { logGroupName, logStreamName } = destination;
      const id = `${logGroupName}\n${logStreamName}`;
      if (!created.has(id)) {
        await streams.CreateLogStream({ logGroupName, logStreamName }).catch((error: { type?: string }) => {
          if (error.type !== 'ResourceAlreadyExistsException') throw error;
        });
        created.add(id);
      }
      // A PutLogEvents batch is at most 10,000 events.
      for (let i = 0; i < batch.length; i += 10_000) await events.PutLogEvents({ logGroupName, logStreamName, logEvents: batch.slice(i, i + 10_000) });
      if (created.size > 1_000) created.clear();
    },
  };
}
