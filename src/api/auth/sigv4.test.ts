import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_KEYS, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';
import { ServiceError } from '../../model/errors.js';
import { rootPrincipal, type Credential, type CredentialStore } from './credentials.js';
import { SigV4Verifier, type SignedRequest } from './sigv4.js';

const LIST = 'AmazonEC2ContainerServiceV20141113.ListClusters';
let api: ApiFixture;
beforeAll(async () => {
  api = await startApiFixture();
});
afterAll(() => api.stop());

const minutes = (n: number) => new Date(Date.now() + n * 60_000);

describe('SigV4 authentication', () => {
  it('accepts a correctly signed request', async () => {
    const res = await api.raw({ target: LIST });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ clusterArns: [] });
  });

  it('answers an unsigned request with 403 MissingAuthenticationTokenException', async () => {
    const res = await api.raw({ target: LIST, sign: false });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers an unknown access key with 403 UnrecognizedClientException', async () => {
    const res = await api.raw({ target: LIST, keys: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' } });
    expect(res.status).toBe(403);
    expect(res.body.__type).toBe('UnrecognizedClientException');
  });

  it('answers a wrong secret with 403 InvalidSignatureException', async () => {
    const res = await api.raw({ target: LIST, keys: { accessKeyId: TEST_KEYS.accessKeyId, secretAccessKey: 'wrong' } });
    expect(res.status).toBe(403);
    expect(res.body.__type).toBe('InvalidSignatureException');
    expect(res.body.message).toMatch(/signature we calculated does not match/);
  });

  it.each([
    ['the body', (r: { headers: Record<string, string>; body: string | Buffer }) => void (r.body = '{"maxResults":5}')],
    ['a signed header', (r: { headers: Record<string, string> }) => void (r.headers['x-amz-target'] = 'AmazonEC2ContainerServiceV20141113.ListTaskDefinitions')],
    // Another second than the one signed (replacing the seconds by a fixed value changed nothing one time in 60).
    ['the date', (r: { headers: Record<string, string> }) => void (r.headers['x-amz-date'] = r.headers['x-amz-date']!.replace(/(\d\d)Z$/, (_m, s: string) => `${s === '00' ? '01' : '00'}Z`))],
  ])('refuses a request whose %s changed after signing', async (_what, tamper) => {
    const res = await api.raw({ target: LIST, tamper: tamper as never });
    expect(res.status).toBe(403);
    expect(res.body.__type).toBe('InvalidSignatureException');
  });

  it('refuses a stale and a future X-Amz-Date, and accepts one within five minutes', async () => {
    const stale = await api.raw({ target: LIST, signingDate: minutes(-6) });
    expect(stale.status).toBe(403);
    expect(stale.body).toMatchObject({ __type: 'InvalidSignatureException', message: expect.stringMatching(/^Signature expired: \d{8}T\d{6}Z is now earlier than/) });
    const future = await api.raw({ target: LIST, signingDate: minutes(6) });
    expect(future.status).toBe(403);
    expect(future.body.message).toMatch(/^Signature not yet current/);
    expect((await api.raw({ target: LIST, signingDate: minutes(-4) })).status).toBe(200);
    expect((await api.raw({ target: LIST, signingDate: minutes(4) })).status).toBe(200);
  });

  it('refuses a credential scoped to another region or service', async () => {
    const region = await api.raw({ target: LIST, region: 'eu-west-1' });
    expect(region.status).toBe(403);
    expect(region.body.message).toMatch(/scoped to a valid region, not 'eu-west-1'/);
    const service = await api.raw({ target: LIST, service: 's3' });
    expect(service.status).toBe(403);
    expect(service.body.message).toMatch(/scoped to correct service, not 's3'/);
  });

  it('refuses a malformed Authorization header and one that signs too little', async () => {
    const garbled = await api.raw({ target: LIST, tamper: (r) => void (r.headers.authorization = 'AWS4-HMAC-SHA256 nonsense') });
    expect(garbled.status).toBe(403);
    expect(garbled.body.__type).toBe('IncompleteSignatureException');
    const basic = await api.raw({ target: LIST, tamper: (r) => void (r.headers.authorization = 'Basic dXNlcjpwYXNz') });
    expect(basic.status).toBe(403);
    const noHost = await api.raw({
      target: LIST,
      tamper: (r) => void (r.headers.authorization = r.headers.authorization!.replace('SignedHeaders=content-type;host;', 'SignedHeaders=content-type;')),
    });
    expect(noHost.status).toBe(403);
    expect(noHost.body.__type).toBe('IncompleteSignatureException');
  });

  it("answers a SignedHeaders list naming 'constructor' or '__proto__' with 403, not a server fault", async () => {
    for (const name of ['constructor', '__proto__']) {
      const res = await api.raw({
        target: LIST,
        tamper: (r) => void (r.headers.authorization = r.headers.authorization!.replace('SignedHeaders=', `SignedHeaders=${name};`)),
      });
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ __type: 'IncompleteSignatureException', message: `Signed header '${name}' is missing from the request.` });
    }
  });

  it('refuses a body that does not match a signed x-amz-content-sha256', async () => {
    const res = await api.raw({
      target: LIST,
      headers: { 'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
    });
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/x-amz-content-sha256/);
  });

  it('surfaces as typed errors in the AWS SDK', async () => {
    const wrong = new ECSClient({
      endpoint: api.server.url,
      region: TEST_REGION,
      credentials: { accessKeyId: TEST_KEYS.accessKeyId, secretAccessKey: 'nope' },
      maxAttempts: 1,
    });
    const e = await failure(wrong.send(new ListClustersCommand({})));
    expect(e).toMatchObject({ name: 'InvalidSignatureException', status: 403 });
    wrong.destroy();
  });
});

describe('SigV4Verifier', () => {
  const SIGNED_AT = Date.parse('2026-03-04T05:06:07Z');
  const principal = rootPrincipal('123456789012');
  let secret: string = TEST_KEYS.secretAccessKey;
  let sessionToken: string | undefined;
  const credentials: CredentialStore = {
    async lookup(id) {
      return id === TEST_KEYS.accessKeyId
        ? ({ accessKeyId: id, secretAccessKey: secret, principal, ...(sessionToken ? { sessionToken } : {}) } satisfies Credential)
        : undefined;
    },
  };
  let clock = SIGNED_AT;
  const verifier = new SigV4Verifier({ credentials, region: 'us-east-1', services: new Set(['ecs']), now: () => clock });

  interface Signing {
    readonly secretAccessKey?: string;
    readonly sessionToken?: string;
    readonly date?: number;
    readonly region?: string;
    readonly path?: string;
    readonly method?: string;
    readonly query?: Record<string, string | string[]>;
    readonly body?: string;
  }

  /** A request signed by the AWS SDK's signer, as the HTTP server hands it over (lower-case header names). */
  async function signed(options: Signing = {}): Promise<SignedRequest & { headers: Record<string, string> }> {
    const signer = new SignatureV4({
      credentials: {
        accessKeyId: TEST_KEYS.accessKeyId,
        secretAccessKey: options.secretAccessKey ?? TEST_KEYS.secretAccessKey,
        ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
      },
      region: options.region ?? 'us-east-1',
      service: 'ecs',
      sha256: Hash.bind(null, 'sha256'),
      applyChecksum: false,
    });
    const body = options.body ?? '{"cluster":"default"}';
    const request = await signer.sign(
      new HttpRequest({
        method: options.method ?? 'POST',
        protocol: 'http:',
        hostname: 'berth.local',
        path: options.path ?? '/',
        query: options.query ?? {},
        headers: { host: 'berth.local:4000', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Svc.ListServices' },
        body,
      }),
      { signingDate: new Date(options.date ?? SIGNED_AT) },
    );
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
    return { method: request.method, path: request.path, query: options.query ?? {}, headers, body: Buffer.from(body) };
  }

  const refusal = async (request: SignedRequest): Promise<{ type: string; message: string }> => {
    try {
      await verifier.verify(request);
    } catch (error) {
      expect(error).toBeInstanceOf(ServiceError);
      return { type: (error as ServiceError).type, message: (error as ServiceError).message };
    }
    throw new Error('expected the request to be refused');
  };

  it('accepts what the SDK signed, with paths and query strings, and names the caller and the service', async () => {
    clock = SIGNED_AT;
    await expect(verifier.verify(await signed())).resolves.toEqual({ principal, accessKeyId: TEST_KEYS.accessKeyId, signingService: 'ecs' });
    const get = await signed({ method: 'GET', path: '/ws/a%20b/', query: { containerInstanceArn: 'arn:aws:ecs:x/y', seq: ['2', '1'] }, body: '' });
    await expect(verifier.verify(get)).resolves.toMatchObject({ signingService: 'ecs' });
  });

  it('refuses a wrong signature', async () => {
    const request = await signed();
    request.headers.authorization = request.headers.authorization!.replace(/Signature=(.)/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
    expect(await refusal(request)).toMatchObject({ type: 'InvalidSignatureException', message: expect.stringMatching(/does not match/) });
  });

  it('refuses a signature made with another secret, also after the secret was rotated', async () => {
    expect((await refusal(await signed({ secretAccessKey: 'wrong' }))).type).toBe('InvalidSignatureException');
    const before = await signed();
    await verifier.verify(before);
    secret = 'rotated-secret';
    try {
      expect((await refusal(before)).type).toBe('InvalidSignatureException');
      await expect(verifier.verify(await signed({ secretAccessKey: 'rotated-secret' }))).resolves.toBeDefined();
    } finally {
      secret = TEST_KEYS.secretAccessKey;
    }
  });

  it('refuses a tampered body, signed header or date, and ignores unsigned headers', async () => {
    const body = await signed();
    expect((await refusal({ ...body, body: Buffer.from('{"cluster":"other"}') })).type).toBe('InvalidSignatureException');
    const header = await signed();
    header.headers['x-amz-target'] = 'Svc.DeleteService';
    expect((await refusal(header)).type).toBe('InvalidSignatureException');
    const date = await signed();
    date.headers['x-amz-date'] = '20260304T050608Z';
    expect((await refusal(date)).type).toBe('InvalidSignatureException');
    const path = await signed({ path: '/a' });
    expect((await refusal({ ...path, path: '/b' })).type).toBe('InvalidSignatureException');
    const query = await signed({ query: { a: '1' } });
    expect((await refusal({ ...query, query: { a: '2' } })).type).toBe('InvalidSignatureException');
    const unsigned = await signed();
    unsigned.headers['user-agent'] = 'changed';
    await expect(verifier.verify(unsigned)).resolves.toBeDefined();
  });

  it('refuses a scope whose date, region or service is not the request\'s', async () => {
    const date = await signed();
    date.headers.authorization = date.headers.authorization!.replace('/20260304/', '/20260303/');
    expect(await refusal(date)).toMatchObject({ type: 'InvalidSignatureException', message: expect.stringMatching(/Date in Credential scope/) });
    expect((await refusal(await signed({ region: 'eu-west-1' }))).message).toMatch(/valid region/);
  });

  it('refuses dates more than five minutes from the clock either way, and dates no signer writes', async () => {
    const request = await signed();
    clock = SIGNED_AT + 5 * 60_000;
    await expect(verifier.verify(request)).resolves.toBeDefined();
    clock = SIGNED_AT + 5 * 60_000 + 1;
    expect((await refusal(request)).message).toMatch(/^Signature expired: 20260304T050607Z is now earlier than/);
    clock = SIGNED_AT - 5 * 60_000 - 1;
    expect((await refusal(request)).message).toMatch(/^Signature not yet current/);
    clock = SIGNED_AT;
    const feb30 = await signed();
    feb30.headers['x-amz-date'] = '20260230T050607Z';
    expect((await refusal(feb30)).type).toBe('IncompleteSignatureException');
    const leapDay = Date.parse('2028-02-29T23:59:59Z');
    clock = leapDay;
    try {
      await expect(verifier.verify(await signed({ date: leapDay }))).resolves.toBeDefined();
    } finally {
      clock = SIGNED_AT;
    }
  });

  it('refuses a header listed twice in SignedHeaders', async () => {
    const request = await signed();
    request.headers.authorization = request.headers.authorization!.replace('SignedHeaders=', 'SignedHeaders=host;');
    expect((await refusal(request)).type).toBe('IncompleteSignatureException');
  });

  // Found by fuzzing: the names are looked up in Node's headers object, whose prototype has these members
  // (SignedHeaders allows lower case only, so these two are the ones a client can name).
  it.each(['constructor', '__proto__'])(
    "refuses a SignedHeaders list naming '%s', absent from the request, as a missing signed header",
    async (name) => {
      const request = await signed();
      request.headers.authorization = request.headers.authorization!.replace('SignedHeaders=', `SignedHeaders=${name};`);
      expect(await refusal(request)).toEqual({ type: 'IncompleteSignatureException', message: `Signed header '${name}' is missing from the request.` });
    },
  );

  it('holds temporary credentials to their token, signed', async () => {
    sessionToken = 'token-1';
    try {
      await expect(verifier.verify(await signed({ sessionToken: 'token-1' }))).resolves.toBeDefined();
      expect((await refusal(await signed({ sessionToken: 'token-2' }))).type).toBe('UnrecognizedClientException');
      expect((await refusal(await signed())).type).toBe('UnrecognizedClientException');
      const unsignedToken = await signed();
      unsignedToken.headers['x-amz-security-token'] = 'token-1';
      expect((await refusal(unsignedToken)).type).toBe('InvalidSignatureException');
    } finally {
      sessionToken = undefined;
    }
  });
});
