// Signed ECS requests without the SDK client: SigV4 with @smithy/signature-v4 (the SDK's own signer), built
// once and replayed (a signature stays valid for ±5 minutes) so that on a 2-core machine the load generator
// spends its time sending, not signing.
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export const REGION = 'us-east-1';
const PREFIX = 'AmazonEC2ContainerServiceV20141113';

/** A signer for `keys` (ECS in REGION), reused: it caches its signing key. */
export function signerFor(keys) {
  return new SignatureV4({ credentials: keys, region: REGION, service: 'ecs', sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
}

/** A signed ECS JSON request to `url` as wrk sends it: { method, path, headers (host included), body }. */
export async function signed(url, keys, action, input, signer = signerFor(keys)) {
  const target = new URL(url);
  const body = JSON.stringify(input);
  const request = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: target.hostname,
      port: Number(target.port),
      path: '/',
      headers: { host: target.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${PREFIX}.${action}` },
      body,
    }),
  );
  return { method: 'POST', path: '/', headers: request.headers, body };
}

/** Send one signed ECS request with fetch; its parsed answer, or an error naming the action and status. */
export async function call(url, keys, action, input) {
  const { headers, body } = await signed(url, keys, action, input);
  const { host: _host, ...sendable } = headers;
  const res = await fetch(url, { method: 'POST', headers: sendable, body, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${action} against ${url}: ${res.status} ${text}`);
  return JSON.parse(text);
}
