import { ECSClient } from '@aws-sdk/client-ecs';
import type { Session } from './session.js';

/*
 * The console's only way to berth: the AWS SDK's clients (ECS here; Logs and ECR beside it), signing every request
 * with SigV4 for the signed-in key pair, sent to the origin the page came from (berth serves the page and its APIs
 * on one listener). What the console can show or do is what the API allows that identity.
 */

/** What every SDK client of the console is made with: the session's region and keys, this origin, two attempts. */
export interface ClientConfig {
  readonly region: string;
  readonly endpoint: string;
  readonly credentials: ReturnType<typeof credentialsOf>;
  readonly maxAttempts: number;
}

/** One client per signed-in session, made on first use and replaced (the old one destroyed) when the session changes. */
export function sessionClient<C extends { destroy(): void }>(make: (config: ClientConfig) => C): (session: Session) => C {
  let cached: { session: Session; client: C } | undefined;
  return (session) => {
    if (cached?.session !== session) {
      cached?.client.destroy();
      cached = { session, client: make({ region: session.region, endpoint: location.origin, credentials: credentialsOf(session), maxAttempts: 2 }) };
    }
    return cached.client;
  };
}

export const ecsClient = sessionClient((config) => new ECSClient(config));

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
