/**
 * What an EFS client may do with a file system, as EFS decides it when a client mounts (EFS User Guide, "Using IAM
 * to control access to file systems"):
 *
 *   elasticfilesystem:ClientMount       mount at all (read-only access)
 *   elasticfilesystem:ClientWrite       write; without it the mount is read-only
 *   elasticfilesystem:ClientRootAccess  act as root; without it root is squashed
 *
 * - No file system policy: the default policy is in effect, which grants full access to any client that can reach a
 *   mount target, anonymous or not. A role's identity policies can still deny (an explicit Deny always wins).
 * - A file system policy: an Allow in *either* the file system policy *or* the client's identity policies grants the
 *   action (same account; an Allow of the policy naming only the account delegates to the identity policies); a
 *   Deny in either refuses it.
 * - A client mounting without IAM (`authorizationConfig.iam` not ENABLED) is anonymous: only statements whose
 *   Principal is `"*"` apply to it, and it has no identity policies.
 * Condition keys EFS gives clients: aws:SecureTransport (whether the mount asked for TLS) and
 * elasticfilesystem:AccessPointArn. Pure: the caller reads the policies (efs/client-mount.ts).
 */
import type { CompiledPolicy, Decision, TrustPrincipal } from '../model/iam/index.js';
import { resourcePolicyMatch } from '../model/iam/index.js';

export const clientActions = ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite', 'elasticfilesystem:ClientRootAccess'] as const;
export type ClientAction = (typeof clientActions)[number];

export interface ClientAccess {
  readonly mount: boolean;
  readonly write: boolean;
  readonly rootAccess: boolean;
}

export interface ClientAccessQuestion {
  readonly fileSystemArn: string;
  /** The file system policy, compiled as a resource policy; undefined: the default policy. */
  readonly policy?: CompiledPolicy;
  /** The task role's session when the mount uses IAM; undefined: an anonymous client. */
  readonly principal?: Extract<TrustPrincipal, { kind: 'AWS' }>;
  /** The identity policies' decision for the principal on an action (only asked with a principal). */
  readonly identity?: (action: ClientAction) => Decision;
  readonly context: ReadonlyMap<string, string>;
}

/** Whether the client may perform `action` (see the file's comment for the rules). */
export function clientMay(q: ClientAccessQuestion, action: ClientAction): boolean {
  const identity = q.principal && q.identity ? q.identity(action) : undefined;
  if (identity?.effect === 'ExplicitDeny') return false;
  if (!q.policy) return true;
  const byPolicy = resourcePolicyMatch(q.principal ?? { kind: 'Anonymous' }, action, q.fileSystemArn, q.policy, q.context);
  if (byPolicy === 'Deny') return false;
  return byPolicy === 'principal' || identity?.effect === 'Allow';
}

export function clientAccess(q: ClientAccessQuestion): ClientAccess {
  const mount = clientMay(q, 'elasticfilesystem:ClientMount');
  return {
    mount,
    write: mount && clientMay(q, 'elasticfilesystem:ClientWrite'),
    rootAccess: mount && clientMay(q, 'elasticfilesystem:ClientRootAccess'),
  };
}

/** The request context EFS gives a client's mount. */
export function clientContext(secureTransport: boolean, accessPointArn?: string): Map<string, string> {
  const context = new Map([['aws:SecureTransport', String(secureTransport)]]);
  if (accessPointArn !== undefined) context.set('elasticfilesystem:AccessPointArn', accessPointArn);
  return context;
}
