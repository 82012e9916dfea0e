/**
 * One AWS JSON 1.1 call to a berth-private API of the control plane (`X-Amz-Target: <prefix>.<Op>`), signed with
 * SigV4 (sigv4-signer.ts) with the calling host's credentials. No SDK client exists for such an API; the host
 * roles that report to one (`berth lb`, `berth storage`) share this instead of building the request each.
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { SigV4Signer } from './sigv4-signer.js';

export interface SignedJsonCallOptions {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  /** The signing name the control plane verifies (e.g. `elasticloadbalancing`). */
  readonly service: string;
  readonly targetPrefix: string;
  readonly timeoutMs?: number;
  /** The error to throw for a refused call: the answer's `__type` (else the HTTP status), the operation, its message. */
  readonly refused: (type: string, operation: string, message: string) => Error;
}

/** A caller of `options.targetPrefix`'s operations: resolves to the answer's JSON (`{}` for an empty body). */
export function signedJsonCaller(options: SignedJsonCallOptions): (operation: string, input: object) => Promise<Record<string, unknown>> {
  const signer = new SigV4Signer({ credentials: options.credentials, region: options.region, service: options.service });
  const url = new URL(options.endpoint);
  return async (operation, input) => {
    const body = JSON.stringify(input);
    const headers = await signer.sign({
      method: 'POST',
      host: url.host,
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${options.targetPrefix}.${operation}` },
      body,
    });
    const res = await fetch(new URL('/', url), { method: 'POST', headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok) throw options.refused(String(json.__type ?? res.status), operation, String(json.message ?? text));
    return json;
  };
}
