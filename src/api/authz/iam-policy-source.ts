/**
 * The identity policies of IAM users and role sessions, read from the IAM records in the store: for a user its
 * inline policies, its attached managed policies (their default versions) and those of each of its groups; for
 * a role session the role's. Documents are compiled once per text. A change under `iam/` (on any replica: the
 * watch sees the store's transactions) that can change someone's policies calls `onChange` with the user or role
 * concerned, or with nothing for everyone (iam-policy-changes.ts); the server wires it to the authorizer's
 * invalidation hook, so a new policy applies from the next request after the change reaches this replica, and a
 * new access key or a tag drops no one's cached policies.
 */
import type { AuthzPrincipal, CompiledPolicy } from '../../model/iam/index.js';
import { managedPolicyByArn, parsePolicyDocument } from '../../model/iam/index.js';
import { iamKeys } from '../../state/iam-keys.js';
import { parseIamGroup, parseIamPolicy, parseIamRole, parseIamUser } from '../../state/records/iam.js';
import { Informer, type InformerFailure } from '../../store/informer.js';
import type { Store } from '../../store/store.js';
import { readRecord } from '../../store/transact.js';
import { parsePolicyArn } from '../iam/ids.js';
import { invalidationFor, policyFactsOf, type PolicyFacts } from './iam-policy-changes.js';
import type { PolicySource } from './policy-source.js';

export interface IamPolicySourceOptions {
  readonly store: Store;
  /**
   * Called for each change to IAM's records that can change a principal's policies (the authorizer's
   * `invalidate`): with that user's or role's ARN, or with nothing when anyone's may have changed.
   */
  readonly onChange: (arn?: string) => void;
  /** The account, to name the user or role a change is about (without it every change concerns everyone). */
  readonly accountId?: string;
  readonly onError?: (error: unknown, failure: InformerFailure) => void;
}

/** The informer's value for records no principal's policies read (access keys, attachment lists). */
const IRRELEVANT = 0 as const;

/** Compiled documents kept by text; beyond this many the oldest go (documents are small, policies few). */
const COMPILED_LIMIT = 1_000;

export class IamPolicySource implements PolicySource {
  private readonly informer: Informer<PolicyFacts | typeof IRRELEVANT>;
  private readonly compiled = new Map<string, CompiledPolicy>();

  constructor(private readonly options: IamPolicySourceOptions) {
    // The cache keeps each record's policy facts only (the records stay in the store), to tell what a change touched.
    this.informer = new Informer({
      store: options.store,
      prefix: 'iam/',
      parse: (value, key) => policyFactsOf(key, value, options.accountId) ?? IRRELEVANT,
      ...(options.onError ? { onError: options.onError } : {}),
    });
    const changed = (before: PolicyFacts | typeof IRRELEVANT | undefined, after: PolicyFacts | typeof IRRELEVANT | undefined) => {
      const what = invalidationFor(before === IRRELEVANT ? undefined : before, after === IRRELEVANT ? undefined : after);
      if (what.scope === 'principal') options.onChange(what.arn);
      else if (what.scope === 'all') options.onChange();
    };
    this.informer.subscribe({
      added: (_key, value) => changed(undefined, value),
      updated: (_key, before, after) => changed(before, after),
      deleted: (_key, before) => changed(before, undefined),
    });
  }

  start(): this {
    this.informer.start();
    return this;
  }

  stop(): void {
    this.informer.stop();
  }

  async policiesFor(principal: AuthzPrincipal): Promise<readonly CompiledPolicy[]> {
    const { store } = this.options;
    const documents: string[] = [];
    const attached: string[] = [];
    if (principal.type === 'User') {
      const user = await readRecord(store, parseIamUser, iamKeys.user(principal.userName ?? principal.arn.slice(principal.arn.lastIndexOf('/') + 1)));
      if (!user) return [];
      documents.push(...Object.values(user.inline));
      attached.push(...user.attached);
      const groups = await Promise.all(user.groups.map((name) => readRecord(store, parseIamGroup, iamKeys.group(name))));
      for (const group of groups) {
        if (!group) continue;
        documents.push(...Object.values(group.inline));
        attached.push(...group.attached);
      }
    } else if (principal.type === 'AssumedRole') {
      // arn:aws:sts::<account>:assumed-role/<role name>/<session name>
      const roleName = principal.arn.split(':assumed-role/')[1]?.split('/')[0];
      const role = roleName === undefined ? undefined : await readRecord(store, parseIamRole, iamKeys.role(roleName));
      if (!role) return [];
      documents.push(...Object.values(role.inline));
      attached.push(...role.attached);
    } else {
      return [];
    }
    for (const arn of new Set(attached)) {
      const document = await this.managedDocument(arn);
      if (document !== undefined) documents.push(document);
    }
    return documents.map((text) => this.compile(text));
  }

  async managedPolicies(arns: readonly string[]): Promise<readonly CompiledPolicy[]> {
    const documents = await Promise.all([...new Set(arns)].map((arn) => this.managedDocument(arn)));
    return documents.filter((d) => d !== undefined).map((text) => this.compile(text));
  }

  /** The default version's document of an AWS or customer managed policy. */
  private async managedDocument(arn: string): Promise<string | undefined> {
    const shipped = managedPolicyByArn(arn);
    if (shipped) return shipped.document;
    const parts = parsePolicyArn(arn);
    if (!parts) return undefined;
    const record = await readRecord(this.options.store, parseIamPolicy, iamKeys.policy(parts.name));
    return record?.versions.find((v) => v.id === record.defaultVersion)?.document;
  }

  private compile(text: string): CompiledPolicy {
    let policy = this.compiled.get(text);
    if (!policy) {
      // Stored documents passed IAM's validation when written; one that no longer parses grants nothing.
      try {
        policy = parsePolicyDocument(text, 'identity');
      } catch {
        policy = { kind: 'identity', version: '2012-10-17', statements: [], document: text };
      }
      if (this.compiled.size >= COMPILED_LIMIT) this.compiled.delete(this.compiled.keys().next().value!);
      this.compiled.set(text, policy);
    }
    return policy;
  }
}
