import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SigV4Signer } from '../../process/sigv4-signer.js';
import type { SigV4Verifier } from './sigv4.js';

/**
 * The client's address on a request one replica passes on to another (SQS to the replica holding the queues,
 * queues/forward.ts), with authority. The request keeps the client's own signature, so the replica that serves it
 * authenticates the client; but its peer is the forwarding replica, whose address would be the request's
 * aws:SourceIp. The forwarding replica therefore attests the client's address: it SigV4-signs, with the root key
 * pair every replica has (the ECS Exec relay's mechanism, api/exec/exec-relay.ts), a small request of its own that
 * names the address and the hash of the client's Authorization header, and sends that signature in headers beside
 * the client's. The serving replica believes the address only when that signature verifies as the account's root:
 * a header a client sends itself (signed by the client, a user, or not at all) is ignored, and an attestation lifted
 * onto another request does not match that request's Authorization.
 *
 *   client ──(its signature)──▶ follower ──+ x-berth-client-address, x-berth-forward-authorization/-date──▶ leader
 *                                                 verified as root, bound to the client's Authorization ──▶ aws:SourceIp
 */
export const CLIENT_ADDRESS = 'x-berth-client-address';
const FORWARD_AUTHORIZATION = 'x-berth-forward-authorization';
const FORWARD_DATE = 'x-berth-forward-date';
/** The attestation's own request: never sent, only signed and re-derived. */
const ATTESTATION_HOST = 'berth-forwarded-client';
const ATTESTATION_PATH = '/forwarded-client';
const CLIENT_AUTHORIZATION_HASH = 'x-berth-client-authorization-sha256';
/** The headers a forwarding replica sets (and so overwrites whatever the client put there). */
export const ATTESTATION_HEADERS = [CLIENT_ADDRESS, FORWARD_AUTHORIZATION, FORWARD_DATE] as const;

const authorizationHash = (headers: IncomingHttpHeaders) => createHash('sha256').update(String(headers.authorization ?? '')).digest('hex');

/** The attestation's signed headers (besides host and x-amz-date): the address, bound to the client's Authorization. */
const attested = (address: string, clientAuthorizationHash: string) => ({ [CLIENT_ADDRESS]: address, [CLIENT_AUTHORIZATION_HASH]: clientAuthorizationHash });

/**
 * The headers attesting that the request with `headers` came from `address`, signed by `signer` (the root key pair's,
 * made once: it keeps its derived signing keys).
 */
export async function attestClientAddress(signer: SigV4Signer, address: string, headers: IncomingHttpHeaders): Promise<Record<string, string>> {
  const signed = await signer.sign({ method: 'POST', host: ATTESTATION_HOST, path: ATTESTATION_PATH, headers: attested(address, authorizationHash(headers)) });
  return { [CLIENT_ADDRESS]: address, [FORWARD_AUTHORIZATION]: signed.authorization!, [FORWARD_DATE]: signed['x-amz-date']! };
}

/**
 * The client address a forwarded request's attestation proves, or undefined when it has none or it does not verify
 * as `accountId`'s root (then the request's aws:SourceIp is its peer's address, as for any request).
 */
export async function attestedClientAddress(verifier: SigV4Verifier, accountId: string, headers: IncomingHttpHeaders): Promise<string | undefined> {
  const address = headers[CLIENT_ADDRESS];
  const authorization = headers[FORWARD_AUTHORIZATION];
  const date = headers[FORWARD_DATE];
  if (typeof address !== 'string' || typeof authorization !== 'string' || typeof date !== 'string') return undefined;
  const signed = { host: ATTESTATION_HOST, ...attested(address, authorizationHash(headers)), authorization, 'x-amz-date': date };
  try {
    const { principal } = await verifier.verify({ method: 'POST', path: ATTESTATION_PATH, query: {}, headers: signed, body: new Uint8Array() });
    return principal.type === 'Root' && principal.accountId === accountId ? address : undefined;
  } catch {
    return undefined;
  }
}
