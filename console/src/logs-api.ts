import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { credentialsOf } from './api.js';
import type { Session } from './session.js';

/** The CloudWatch Logs client of the SDK, signed for the session like the ECS client (api.ts); loaded with the pages that read logs. */
let cached: { session: Session; client: CloudWatchLogsClient } | undefined;

export function logsClient(session: Session): CloudWatchLogsClient {
  if (cached?.session !== session) {
    cached?.client.destroy();
    cached = { session, client: new CloudWatchLogsClient({ region: session.region, endpoint: location.origin, credentials: credentialsOf(session), maxAttempts: 2 }) };
  }
  return cached.client;
}
