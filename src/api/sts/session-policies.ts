/**
 * AssumeRole's session policies (`Policy`, `PolicyArns`), checked as STS checks them before a session is issued:
 * the document must be a valid identity-based policy (IAM's MalformedPolicyDocument), at most 10 managed policy
 * ARNs, and the *packed* size of both within STS's limit (`PackedPolicyTooLarge`, the size reported as a
 * percentage in `PackedPolicySize`). AWS does not publish its packed binary format; berth packs the document
 * minified (whitespace between tokens removed) and the ARNs with raw DEFLATE and allows 1,024 bytes, so a typical
 * policy uses a few per cent and the model's limits (2,048 characters of document, 10 ARNs) can still exceed it
 * with incompressible text, as on AWS. The plaintext limit itself is the model's (shape validation).
 */
import { deflateRawSync } from 'node:zlib';
import { ServiceError } from '../../model/errors.js';
import type { SessionPolicies } from '../auth/credentials.js';
import { checked } from '../iam/errors.js';
import { parsePolicyArn } from '../iam/ids.js';
import { parsePolicyDocument } from '../iam/policy-engine.js';

/** Bytes the packed session policies may take. */
export const PACKED_POLICY_LIMIT = 1024;
/** Managed policies a session may be given (IAM User Guide, "IAM and AWS STS quotas"). */
export const MAX_SESSION_POLICY_ARNS = 10;

/** What AssumeRole's request carries. */
export interface SessionPolicyInput {
  readonly Policy?: string;
  readonly PolicyArns?: readonly { readonly arn?: string }[];
}

/**
 * The session policies of a request, checked, with their packed size in per cent of the limit; undefined when
 * the request has none. Throws IAM's/STS's errors for a bad document, bad ARNs or too large a packed size.
 */
export function sessionPoliciesOf(input: SessionPolicyInput): { policies: SessionPolicies; packedPercent: number } | undefined {
  const arns = (input.PolicyArns ?? []).map((d) => d.arn);
  if (input.Policy === undefined && arns.length === 0) return undefined;
  if (arns.length > MAX_SESSION_POLICY_ARNS) {
    throw new ServiceError(
      'ValidationError',
      `1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to ${MAX_SESSION_POLICY_ARNS}`,
    );
  }
  arns.forEach((arn, i) => {
    if (arn === undefined || !parsePolicyArn(arn)) {
      throw new ServiceError('ValidationError', `1 validation error detected: Value '${arn ?? ''}' at 'policyArns.${i + 1}.member.arn' failed to satisfy constraint: Member must be a policy ARN`);
    }
  });
  let minified = '';
  if (input.Policy !== undefined) {
    checked(() => parsePolicyDocument(input.Policy!, 'identity'));
    minified = JSON.stringify(JSON.parse(input.Policy));
  }
  const packed = deflateRawSync(Buffer.from([minified, ...arns].join('\n'), 'utf8')).length;
  const packedPercent = Math.ceil((packed * 100) / PACKED_POLICY_LIMIT);
  if (packed > PACKED_POLICY_LIMIT) {
    throw new ServiceError('PackedPolicyTooLarge', `Packed policy consumes ${packedPercent}% of allotted space, please use smaller policy.`);
  }
  const definedArns = arns as string[];
  return {
    policies: { ...(input.Policy !== undefined ? { document: input.Policy } : {}), ...(definedArns.length > 0 ? { arns: definedArns } : {}) },
    packedPercent,
  };
}
