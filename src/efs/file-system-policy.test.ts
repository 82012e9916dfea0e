import { describe, expect, it } from 'vitest';
import type { Principal } from '../api/auth/credentials.js';
import { ServiceError } from '../model/errors.js';
import { checkNewFileSystemPolicy, fileSystemPolicyDenies, locksOutCaller, parseFileSystemPolicy } from './file-system-policy.js';

const FS = 'arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0';
const doc = (statement: unknown) => JSON.stringify({ Version: '2012-10-17', Statement: statement });
const mount = { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'elasticfilesystem:ClientMount' };
const ana: Principal = { type: 'User', arn: 'arn:aws:iam::123456789012:user/ana', accountId: '123456789012', userName: 'ana', userId: 'AIDAANA' };
const root: Principal = { type: 'Root', arn: 'arn:aws:iam::123456789012:root', accountId: '123456789012' };

function refusal(text: string): { code: string; message: string } | undefined {
  try {
    parseFileSystemPolicy(text);
  } catch (e) {
    if (e instanceof ServiceError) return { code: e.type, message: e.message };
    throw e;
  }
  return undefined;
}

describe('parseFileSystemPolicy', () => {
  it('accepts EFS policies: principals, wildcards, resources, conditions', () => {
    const p = parseFileSystemPolicy(
      doc([
        { ...mount, Resource: FS, Condition: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } } },
        { Sid: 'tls', Effect: 'Deny', Principal: '*', Action: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:role/app' }, Action: ['elasticfilesystem:Client*'], Resource: 'arn:aws:elasticfilesystem:*' },
        { Effect: 'Allow', Principal: { AWS: '123456789012' }, NotAction: 'elasticfilesystem:DeleteFileSystem', Resource: '*' },
      ]),
    );
    expect(p.statements).toHaveLength(4);
  });

  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '{"Statement": [', /Syntax errors in policy/],
    ['no Statement', JSON.stringify({ Version: '2012-10-17' }), /Syntax errors in policy/],
    ['an unknown Version', JSON.stringify({ Version: '2020-01-01', Statement: mount }), /legacy parsing/],
    ['a bad Effect', doc({ ...mount, Effect: 'Permit' }), /Syntax errors/],
    ['no Principal', doc({ Effect: 'Allow', Action: 'elasticfilesystem:ClientMount' }), /Missing required field Principal/],
    ['a malformed principal', doc({ ...mount, Principal: { AWS: 'ana' } }), /Invalid principal in policy: "AWS":"ana"/],
    ['no Action', doc({ Effect: 'Allow', Principal: '*' }), /must contain actions/],
    ['an action of another service', doc({ ...mount, Action: 's3:GetObject' }), /Statement 1: action "s3:getobject" is not an elasticfilesystem action/],
    ['a wildcard of another service', doc({ ...mount, Action: 'ec2:*' }), /action "ec2:\*" is not an elasticfilesystem action/],
    ['an unknown EFS action', doc({ ...mount, Action: 'elasticfilesystem:ClientExplode' }), /"elasticfilesystem:clientexplode" is not an elasticfilesystem action/],
    ['a wildcard matching no EFS action', doc({ ...mount, Action: 'elasticfilesystem:Frob*' }), /"elasticfilesystem:Frob\*" matches no elasticfilesystem action/],
    ['a resource of another service', doc({ ...mount, Resource: 'arn:aws:s3:::bucket' }), /resource "arn:aws:s3:::bucket" is not an Amazon EFS resource/],
    ['a resource that is no ARN', doc({ ...mount, Resource: 'fs-1' }), /must be in ARN format/],
    ['an unknown condition operator', doc({ ...mount, Condition: { StringSorta: { 'aws:PrincipalArn': 'x' } } }), /Syntax errors/],
    ['a condition key without a vendor', doc({ ...mount, Condition: { Bool: { SecureTransport: 'true' } } }), /prefaced by a vendor/],
    ['duplicate Sids', doc([{ Sid: 'a', ...mount }, { Sid: 'a', ...mount }]), /must be unique/],
  ];
  for (const [what, text, message] of cases) {
    it(`refuses ${what} with InvalidPolicyException`, () => {
      const r = refusal(text);
      expect(r?.code).toBe('InvalidPolicyException');
      expect(r?.message).toMatch(message);
    });
  }
});

describe('the lockout safety check', () => {
  const denyPut = { Effect: 'Deny', Principal: { AWS: ana.arn }, Action: 'elasticfilesystem:PutFileSystemPolicy', Resource: FS };
  const allowed = { effect: 'Allow' } as const;

  it('refuses a policy denying the caller its next PutFileSystemPolicy, unless bypassed', () => {
    const policy = doc([mount, denyPut]);
    expect(locksOutCaller(parseFileSystemPolicy(policy), ana, FS, allowed)).toBe(true);
    expect(() => checkNewFileSystemPolicy(policy, { caller: ana, fileSystemArn: FS, identity: allowed, bypassLockoutCheck: false })).toThrow(
      /would lock arn:aws:iam::123456789012:user\/ana out of elasticfilesystem:PutFileSystemPolicy/,
    );
    expect(() => checkNewFileSystemPolicy(policy, { caller: ana, fileSystemArn: FS, identity: allowed, bypassLockoutCheck: true })).not.toThrow();
  });

  it('a Deny of everything by a wildcard locks out too; a conditional one does not', () => {
    expect(locksOutCaller(parseFileSystemPolicy(doc({ Effect: 'Deny', Principal: '*', Action: 'elasticfilesystem:*' })), ana, FS, allowed)).toBe(true);
    const tlsOnly = doc({ Effect: 'Deny', Principal: '*', Action: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(locksOutCaller(parseFileSystemPolicy(tlsOnly), ana, FS, allowed)).toBe(false);
  });

  it('without an identity Allow, only the policy naming the caller keeps it in', () => {
    const byName = doc({ Effect: 'Allow', Principal: { AWS: ana.arn }, Action: 'elasticfilesystem:PutFileSystemPolicy' });
    expect(locksOutCaller(parseFileSystemPolicy(byName), ana, FS, { effect: 'ImplicitDeny' })).toBe(false);
    expect(locksOutCaller(parseFileSystemPolicy(doc(mount)), ana, FS, { effect: 'ImplicitDeny' })).toBe(true);
    expect(locksOutCaller(parseFileSystemPolicy(byName), ana, FS, { effect: 'ExplicitDeny' })).toBe(true);
  });

  it('never locks out root, which the policy cannot refuse', () => {
    const policy = parseFileSystemPolicy(doc({ Effect: 'Deny', Principal: '*', Action: '*' }));
    expect(locksOutCaller(policy, root, FS, undefined)).toBe(false);
    expect(fileSystemPolicyDenies(policy, root, 'elasticfilesystem:DeleteFileSystem', FS)).toBe(false);
    expect(fileSystemPolicyDenies(policy, ana, 'elasticfilesystem:DeleteFileSystem', FS)).toBe(true);
  });
});
