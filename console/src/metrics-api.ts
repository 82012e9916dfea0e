import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { sessionClient } from './api.js';

/** The CloudWatch client of the SDK (the metrics API), signed for the session (api.ts); loaded with a service's charts. */
export const metricsClient = sessionClient((config) => new CloudWatchClient(config));
