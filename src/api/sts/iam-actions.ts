/**
 * STS's actions for the authorization step. GetCallerIdentity and GetSessionToken need no permission (STS
 * answers them even under an explicit deny of everything). AssumeRole is decided by STS itself, where the role's
 * trust policy is (api/sts/assume-role.ts): a trust policy naming the caller is enough within the account; one
 * naming only the account also asks the caller's identity policies (through the authorizer).
 */
import type { ActionTable } from '../authz/declarations.js';

const free = (action: string) => ({ action, resources: () => [], unchecked: true as const });

export const stsActions: ActionTable = {
  GetCallerIdentity: free('sts:GetCallerIdentity'),
  GetSessionToken: free('sts:GetSessionToken'),
  AssumeRole: free('sts:AssumeRole'),
};
