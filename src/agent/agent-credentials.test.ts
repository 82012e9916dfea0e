import { describe, expect, it } from 'vitest';
import { agentCredentialProvider } from './agent-credentials.js';

describe('agentCredentialProvider', () => {
  it('takes the key pair, session token and expiry from the environment', async () => {
    const provider = agentCredentialProvider({ AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token', AWS_CREDENTIAL_EXPIRATION: '2030-01-01T00:00:00Z' });
    expect(await provider()).toEqual({ accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'token', expiration: new Date('2030-01-01T00:00:00Z') });
  });
});
