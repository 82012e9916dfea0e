import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { sessionClient } from './api.js';

/** The Application Auto Scaling client of the SDK, signed for the session (api.ts); loaded with a service's auto scaling panel. */
export const scalingClient = sessionClient((config) => new ApplicationAutoScalingClient(config));
