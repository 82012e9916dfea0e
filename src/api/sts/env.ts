import type { Decision } from '../../model/iam/index.js';
import type { Principal } from '../auth/credentials.js';
import type { RequestContext } from '../authz/declarations.js';
import type { IamEnv } from '../iam/env.js';
import type { SessionTokens } from './session-tokens.js';

/** The caller's identity-based policies' decision on one action (the server's Authorizer.decision). */
export type IdentityDecision = (caller: Principal, action: string, resources: readonly string[], context?: RequestContext) => Promise<Decision>;

/** What STS needs: IAM's records (roles and their trust) and the session tokens it issues. */
export interface StsEnv extends IamEnv {
  readonly sessions: SessionTokens;
  /**
   * Asked when a role's trust policy names only the caller's account: the caller's own policies must then allow
   * sts:AssumeRole on the role too. Without it such a trust lets no one in.
   */
  readonly identityDecision?: IdentityDecision;
}
