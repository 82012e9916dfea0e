import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { rootPrincipal, StaticCredentials } from '../api/auth/credentials.js';
import { SigV4Verifier } from '../api/auth/sigv4.js';
import { SigV4Signer, type RequestToSign } from './sigv4-signer.js';

const KEYS = { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'test-secret-key-0123456789abcdefghijklmn' };
const SESSION = { ...KEYS, sessionToken: 'FwoGZXIvYXdzEXAMPLE/token+with=chars' };
const DATE = new Date('2026-03-04T05:06:07Z');

/** The headers @smithy/signature-v4 — what the AWS SDKs run — signs the same request with. */
async function smithyHeaders(request: RequestToSign, credentials: typeof SESSION | typeof KEYS, applyChecksum: boolean) {
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'ecs', sha256: Hash.bind(null, 'sha256'), applyChecksum });
  const [hostname, port] = request.host.split(':');
  const signed = await signer.sign(
    new HttpRequest({
      method: request.method,
      protocol: 'http:',
      hostname: hostname!,
      ...(port ? { port: Number(port) } : {}),
      path: request.path,
      ...(request.query ? { query: { ...request.query } } : {}),
      headers: { host: request.host, ...request.headers },
      ...(request.body !== undefined ? { body: request.body } : {}),
    }),
    { signingDate: DATE },
  );
  const { host: _host, ...headers } = signed.headers;
  return headers;
}

const POST: RequestToSign = {
  method: 'POST',
  host: '127.0.0.1:7400',
  path: '/',
  headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.SubmitTaskStateChange', 'content-length': '17' },
  body: '{"cluster":"a b"}',
};
const UPGRADE: RequestToSign = { method: 'GET', host: 'cp.example:80', path: '/ws', query: { clusterArn: 'arn:aws:ecs:us-east-1:1:cluster/default', seqNum: '1', sendCredentials: 'true' } };

describe('SigV4Signer', () => {
  for (const [name, request] of [['a JSON call', POST], ['the session upgrade', UPGRADE]] as const) {
    for (const [kind, credentials] of [['keys', KEYS], ['a role session', SESSION]] as const) {
      for (const contentSha256 of [false, true]) {
        it(`signs ${name} with ${kind} as the AWS SDK's signer does${contentSha256 ? ', with the payload hash header' : ''}`, async () => {
          const ours = await new SigV4Signer({ credentials, region: 'us-east-1', service: 'ecs', contentSha256, now: () => DATE }).sign(request);
          expect(ours).toEqual(await smithyHeaders(request, credentials, contentSha256));
        });
      }
    }
  }

  it('calls a credential provider each time, so renewed credentials sign the next request', async () => {
    let calls = 0;
    const signer = new SigV4Signer({ credentials: async () => ({ ...KEYS, accessKeyId: `AKIA${++calls}` }), region: 'us-east-1', service: 'ecs', now: () => DATE });
    expect((await signer.sign(POST)).authorization).toContain('Credential=AKIA1/');
    expect((await signer.sign(POST)).authorization).toContain('Credential=AKIA2/');
  });

  it("is accepted by berth's verifier, and a changed body is not", async () => {
    const verifier = new SigV4Verifier({
      credentials: new StaticCredentials({ ...KEYS, principal: rootPrincipal('123456789012') }),
      region: 'us-east-1',
      services: new Set(['ecs']),
      now: () => DATE.getTime(),
    });
    const headers = await new SigV4Signer({ credentials: KEYS, region: 'us-east-1', service: 'ecs', now: () => DATE }).sign(POST);
    const wire = { method: 'POST', path: '/', query: {}, headers: { ...headers, host: POST.host } };
    await expect(verifier.verify({ ...wire, body: Buffer.from(POST.body!) })).resolves.toMatchObject({ accessKeyId: KEYS.accessKeyId });
    await expect(verifier.verify({ ...wire, body: Buffer.from('{"cluster":"other"}') })).rejects.toThrow(/signature we calculated does not match/);
  });
});
