import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startApiFixture, TEST_KEYS, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { SESSION_PATH } from './gateway.js';

let api: ApiFixture;
beforeAll(async () => {
  api = await startApiFixture();
});
afterAll(() => api.stop());

/** Open a session upgrade signed as the agent signs it, with `tamper` applied to the headers; the refusal. */
async function refusedUpgrade(tamper: (headers: Record<string, string>) => void): Promise<{ status: number; body: unknown }> {
  const url = new URL(SESSION_PATH, api.server.url);
  const query = { clusterArn: 'default', containerInstanceArn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/default/x', seqNum: '1' };
  const signer = new SignatureV4({ credentials: TEST_KEYS, region: TEST_REGION, service: 'ecs', sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
  const signed = await signer.sign(
    new HttpRequest({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers: { host: url.host } }),
  );
  const { host: _host, ...headers } = signed.headers;
  tamper(headers);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const ws = new WebSocket(url.toString().replace(/^http/, 'ws'), { headers });
  return new Promise((resolve, reject) => {
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
  });
}

describe('the agent gateway refuses a bad signature on the session upgrade', () => {
  // Found by fuzzing the JSON API; the upgrade goes through the same verifier.
  it.each(['constructor', '__proto__'])("answers a SignedHeaders list naming '%s' with 403, not a server fault", async (name) => {
    const refusal = await refusedUpgrade((h) => void (h.authorization = h.authorization!.replace('SignedHeaders=', `SignedHeaders=${name};`)));
    expect(refusal).toEqual({ status: 403, body: { __type: 'IncompleteSignatureException', message: `Signed header '${name}' is missing from the request.` } });
  });
});
