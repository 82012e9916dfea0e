import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { sessionClient } from './api.js';

/** The CloudWatch Logs client of the SDK, signed for the session like the ECS client (api.ts); loaded with the pages that read logs. */
export const logsClient = sessionClient((config) => new CloudWatchLogsClient(config));
