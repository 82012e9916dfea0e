import { createHmac } from 'node:crypto';

/**
 * The pieces of an AWS Signature Version 4 computation, built the way @smithy/signature-v4 (the AWS SDKs'
 * signer) builds them for a client, so that a server recomputing a signature agrees with every SDK:
 * `sigv4-canonical.test.ts` checks each against that signer. Written out here instead of calling the
 * signer per request because the signer clones the request, re-derives formats and hashes through
 * promise-returning wrappers: most of the cost of a cheap API call went there (see bench/api-throughput).
 */

/** `encodeURIComponent` plus the characters RFC 3986 reserves that it leaves alone, as SigV4 requires. */
export function escapeUri(value: string): string {
  const encoded = encodeURIComponent(value);
  return /[!'()*]/.test(encoded) ? encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) : encoded;
}

/**
 * The canonical URI of a still-encoded request path: `.`/`..`/empty segments removed, then encoded once
 * more (SigV4 double-encodes paths for every service but S3), with slashes kept.
 */
export function canonicalPath(rawPath: string): string {
  if (rawPath === '/') return '/';
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${rawPath.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && rawPath.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

/** The canonical query string of decoded parameters: encoded pairs sorted by key, then by pair; no X-Amz-Signature. */
export function canonicalQuery(query: Readonly<Record<string, string | readonly string[]>>): string {
  const keys: string[] = [];
  const pairs = new Map<string, string>();
  for (const key in query) {
    if (!Object.hasOwn(query, key) || key.toLowerCase() === 'x-amz-signature') continue;
    const encodedKey = escapeUri(key);
    const value = query[key]!;
    keys.push(encodedKey);
    pairs.set(
      encodedKey,
      typeof value === 'string'
        ? `${encodedKey}=${escapeUri(value)}`
        : value
            .map((v) => `${encodedKey}=${escapeUri(v)}`)
            .sort()
            .join('&'),
    );
  }
  if (keys.length === 0) return '';
  return keys
    .sort()
    .map((k) => pairs.get(k)!)
    .filter((pair) => pair !== '')
    .join('&');
}

const NEEDS_TRIM = /[\r\n\t]| {2}|^ | $/;

/** A header value in canonical form: line breaks become spaces, runs of blanks one space, ends trimmed. */
export function canonicalHeaderValue(value: string): string {
  if (!NEEDS_TRIM.test(value)) return value;
  return value.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
}

/** What a canonical request is made of; header names are lower-case and `headers` holds the signed ones only. */
export interface CanonicalParts {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string | readonly string[]>>;
  /** Signed header names, sorted, with their values as received. */
  readonly headers: readonly (readonly [name: string, value: string])[];
  readonly payloadHash: string;
}

/** The canonical request of SigV4 ("Create a canonical request" in the AWS IAM guide). */
export function canonicalRequest(parts: CanonicalParts): string {
  let headerLines = '';
  let names = '';
  for (const [name, value] of parts.headers) {
    headerLines += `${name}:${canonicalHeaderValue(value)}\n`;
    names += names === '' ? name : `;${name}`;
  }
  return `${parts.method}\n${canonicalPath(parts.path)}\n${canonicalQuery(parts.query)}\n${headerLines}\n${names}\n${parts.payloadHash}`;
}

/** The string to sign for a canonical request already hashed (hex SHA-256). */
export function stringToSign(amzDate: string, scope: string, canonicalRequestHash: string): string {
  return `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${canonicalRequestHash}`;
}

/** The signing key for a secret and a credential scope (`date/region/service/aws4_request`), uncached. */
export function deriveSigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  let key = createHmac('sha256', `AWS4${secretAccessKey}`).update(date).digest();
  for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return key;
}

/**
 * Derived signing keys, one per access key, secret, date, region and service: four HMACs saved per request,
 * as AWS's own guide recommends. A key pair whose secret changes gets a new entry; the cache empties itself
 * when it reaches `limit` entries (a key lives one day at most, so few are ever live).
 */
export class SigningKeyCache {
  private readonly keys = new Map<string, { readonly secret: string; readonly key: Buffer }>();

  constructor(private readonly limit = 1_000) {}

  get(accessKeyId: string, secretAccessKey: string, date: string, region: string, service: string): Buffer {
    const id = `${accessKeyId}/${date}/${region}/${service}`;
    const cached = this.keys.get(id);
    if (cached?.secret === secretAccessKey) return cached.key;
    if (this.keys.size >= this.limit) this.keys.clear();
    const key = deriveSigningKey(secretAccessKey, date, region, service);
    this.keys.set(id, { secret: secretAccessKey, key });
    return key;
  }

  /** How many keys are held (tests check that repeated requests derive once). */
  get size(): number {
    return this.keys.size;
  }
}
