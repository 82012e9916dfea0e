/**
 * Signing a request with AWS Signature Version 4 (Authorization-header form), as a client: what the agent,
 * `berth lb` and `berth storage` sign their calls to the control plane with. Built from the same canonical
 * forms the server verifies with (sigv4-canonical.ts, checked there against the AWS SDK's signer), instead
 * of @smithy/signature-v4, whose module graph (@smithy/core's protocols, serde, endpoints, config, schema:
 * ~330 kB of source) cost every agent ~1.3 MiB of heap and ~4 MiB of resident memory for one HMAC chain.
 */
import { createHash, createHmac } from 'node:crypto';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { canonicalRequest, SigningKeyCache, stringToSign } from './sigv4-canonical.js';

export interface RequestToSign {
  readonly method: string;
  /** Host and port, as the Host header carries them. */
  readonly host: string;
  /** The path as sent, already encoded. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Headers to send and sign besides host and the x-amz-* ones added here. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface SignerOptions {
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly region: string;
  readonly service: string;
  /** Also send the payload's hash as `x-amz-content-sha256` (the SDK's signer does by default). */
  readonly contentSha256?: boolean;
  readonly now?: () => Date;
}

/** `20260304T050607Z` from a date. */
const amzDateOf = (date: Date) => date.toISOString().replace(/[-:]|\.\d{3}/g, '');

export class SigV4Signer {
  private readonly keys = new SigningKeyCache(16);

  constructor(private readonly o: SignerOptions) {}

  /** The headers to send: the request's own, with x-amz-date, x-amz-security-token, … and authorization. */
  async sign(request: RequestToSign): Promise<Record<string, string>> {
    const credentials = typeof this.o.credentials === 'function' ? await this.o.credentials() : this.o.credentials;
    const amzDate = amzDateOf((this.o.now ?? (() => new Date()))());
    const date = amzDate.slice(0, 8);
    const payloadHash = createHash('sha256')
      .update(request.body ?? '')
      .digest('hex');
    const sent: Record<string, string> = { ...request.headers, 'x-amz-date': amzDate };
    if (credentials.sessionToken) sent['x-amz-security-token'] = credentials.sessionToken;
    if (this.o.contentSha256) sent['x-amz-content-sha256'] = payloadHash;
    const headers = Object.entries({ ...sent, host: request.host })
      .map(([name, value]) => [name.toLowerCase(), value] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    const canonical = canonicalRequest({ method: request.method, path: request.path, query: request.query ?? {}, headers, payloadHash });
    const scope = `${date}/${this.o.region}/${this.o.service}/aws4_request`;
    const key = this.keys.get(credentials.accessKeyId, credentials.secretAccessKey, date, this.o.region, this.o.service);
    const signature = createHmac('sha256', key)
      .update(stringToSign(amzDate, scope, createHash('sha256').update(canonical).digest('hex')))
      .digest('hex');
    const signed = headers.map(([name]) => name).join(';');
    return { ...sent, authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}` };
  }
}
