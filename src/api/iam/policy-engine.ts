/**
 * What the IAM and STS APIs use of the pure policy engine (`model/iam/`): document parsing and IAM's size quotas,
 * trust evaluation, and the AWS managed policies berth ships.
 */
export {
  MANAGED_POLICIES,
  PolicyDocumentError,
  evaluateTrust,
  managedPolicyByArn,
  parsePolicyDocument,
  policySizeLimits,
  type CompiledPolicy,
  type ManagedPolicy,
  type TrustPrincipal,
} from '../../model/iam/index.js';
