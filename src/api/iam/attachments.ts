import { iamKeys } from '../../state/iam-keys.js';
import { parseIamGroup, parseIamRole, parseIamUser, type IamPolicyAttachmentsRecord } from '../../state/records/iam.js';
import { transact } from '../../store/transact.js';
import type { Operation } from '../protocol/json-rpc.js';
import { mustGet, without } from './entities.js';
import type { IamEnv } from './env.js';
import { iamErrors } from './errors.js';
import { page } from './listing.js';
import { attachmentsOf, findPolicy } from './policy-view.js';

/** IAM's quota of managed policies attached to one user, group or role. */
export const ATTACHED_POLICIES_PER_ENTITY = 10;

const kinds = {
  User: { key: iamKeys.user, parse: parseIamUser, noun: 'user', list: 'users' },
  Group: { key: iamKeys.group, parse: parseIamGroup, noun: 'group', list: 'groups' },
  Role: { key: iamKeys.role, parse: parseIamRole, noun: 'role', list: 'roles' },
} as const;
type Kind = keyof typeof kinds;

interface Attachable {
  readonly name: string;
  readonly path: string;
  readonly id: string;
  readonly attached: readonly string[];
}

/**
 * Attach/Detach/ListAttached{User,Group,Role}Policies and ListEntitiesForPolicy. An attachment is written on both
 * sides in one transaction: the entity's list (what its deletion checks) and the policy's attachments record (what
 * DeletePolicy and AttachmentCount read), so neither can be deleted from under the other.
 */
export function attachmentOperations(env: IamEnv): Record<string, Operation> {
  const operations: Record<string, Operation> = {};
  for (const kind of Object.keys(kinds) as Kind[]) {
    const { key, parse, noun, list } = kinds[kind];
    const nameField = `${kind}Name`;
    const parseEntity = parse as (v: string, k: string) => Attachable;
    type Input = Record<string, string | number | undefined>;

    const change = (input: Input, attach: boolean) =>
      transact(env.store, async (tx) => {
        const name = String(input[nameField]);
        const arn = String(input.PolicyArn);
        const entity = await mustGet(tx, parseEntity, key(name), () => iamErrors.noSuch(noun, name));
        const policy = await findPolicy(env, tx, arn);
        if (!policy) throw attach ? iamErrors.notAttachable(arn) : iamErrors.noSuchPolicy(arn);
        const attachments = await attachmentsOf(tx, arn);
        const has = entity.attached.includes(arn);
        if (attach) {
          if (has) return;
          if (entity.attached.length >= ATTACHED_POLICIES_PER_ENTITY) {
            throw iamErrors.limit(`Cannot exceed quota for PoliciesPerUser: ${ATTACHED_POLICIES_PER_ENTITY}`.replace('User', kind));
          }
          tx.putJson(key(entity.name), { ...entity, attached: [...entity.attached, arn] });
          tx.putJson(iamKeys.policyAttachments(arn), { ...attachments, [list]: [...attachments[list], entity.name] });
        } else {
          if (!has) throw iamErrors.noSuchPolicy(arn);
          tx.putJson(key(entity.name), { ...entity, attached: without(entity.attached, arn) });
          const left: IamPolicyAttachmentsRecord = { ...attachments, [list]: without(attachments[list], entity.name) };
          if (left.users.length + left.groups.length + left.roles.length === 0) tx.delete(iamKeys.policyAttachments(arn));
          else tx.putJson(iamKeys.policyAttachments(arn), left);
        }
      });

    operations[`Attach${kind}Policy`] = async (input: Input) => {
      await change(input, true);
      return {};
    };
    operations[`Detach${kind}Policy`] = async (input: Input) => {
      await change(input, false);
      return {};
    };
    operations[`ListAttached${kind}Policies`] = async (input: Input) => {
      const name = String(input[nameField]);
      const prefix = typeof input.PathPrefix === 'string' ? input.PathPrefix : '/';
      const attached = await transact(env.store, async (tx) => {
        const entity = await mustGet(tx, parseEntity, key(name), () => iamErrors.noSuch(noun, name));
        const out: { PolicyName: string; PolicyArn: string }[] = [];
        for (const arn of entity.attached) {
          const policy = await findPolicy(env, tx, arn);
          if (policy && policy.path.startsWith(prefix)) out.push({ PolicyName: policy.name, PolicyArn: arn });
        }
        return out.sort((a, b) => (a.PolicyArn < b.PolicyArn ? -1 : 1));
      });
      const { items, ...rest } = page(attached, (p) => p.PolicyArn, input as { Marker?: string; MaxItems?: number });
      return { AttachedPolicies: items, ...rest };
    };
  }

  operations.ListEntitiesForPolicy = async (input: { PolicyArn: string; EntityFilter?: string; PathPrefix?: string; Marker?: string; MaxItems?: number }) => {
    const prefix = input.PathPrefix ?? '/';
    const filter = input.EntityFilter;
    const found = await transact(env.store, async (tx) => {
      const policy = await findPolicy(env, tx, input.PolicyArn);
      if (!policy) throw iamErrors.noSuchPolicy(input.PolicyArn);
      const attachments = await attachmentsOf(tx, input.PolicyArn);
      const out: { kind: Kind; entity: Attachable }[] = [];
      for (const kind of Object.keys(kinds) as Kind[]) {
        if (filter !== undefined && filter !== kind && !(filter === 'LocalManagedPolicy' || filter === 'AWSManagedPolicy')) continue;
        const { key, parse, list } = kinds[kind];
        for (const name of attachments[list]) {
          const entity = await tx.getRecord(parse as (v: string, k: string) => Attachable, key(name));
          if (entity && entity.path.startsWith(prefix)) out.push({ kind, entity });
        }
      }
      return out;
    });
    const keyOf = (f: { kind: Kind; entity: Attachable }) => `${f.kind}/${f.entity.name.toLowerCase()}`;
    const { items, ...rest } = page(found.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1)), keyOf, input);
    const of = (kind: Kind) => items.filter((f) => f.kind === kind).map((f) => ({ [`${kind}Name`]: f.entity.name, [`${kind}Id`]: f.entity.id }));
    return { PolicyGroups: of('Group'), PolicyUsers: of('User'), PolicyRoles: of('Role'), ...rest };
  };
  return operations;
}
