import { ECSClient } from '@aws-sdk/client-ecs';
import type { Session } from './session.js';

/**
 * The console's only way to berth: the AWS SDK's ECS client, signing every request with SigV4 for the signed-in
 * key pair, sent to the origin the page came from (berth serves the page and its APIs on one listener). What the
 * console can show or do is what the API allows that identity.
 */
let cached: { session: Session; client: ECSClient } | undefined;

export function ecsClient(session: Session): ECSClient {
  if (cached?.session !== session) {
    cached?.client.destroy();
    cached = {
      session,
      client: new ECSClient({
        region: session.region,
        endpoint: location.origin,
        credentials: credentialsOf(session),
        maxAttempts: 2,
      }),
    };
  }
  return cached.client;
}

export function credentialsOf(session: Session) {
  return {
    accessKeyId: session.accessKeyId,
    secretAccessKey: session.secretAccessKey,
    ...(session.sessionToken ? { sessionToken: session.sessionToken } : {}),
  };
}

/** The API's error as a person reads it: its code and message (the SDK keeps both). */
export function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** Errors that mean the key pair itself was refused: the person should sign in again. */
export function isCredentialError(error: unknown): boolean {
  const name = error instanceof Error ? error.name : '';
  return ['UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'InvalidClientTokenId', 'IncompleteSignature'].includes(name);
}
