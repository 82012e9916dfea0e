import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_KEYS, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';

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
    ['the date', (r: { headers: Record<string, string> }) => void (r.headers['x-amz-date'] = r.headers['x-amz-date']!.replace(/\d\dZ$/, '00Z'))],
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
