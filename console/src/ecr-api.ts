import { ECRClient } from '@aws-sdk/client-ecr';
import { sessionClient } from './api.js';

/** The ECR client of the SDK for berth's registry, signed for the session like the others; loaded with the registry pages. */
export const ecrClient = sessionClient((config) => new ECRClient(config));
