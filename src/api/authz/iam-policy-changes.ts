/**
 * Which cached policies a change to an IAM record can affect, so that the authorizer drops only those. What
 * `IamPolicySource.policiesFor` reads of each record is its *policy facts*; a change that leaves them equal (a new
 * access key, a tag, a description, a role's trust policy or maximum session, a group's member list — membership
 * is read from the user's own `groups`) affects no one's identity policies:
 *
 *   iam/users/<u>     facts: inline, attached, groups   changed ─► that user's ARN
 *   iam/roles/<r>     facts: inline, attached           changed ─► that role's ARN (the authorizer drops its sessions)
 *   iam/groups/<g>    facts: inline, attached           changed ─► everyone (members' ARNs are in their own records)
 *   iam/policies/<p>  facts: the default version's text changed ─► everyone
 *   anything else (access keys, attachment lists)       ─► no one
 *
 * A record added or deleted affects the principal of that name (a user deleted and made again has the same ARN),
 * and a change of name or path changes ARNs: both are answered like a change of facts. Pure: no I/O.
 */

/** What of one IAM record the identity policies depend on. */
export interface PolicyFacts {
  /** The principal whose policies they are (user or role ARN), or undefined for a group's or a managed policy's. */
  readonly arn?: string;
  /** Equal facts give equal policies. */
  readonly fingerprint: string;
}

/** Who must have their cached policies dropped: nobody, one principal (user or role ARN), or everyone. */
export type Invalidation = { readonly scope: 'none' } | { readonly scope: 'principal'; readonly arn: string } | { readonly scope: 'all' };

type Json = Record<string, unknown>;

/** The policy facts of the record at `key`, or undefined for records no principal's policies read. */
export function policyFactsOf(key: string, value: string, accountId: string | undefined): PolicyFacts | undefined {
  const kind = key.split('/')[1];
  if (kind !== 'users' && kind !== 'roles' && kind !== 'groups' && kind !== 'policies') return undefined;
  let record: Json;
  try {
    record = JSON.parse(value) as Json;
  } catch {
    return { fingerprint: value };
  }
  if (kind === 'policies') {
    const versions = Array.isArray(record.versions) ? (record.versions as Json[]) : [];
    return { fingerprint: JSON.stringify(versions.find((v) => v.id === record.defaultVersion)?.document ?? null) };
  }
  const fingerprint = JSON.stringify([record.name, record.path, record.inline, record.attached, kind === 'users' ? record.groups : null]);
  if (kind === 'groups' || accountId === undefined) return { fingerprint };
  return { arn: `arn:aws:iam::${accountId}:${kind === 'users' ? 'user' : 'role'}${String(record.path)}${String(record.name)}`, fingerprint };
}

/** What a change from `before` to `after` (either absent: added or deleted) means for cached policies. */
export function invalidationFor(before: PolicyFacts | undefined, after: PolicyFacts | undefined): Invalidation {
  if (before === undefined && after === undefined) return { scope: 'none' };
  if (before !== undefined && after !== undefined && before.fingerprint === after.fingerprint) return { scope: 'none' };
  const arn = (before ?? after)!.arn;
  // A rename or move is a fingerprint change; the old and new ARNs differ only then: drop everyone to be plain.
  if (arn === undefined || (before && after && before.arn !== after.arn)) return { scope: 'all' };
  return { scope: 'principal', arn };
}
