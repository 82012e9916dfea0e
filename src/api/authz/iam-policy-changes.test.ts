import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyRingSealer } from '../../identity/sealer.js';
import { MemoryStore } from '../../store/memory.js';
import { rootPrincipal } from '../auth/credentials.js';
import { iamService } from '../iam/index.js';
import type { CallContext } from '../protocol/json-rpc.js';
import { IamPolicySource } from './iam-policy-source.js';
import { invalidationFor, policyFactsOf } from './iam-policy-changes.js';

const ACCOUNT = '123456789012';

describe('policyFactsOf / invalidationFor', () => {
  const user = (over: object = {}) => JSON.stringify({ name: 'ana', id: 'AIDA1', path: '/team/', createDate: 1, inline: {}, attached: [], groups: [], tags: [], accessKeys: [], ...over });
  const facts = (key: string, value: string) => policyFactsOf(key, value, ACCOUNT);

  it('ignores what no policy depends on: access keys, tags, attachment lists', () => {
    expect(facts('iam/access-keys/AKIA1', '{}')).toBeUndefined();
    expect(facts('iam/policy-attachments/arn:aws:iam::aws:policy/X', '{}')).toBeUndefined();
    expect(invalidationFor(facts('iam/users/ana', user()), facts('iam/users/ana', user({ accessKeys: ['AKIA1'], tags: [{ Key: 'k', Value: 'v' }] })))).toEqual({ scope: 'none' });
    const role = (over: object = {}) => JSON.stringify({ name: 'app', id: 'AROA1', path: '/', inline: {}, attached: [], trustPolicy: '{}', tags: [], ...over });
    expect(invalidationFor(facts('iam/roles/app', role()), facts('iam/roles/app', role({ trustPolicy: '{"x":1}', tags: [{ Key: 'k', Value: 'v' }] })))).toEqual({ scope: 'none' });
    const group = (over: object = {}) => JSON.stringify({ name: 'devs', id: 'AGPA1', path: '/', inline: {}, attached: [], members: [], ...over });
    expect(invalidationFor(facts('iam/groups/devs', group()), facts('iam/groups/devs', group({ members: ['ana'] })))).toEqual({ scope: 'none' });
  });

  it('names the user or role whose own policies changed; a group or managed policy concerns everyone', () => {
    expect(invalidationFor(facts('iam/users/ana', user()), facts('iam/users/ana', user({ inline: { p: '{}' } })))).toEqual({
      scope: 'principal',
      arn: `arn:aws:iam::${ACCOUNT}:user/team/ana`,
    });
    expect(invalidationFor(facts('iam/users/ana', user()), facts('iam/users/ana', user({ groups: ['devs'] })))).toMatchObject({ scope: 'principal' });
    expect(invalidationFor(undefined, facts('iam/users/ana', user()))).toMatchObject({ scope: 'principal' });
    expect(invalidationFor(facts('iam/users/ana', user()), undefined)).toMatchObject({ scope: 'principal' });
    // A move changes the ARN: everyone, to be plain.
    expect(invalidationFor(facts('iam/users/ana', user()), facts('iam/users/ana', user({ path: '/' })))).toEqual({ scope: 'all' });
    const group = (attached: string[]) => JSON.stringify({ name: 'devs', path: '/', inline: {}, attached, members: [] });
    expect(invalidationFor(facts('iam/groups/devs', group([])), facts('iam/groups/devs', group(['arn:p'])))).toEqual({ scope: 'all' });
    const policy = (defaultVersion: string) =>
      JSON.stringify({ name: 'p', defaultVersion, versions: [{ id: 'v1', document: 'a' }, { id: 'v2', document: 'b' }], tags: [] });
    expect(invalidationFor(facts('iam/policies/p', policy('v1')), facts('iam/policies/p', policy('v2')))).toEqual({ scope: 'all' });
    expect(invalidationFor(facts('iam/policies/p', policy('v1')), facts('iam/policies/p', policy('v1').replace('"tags":[]', '"tags":[1]')))).toEqual({ scope: 'none' });
  });
});

describe('IamPolicySource: what IAM operations invalidate', () => {
  let source: IamPolicySource | undefined;
  afterEach(() => source?.stop());

  it('CreateAccessKey, UpdateAccessKey, tags and trust policies drop no one; policy changes drop only whom they concern', async () => {
    const store = new MemoryStore();
    const calls: (string | undefined)[] = [];
    source = new IamPolicySource({ store, accountId: ACCOUNT, onChange: (arn) => calls.push(arn) }).start();
    const ops = iamService({ store, accountId: ACCOUNT, sealer: new KeyRingSealer([{ id: 'k', key: randomBytes(32) }]), now: Date.now }).operations;
    const call = { principal: rootPrincipal(ACCOUNT), requestId: 'r', host: '' } as unknown as CallContext;
    const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }] });
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }] });
    const ana = `arn:aws:iam::${ACCOUNT}:user/ana`;
    const app = `arn:aws:iam::${ACCOUNT}:role/app`;
    /** Runs `op`, then a change that does drop someone (a marker), and returns what was dropped in between. */
    let marks = 0;
    async function dropped(op: () => Promise<unknown>): Promise<(string | undefined)[]> {
      const from = calls.length;
      await op();
      const marker = `marker${++marks}`;
      await ops.CreateUser!({ UserName: marker }, call);
      await expect.poll(() => calls.includes(`arn:aws:iam::${ACCOUNT}:user/${marker}`), { timeout: 5_000 }).toBe(true);
      return calls.slice(from, calls.indexOf(`arn:aws:iam::${ACCOUNT}:user/${marker}`));
    }

    expect(await dropped(() => ops.CreateUser!({ UserName: 'ana' }, call))).toEqual([ana]);
    expect(await dropped(() => ops.PutUserPolicy!({ UserName: 'ana', PolicyName: 'p', PolicyDocument: doc }, call))).toEqual([ana]);
    const { AccessKey } = (await ops.CreateAccessKey!({ UserName: 'ana' }, call)) as { AccessKey: { AccessKeyId: string } };
    expect(await dropped(() => ops.CreateAccessKey!({ UserName: 'ana' }, call))).toEqual([]);
    expect(await dropped(() => ops.UpdateAccessKey!({ UserName: 'ana', AccessKeyId: AccessKey.AccessKeyId, Status: 'Inactive' }, call))).toEqual([]);
    expect(await dropped(() => ops.TagUser!({ UserName: 'ana', Tags: [{ Key: 'team', Value: 'a' }] }, call))).toEqual([]);
    expect(await dropped(() => ops.CreateRole!({ RoleName: 'app', AssumeRolePolicyDocument: trust }, call))).toEqual([app]);
    expect(await dropped(() => ops.UpdateAssumeRolePolicy!({ RoleName: 'app', PolicyDocument: trust.replace('sts:AssumeRole', 'sts:*') }, call))).toEqual([]);
    expect(await dropped(() => ops.PutRolePolicy!({ RoleName: 'app', PolicyName: 'p', PolicyDocument: doc }, call))).toEqual([app]);
    expect(await dropped(() => ops.CreateGroup!({ GroupName: 'devs' }, call))).toEqual([undefined]);
    // The user's record gains the group (her policies change); the group's member list is no one's policy.
    expect(await dropped(() => ops.AddUserToGroup!({ GroupName: 'devs', UserName: 'ana' }, call))).toEqual([ana]);
    const { Policy } = (await ops.CreatePolicy!({ PolicyName: 'shared', PolicyDocument: doc }, call)) as { Policy: { Arn: string } };
    expect(await dropped(() => ops.AttachRolePolicy!({ RoleName: 'app', PolicyArn: Policy.Arn }, call))).toEqual([app]);
    expect(await dropped(() => ops.CreatePolicyVersion!({ PolicyArn: Policy.Arn, PolicyDocument: doc.replace('ecs:*', 'ecs:List*'), SetAsDefault: true }, call))).toEqual([undefined]);
  });
});
