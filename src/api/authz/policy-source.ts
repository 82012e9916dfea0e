import type { AuthzPrincipal, CompiledPolicy } from '../../model/iam/index.js';

/**
 * Where the identity policies that apply to a principal come from: for an IAM user its inline and attached
 * policies and those of its groups, for an assumed role the role's. The IAM state implements it; the authorizer
 * caches what it answers per principal until told that something changed ({@link Authorizer.invalidate}).
 */
export interface PolicySource {
  policiesFor(principal: AuthzPrincipal): Promise<readonly CompiledPolicy[]>;
}

/** No principal but root has any policy: what a server without IAM users serves (every non-root call is denied). */
export const noPolicies: PolicySource = { policiesFor: async () => [] };

/** Policies held in memory by principal ARN, for tests and for composing with other sources. */
export class MemoryPolicySource implements PolicySource {
  private readonly byArn = new Map<string, readonly CompiledPolicy[]>();
  /** How many times policies were asked for (tests check the cache with it). */
  lookups = 0;

  set(principalArn: string, policies: readonly CompiledPolicy[]): this {
    this.byArn.set(principalArn, policies);
    return this;
  }

  async policiesFor(principal: AuthzPrincipal): Promise<readonly CompiledPolicy[]> {
    this.lookups++;
    return this.byArn.get(principal.arn) ?? [];
  }
}
