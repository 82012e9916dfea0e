/**
 * What each API operation declares for authorization (DESIGN.md: "Authorization is a step of the pipeline, not
 * code in handlers"): its IAM action, the resource ARNs computed from the request, the request's condition keys
 * and the roles it passes. The tables live beside their APIs (`api/ecs/iam-actions.ts`, `api/ecr/iam-actions.ts`,
 * `logs/iam-actions.ts`, `registry/http/iam-actions.ts`); `iam-actions.test.ts` fails for an operation a
 * service serves without a declaration. Everything here is pure: a function of the input and the scope.
 */
import type { ArnScope } from '../../model/arn.js';
import type { AuthzPrincipal } from '../../model/iam/index.js';

/** Condition keys a request sets, by name as AWS spells it (`ecs:cluster`, `aws:RequestTag/team`). */
export type RequestContext = Map<string, string | readonly string[]>;

/** A role the request hands to a service: the caller needs `iam:PassRole` on it. */
export interface PassedRole {
  readonly roleArn: string;
  /** `iam:PassedToService`: who will assume it (`ecs-tasks.amazonaws.com`, `ecs.amazonaws.com`). */
  readonly service: string;
}

/** One operation's authorization, computed from its (validated) input. */
export interface ActionDeclaration<I = any> {
  /** `service:Action` as IAM names it, e.g. `ecs:RunTask`. */
  readonly action: string;
  /** The ARNs every one of which must be allowed; an empty list is the action's `*`. `caller`: who asks (IAM's "my own user"). */
  resources(input: I, scope: ArnScope, caller?: AuthzPrincipal): readonly string[];
  /**
   * For resources whose ARN only the store knows (a secret named by its name: its ARN ends in a random suffix; an
   * IAM user, group or role named by its name: its ARN holds its path): used instead of `resources`, it makes the step asynchronous for that action.
   */
  resolveResources?(input: I, scope: ArnScope, caller?: AuthzPrincipal): Promise<readonly string[]>;
  /** Adds the request's own condition keys (the principal's, the clock's and the connection's come from the step). */
  context?(input: I, scope: ArnScope, into: RequestContext): void;
  /** Roles the request passes. */
  passedRoles?(input: I, scope: ArnScope): readonly PassedRole[];
  /**
   * Set on the few actions AWS answers without an identity-policy check (sts:GetCallerIdentity, GetSessionToken)
   * or decides in the operation itself (sts:AssumeRole, against the role's trust policy).
   */
  readonly unchecked?: true;
}

/** A service's declarations by operation name. */
export type ActionTable = Readonly<Record<string, ActionDeclaration>>;

/** An operation with no resource types in the reference: its only resource is `*`. */
export const anyResource = (action: string): ActionDeclaration => ({ action, resources: () => NO_RESOURCES });

const NO_RESOURCES: readonly string[] = Object.freeze([]);

/** `aws:RequestTag/<key>` for each tag and `aws:TagKeys`, from `[{key, value}]` (ECS), `[{Key, Value}]` (ECR). */
export function addTagList(into: RequestContext, tags: readonly { key?: string; value?: string; Key?: string; Value?: string }[] | undefined): void {
  if (!tags || tags.length === 0) return;
  const keys: string[] = [];
  for (const tag of tags) {
    const key = tag.key ?? tag.Key;
    if (key === undefined) continue;
    keys.push(key);
    into.set(`aws:RequestTag/${key}`, tag.value ?? tag.Value ?? '');
  }
  into.set('aws:TagKeys', keys);
}

/** The same from a `{key: value}` map (CloudWatch Logs). */
export function addTagMap(into: RequestContext, tags: Readonly<Record<string, string>> | undefined): void {
  if (!tags) return;
  const keys = Object.keys(tags);
  if (keys.length === 0) return;
  for (const key of keys) into.set(`aws:RequestTag/${key}`, tags[key]!);
  into.set('aws:TagKeys', keys);
}

/** `aws:TagKeys` for an untag request. */
export function addTagKeys(into: RequestContext, keys: readonly string[] | undefined): void {
  if (keys && keys.length > 0) into.set('aws:TagKeys', keys);
}
