import { describe, expect, it } from 'vitest';
import { checkSecretName, parseSecretReference, randomArnSuffix, secretArn, secretIdCandidates } from './secret-ids.js';

describe('secret names, ARNs and references', () => {
  it('builds ARNs with six random letters and digits', () => {
    expect(randomArnSuffix()).toMatch(/^[A-Za-z0-9]{6}$/);
    expect(secretArn({ region: 'eu-west-1', accountId: '123456789012' }, 'a/b', 'AbC123')).toBe('arn:aws:secretsmanager:eu-west-1:123456789012:secret:a/b-AbC123');
  });

  it('finds a secret by name, full ARN (suffix checked) or partial ARN', () => {
    expect(secretIdCandidates('db')).toEqual([{ name: 'db' }]);
    const arn = 'arn:aws:secretsmanager:r:123456789012:secret:db-AbC123';
    expect(secretIdCandidates(arn)).toEqual([{ name: 'db', arn }, { name: 'db-AbC123' }]);
    expect(secretIdCandidates('arn:aws:secretsmanager:r:123456789012:secret:my/db')).toEqual([{ name: 'my/db' }]);
  });

  it('refuses names outside Secrets Manager alphabet', () => {
    expect(() => checkSecretName('ok/name_+=.@-1')).not.toThrow();
    for (const bad of ['', 'sp ace', 'colon:', 'hash#', 'x'.repeat(513)]) expect(() => checkSecretName(bad), bad).toThrow(/Invalid name/);
  });

  it('splits an ECS valueFrom into the secret and its json-key, version-stage and version-id', () => {
    const arn = 'arn:aws:secretsmanager:r:123456789012:secret:db-AbC123';
    expect(parseSecretReference(arn)).toEqual({ secretId: arn });
    expect(parseSecretReference(`${arn}:password::`)).toEqual({ secretId: arn, jsonKey: 'password' });
    expect(parseSecretReference(`${arn}:password:AWSPREVIOUS:`)).toEqual({ secretId: arn, jsonKey: 'password', versionStage: 'AWSPREVIOUS' });
    expect(parseSecretReference(`${arn}:::0123`)).toEqual({ secretId: arn, versionId: '0123' });
    expect(parseSecretReference('/my/param')).toBeUndefined();
    expect(parseSecretReference('arn:aws:ssm:r:123456789012:parameter/my/param')).toBeUndefined();
  });
});
