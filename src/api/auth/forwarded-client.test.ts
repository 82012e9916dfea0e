import { describe, expect, it } from 'vitest';
import { CredentialChain, rootPrincipal, StaticCredentials } from './credentials.js';
import { SigV4Signer } from '../../process/sigv4-signer.js';
import { attestClientAddress, attestedClientAddress, CLIENT_ADDRESS } from './forwarded-client.js';
import { SigV4Verifier } from './sigv4.js';

const ACCOUNT = '000000000000';
const root = { accessKeyId: 'AKIAROOT00000000', secretAccessKey: 'root-secret' };
const user = { accessKeyId: 'AKIAUSER00000000', secretAccessKey: 'user-secret' };
const verifier = new SigV4Verifier({
  credentials: new CredentialChain([
    new StaticCredentials({ ...root, principal: rootPrincipal(ACCOUNT) }),
    new StaticCredentials({ ...user, principal: { type: 'User', arn: `arn:aws:iam::${ACCOUNT}:user/u`, accountId: ACCOUNT, userName: 'u', userId: 'AIDAU' } }),
  ]),
  region: 'us-east-1',
  services: new Set(['sqs']),
});
const clientRequest = { authorization: 'AWS4-HMAC-SHA256 Credential=AKIAUSER00000000/20261207/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=ab' };

describe('a forwarded request\'s client address', () => {
  it('is believed when a replica (the root key pair) attested it for this request', async () => {
    const headers = await attestClientAddress(new SigV4Signer({ credentials: root, region: 'us-east-1', service: 'sqs' }), '10.1.2.3', clientRequest);
    expect(await attestedClientAddress(verifier, ACCOUNT, { ...clientRequest, ...headers })).toBe('10.1.2.3');
  });

  it('is ignored when absent, changed, moved onto another request, or attested by a non-root principal', async () => {
    expect(await attestedClientAddress(verifier, ACCOUNT, { ...clientRequest, [CLIENT_ADDRESS]: '10.1.2.3' })).toBeUndefined();
    const headers = await attestClientAddress(new SigV4Signer({ credentials: root, region: 'us-east-1', service: 'sqs' }), '10.1.2.3', clientRequest);
    expect(await attestedClientAddress(verifier, ACCOUNT, { ...clientRequest, ...headers, [CLIENT_ADDRESS]: '10.9.9.9' })).toBeUndefined();
    expect(await attestedClientAddress(verifier, ACCOUNT, { ...headers, authorization: `${clientRequest.authorization}c` })).toBeUndefined();
    const byUser = await attestClientAddress(new SigV4Signer({ credentials: user, region: 'us-east-1', service: 'sqs' }), '10.1.2.3', clientRequest);
    expect(await attestedClientAddress(verifier, ACCOUNT, { ...clientRequest, ...byUser })).toBeUndefined();
    expect(await attestedClientAddress(verifier, '111111111111', { ...clientRequest, ...headers })).toBeUndefined();
  });
});
