import type { AuthzPrincipal, CompiledPolicy } from '../../model/iam/index.js';

/**
 * Where the identity policies that apply to a principal come from: for an IAM user its inline and attached
 * policies and those of its groups, for an assumed role the role's. The IAM state implements it; the authorizer
 * caches what it answers per principal until told that something changed ({@link Authorizer.invalidate}).
 */
export interface PolicySource {
  policiesFor(principal: AuthzPrincipal): Promise<readonly CompiledPolicy[]>;
  /**
   * The managed policies (default versions) with these ARNs, for a session's PolicyArns; one that does not exist
   * is left out. A source without it grants nothing through PolicyArns (session policies can only narrow).
   */
  managedPolicies?(arns: readonly string[]): Promise<readonly CompiledPolicy[]>;
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

  /** A managed policy by its ARN (for sessions' PolicyArns). */
  setManaged(policyArn: string, policy: CompiledPolicy): this {
    this.byArn.set(policyArn, [policy]);
    return this;
  }

  async managedPolicies(arns: readonly string[]): Promise<readonly CompiledPolicy[]> {
    this.lookups++;
    return arns.flatMap((arn) => this.byArn.get(arn) ?? []);
  }

  async policiesFor(principal: AuthzPrincipal): Promise<readonly CompiledPolicy[]> {
    this.lookups++;
    return this.byArn.get(principal.arn) ?? [];
  }
}
