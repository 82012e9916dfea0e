import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * The agent's own credentials, as the AWS SDK's default chain finds them. Its first link, the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION; skipped, as the
 * chain skips it, when AWS_PROFILE names a profile), is read here; the chain itself (shared files, SSO, web
 * identity, container and instance metadata: a dozen packages) is loaded only for an agent that needs it.
 */
export function agentCredentialProvider(env: NodeJS.ProcessEnv = process.env): AwsCredentialIdentityProvider {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken, AWS_CREDENTIAL_EXPIRATION: expiration } = env;
  if (accessKeyId && secretAccessKey && !env.AWS_PROFILE) {
    const identity: AwsCredentialIdentity = {
      accessKeyId,
      secretAccessKey,
      ...(sessionToken ? { sessionToken } : {}),
      ...(expiration ? { expiration: new Date(expiration) } : {}),
    };
    return async () => identity;
  }
  let chain: Promise<AwsCredentialIdentityProvider> | undefined;
  return async (options) => (await (chain ??= import('@aws-sdk/credential-provider-node').then((m) => m.defaultProvider())))(options);
}
