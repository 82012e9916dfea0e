import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { sessionClient } from './api.js';

/** The ELBv2 client of the SDK, signed for the session like the ECS client (api.ts); loaded with the service's targets and the create-service form. */
export const elbClient = sessionClient((config) => new ElasticLoadBalancingV2Client(config));
