/**
 * STS's actions for the authorization step. GetCallerIdentity and GetSessionToken need no permission (STS
 * answers them even under an explicit deny of everything). AssumeRole is decided by STS itself, where the role's
 * trust policy is (api/sts/index.ts): within an account a trust policy naming the caller is enough.
 */
import type { ActionTable } from '../authz/declarations.js';

const free = (action: string) => ({ action, resources: () => [], unchecked: true as const });

export const stsActions: ActionTable = {
  GetCallerIdentity: free('sts:GetCallerIdentity'),
  GetSessionToken: free('sts:GetSessionToken'),
  AssumeRole: free('sts:AssumeRole'),
};
