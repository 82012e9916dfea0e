import { describe, expect, it } from 'vitest';
import { parseSecretReference } from './secret-reference.js';

const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf';

describe('parseSecretReference', () => {
  it('reads Secrets Manager ARNs, with or without the json-key:version-stage:version-id suffix', () => {
    expect(parseSecretReference(SECRET)).toEqual({ kind: 'secretsmanager', secretId: SECRET });
    expect(parseSecretReference(`${SECRET}:password::`)).toEqual({ kind: 'secretsmanager', secretId: SECRET, jsonKey: 'password' });
    expect(parseSecretReference(`${SECRET}::AWSPREVIOUS:`)).toEqual({ kind: 'secretsmanager', secretId: SECRET, versionStage: 'AWSPREVIOUS' });
    expect(parseSecretReference(`${SECRET}:user::0123abcd-0123-4567-89ab-0123456789ab`)).toEqual({
      kind: 'secretsmanager',
      secretId: SECRET,
      jsonKey: 'user',
      versionId: '0123abcd-0123-4567-89ab-0123456789ab',
    });
  });

  it('reads parameters by name, by path and by ARN', () => {
    expect(parseSecretReference('db-password')).toEqual({ kind: 'ssm', name: 'db-password' });
    expect(parseSecretReference('/prod/db/password')).toEqual({ kind: 'ssm', name: '/prod/db/password' });
    expect(parseSecretReference('arn:aws:ssm:us-east-1:123456789012:parameter/db-password')).toEqual({ kind: 'ssm', name: 'db-password' });
    expect(parseSecretReference('arn:aws:ssm:us-east-1:123456789012:parameter/prod/db/password')).toEqual({ kind: 'ssm', name: '/prod/db/password' });
  });

  it('refuses what names neither', () => {
    for (const bad of ['', 'arn:aws:s3:::bucket/key', `${SECRET}:onlykey`, 'arn:aws:secretsmanager:us-east-1:123456789012:key:x', 'arn:aws:ssm:us-east-1:123456789012:document/x', 'arn:aws:ssm:us-east-1:123456789012:parameter/']) {
      expect(parseSecretReference(bad), bad).toBeUndefined();
    }
  });
});
