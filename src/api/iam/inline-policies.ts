import { iamKeys } from '../../state/iam-keys.js';
import { parseIamGroup, parseIamRole, parseIamUser, type InlinePolicies } from '../../state/records/iam.js';
import { transact } from '../../store/transact.js';
import type { Operation } from '../protocol/json-rpc.js';
import { mustGet } from './entities.js';
import type { IamEnv } from './env.js';
import { checked, iamErrors } from './errors.js';
import { page } from './listing.js';
import { parsePolicyDocument, policySizeLimits } from './policy-engine.js';

/** The three kinds of entity that hold inline policies, and how each is named on the wire and stored. */
const kinds = {
  User: { key: iamKeys.user, parse: parseIamUser, noun: 'user', limit: policySizeLimits.userInline },
  Group: { key: iamKeys.group, parse: parseIamGroup, noun: 'group', limit: policySizeLimits.groupInline },
  Role: { key: iamKeys.role, parse: parseIamRole, noun: 'role', limit: policySizeLimits.roleInline },
} as const;

type Kind = keyof typeof kinds;

/** Put/Get/List/Delete{User,Group,Role}Policy. */
export function inlinePolicyOperations(env: IamEnv): Record<string, Operation> {
  const operations: Record<string, Operation> = {};
  for (const kind of Object.keys(kinds) as Kind[]) {
    const { key, parse, noun, limit } = kinds[kind];
    const nameField = `${kind}Name` as const;
    type Input = Record<string, string | number | undefined>;
    const entity = (name: string) => ({ key: key(name), missing: () => iamErrors.noSuch(noun, name) });

    /** Change the entity's inline policies in one transaction. */
    const change = (name: string, fn: (inline: InlinePolicies, entityName: string) => InlinePolicies) =>
      transact(env.store, async (tx) => {
        const { key: k, missing } = entity(name);
        const record = await mustGet(tx, parse as (v: string, k: string) => { name: string; inline: InlinePolicies }, k, missing);
        tx.putJson(k, { ...record, inline: fn(record.inline, record.name) });
      });
    const read = (name: string) =>
      transact(env.store, (tx) => {
        const { key: k, missing } = entity(name);
        return mustGet(tx, parse as (v: string, k: string) => { name: string; inline: InlinePolicies }, k, missing);
      });

    operations[`Put${kind}Policy`] = async (input: Input) => {
      const name = String(input[nameField]);
      const document = String(input.PolicyDocument);
      checked(() => parsePolicyDocument(document, 'identity', limit(name)));
      await change(name, (inline) => ({ ...inline, [String(input.PolicyName)]: document }));
      return {};
    };
    operations[`Get${kind}Policy`] = async (input: Input) => {
      const record = await read(String(input[nameField]));
      const policyName = String(input.PolicyName);
      if (!Object.hasOwn(record.inline, policyName)) throw iamErrors.noSuchInline(noun, policyName);
      return { [nameField]: record.name, PolicyName: policyName, PolicyDocument: encodeURIComponent(record.inline[policyName]!) };
    };
    operations[`List${kind}Policies`] = async (input: Input) => {
      const record = await read(String(input[nameField]));
      const names = Object.keys(record.inline).sort();
      const { items, ...rest } = page(names, (n) => n, input as { Marker?: string; MaxItems?: number });
      return { PolicyNames: items, ...rest };
    };
    operations[`Delete${kind}Policy`] = async (input: Input) => {
      const policyName = String(input.PolicyName);
      await change(String(input[nameField]), (inline) => {
        if (!Object.hasOwn(inline, policyName)) throw iamErrors.noSuchInline(noun, policyName);
        const { [policyName]: _gone, ...rest } = inline;
        return rest;
      });
      return {};
    };
  }
  return operations;
}
