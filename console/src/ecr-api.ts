import { ECRClient } from '@aws-sdk/client-ecr';
import { credentialsOf } from './api.js';
import type { Session } from './session.js';

/** The ECR client of the SDK for berth's registry, signed for the session like the others; loaded with the registry pages. */
let cached: { session: Session; client: ECRClient } | undefined;

export function ecrClient(session: Session): ECRClient {
  if (cached?.session !== session) {
    cached?.client.destroy();
    cached = { session, client: new ECRClient({ region: session.region, endpoint: location.origin, credentials: credentialsOf(session), maxAttempts: 2 }) };
  }
  return cached.client;
}
