/**
 * The IAM policy engine: pure parsing, validation and evaluation of IAM policy documents, the AccessDenied
 * text, and the AWS managed policies berth ships. The IAM/STS API stores documents and calls these; nothing here
 * does I/O.
 */
export { accessDeniedMessage } from './access-denied.js';
export { CONDITION_OPERATORS } from './conditions.js';
export { decisionEffects, deciderPolicyTypes, evaluate, evaluateSession, type DeciderPolicyType, type DecidingStatement, type Decision, type DecisionEffect } from './evaluate.js';
export { MANAGED_POLICIES, managedPolicyByArn, type ManagedPolicy } from './managed-policies.js';
export {
  POLICY_VERSIONS,
  PolicyDocumentError,
  parsePolicyDocument,
  policyErrorCodes,
  policySize,
  policySizeLimits,
  type CompiledPolicy,
  type CompiledPrincipals,
  type CompiledStatement,
  type PolicyErrorCode,
  type PolicyKind,
  type PolicySizeLimit,
  type PolicyVersion,
} from './policy-document.js';
export { principalTypes, type AuthzPrincipal, type AuthzRequest, type PrincipalType } from './request-context.js';
export { evaluateTrust, resourcePolicyMatch, trustMatch, trustMatches, type TrustMatch, type TrustPrincipal } from './trust.js';
