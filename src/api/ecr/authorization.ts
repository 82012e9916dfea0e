import type { GetAuthorizationTokenRequest } from '@aws-sdk/client-ecr';
import { authzPrincipalOf } from '../authz/principal.js';
import type { CallContext } from '../protocol/json-rpc.js';
import { epochSeconds, type EcrEnv } from './env.js';

export function authorizationOperations(env: EcrEnv) {
  return {
    /**
     * A registry login token for the caller, valid 12 hours, and the endpoint to use it with: what
     * `aws ecr get-login-password` prints and `docker login --username AWS` accepts.
     */
    async GetAuthorizationToken(input: GetAuthorizationTokenRequest, call: CallContext) {
      // The token carries who asked for it: each pull and push is authorized as that principal (a role session
      // with its session policies, which narrow the registry's requests as they narrow API calls).
      const { principal } = call;
      const sessionPolicies = principal.type === 'AssumedRole' ? principal.sessionPolicies : undefined;
      const issued = env.registry.tokens.issue({ ...authzPrincipalOf(principal), ...(sessionPolicies ? { sessionPolicies } : {}) });
      const data = {
        authorizationToken: issued.authorizationToken,
        expiresAt: epochSeconds(issued.expiresAt),
        proxyEndpoint: `${env.registryScheme}://${env.registryHost()}`,
      };
      return { authorizationData: (input.registryIds?.length ? input.registryIds : [env.scope.accountId]).map(() => ({ ...data })) };
    },
  };
}
