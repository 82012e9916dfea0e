import { describe, expect, it } from 'vitest';
import { parsePolicyDocument, type Decision } from '../model/iam/index.js';
import { clientAccess, clientContext, type ClientAction } from './client-access.js';

const fsArn = 'arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1';
const role = 'arn:aws:iam::123456789012:role/app';
const principal = { kind: 'AWS' as const, arn: 'arn:aws:sts::123456789012:assumed-role/app/t1', accountId: '123456789012', roleArn: role };
const policy = (...statements: object[]) => parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'resource');
const identity =
  (effects: Partial<Record<ClientAction, Decision['effect']>>) =>
  (action: ClientAction): Decision => ({ effect: effects[action] ?? 'ImplicitDeny' });
const tls = clientContext(true);

describe('EFS client authorization (ClientMount, ClientWrite, ClientRootAccess)', () => {
  it('grants everything to anyone under the default policy (no file system policy), unless the identity policies deny', () => {
    expect(clientAccess({ fileSystemArn: fsArn, context: tls })).toEqual({ mount: true, write: true, rootAccess: true });
    expect(clientAccess({ fileSystemArn: fsArn, principal, identity: identity({}), context: tls })).toEqual({ mount: true, write: true, rootAccess: true });
    expect(clientAccess({ fileSystemArn: fsArn, principal, identity: identity({ 'elasticfilesystem:ClientWrite': 'ExplicitDeny' }), context: tls })).toEqual({
      mount: true,
      write: false,
      rootAccess: true,
    });
  });

  it('allows an action granted by either the file system policy or the identity policies', () => {
    const p = policy({ Effect: 'Allow', Principal: { AWS: role }, Action: 'elasticfilesystem:ClientMount' });
    expect(clientAccess({ fileSystemArn: fsArn, policy: p, principal, identity: identity({}), context: tls })).toEqual({ mount: true, write: false, rootAccess: false });
    const withWrite = identity({ 'elasticfilesystem:ClientWrite': 'Allow' });
    expect(clientAccess({ fileSystemArn: fsArn, policy: p, principal, identity: withWrite, context: tls })).toEqual({ mount: true, write: true, rootAccess: false });
    // Naming the account delegates to the identity policies.
    const account = policy({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'elasticfilesystem:Client*' });
    expect(clientAccess({ fileSystemArn: fsArn, policy: account, principal, identity: identity({}), context: tls }).mount).toBe(false);
    expect(clientAccess({ fileSystemArn: fsArn, policy: account, principal, identity: identity({ 'elasticfilesystem:ClientMount': 'Allow' }), context: tls }).mount).toBe(true);
  });

  it('treats a client without IAM as anonymous: only statements for "*" apply', () => {
    const roleOnly = policy({ Effect: 'Allow', Principal: { AWS: role }, Action: 'elasticfilesystem:*' });
    expect(clientAccess({ fileSystemArn: fsArn, policy: roleOnly, context: tls }).mount).toBe(false);
    const anyone = policy({ Effect: 'Allow', Principal: { AWS: '*' }, Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'] });
    expect(clientAccess({ fileSystemArn: fsArn, policy: anyone, context: tls })).toEqual({ mount: true, write: true, rootAccess: false });
  });

  it('lets a Deny win, e.g. the policy that requires TLS (aws:SecureTransport false)', () => {
    const requireTls = policy(
      { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'elasticfilesystem:*' },
      { Effect: 'Deny', Principal: { AWS: '*' }, Action: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    );
    expect(clientAccess({ fileSystemArn: fsArn, policy: requireTls, context: clientContext(true) }).mount).toBe(true);
    expect(clientAccess({ fileSystemArn: fsArn, policy: requireTls, context: clientContext(false) }).mount).toBe(false);
    const denyOther = policy({ Effect: 'Deny', Principal: { AWS: '*' }, Action: '*', Resource: 'arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-2' });
    expect(clientAccess({ fileSystemArn: fsArn, policy: denyOther, context: tls }).mount).toBe(false); // nothing allows either
    expect(clientAccess({ fileSystemArn: fsArn, policy: denyOther, principal, identity: identity({ 'elasticfilesystem:ClientMount': 'Allow' }), context: tls }).mount).toBe(true);
  });

  it('checks the access point condition key', () => {
    const apArn = 'arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1';
    const onlyAp = policy({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'elasticfilesystem:ClientMount', Condition: { StringEquals: { 'elasticfilesystem:AccessPointArn': apArn } } });
    expect(clientAccess({ fileSystemArn: fsArn, policy: onlyAp, context: clientContext(true, apArn) }).mount).toBe(true);
    expect(clientAccess({ fileSystemArn: fsArn, policy: onlyAp, context: clientContext(true) }).mount).toBe(false);
  });
});
