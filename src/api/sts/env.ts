import type { IamEnv } from '../iam/env.js';
import type { SessionTokens } from './session-tokens.js';

/** What STS needs: IAM's records (roles and their trust) and the session tokens it issues. */
export interface StsEnv extends IamEnv {
  readonly sessions: SessionTokens;
}
