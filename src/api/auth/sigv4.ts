import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ServiceError } from '../../model/errors.js';
import type { CredentialStore, Principal } from './credentials.js';
import { canonicalRequest, SigningKeyCache, stringToSign } from '../../process/sigv4-canonical.js';

/** What the verifier needs of an HTTP request; the path is the raw, still-encoded path as sent. */
export interface SignedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string | readonly string[]>>;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: Uint8Array;
}

export interface Authenticated {
  readonly principal: Principal;
  readonly accessKeyId: string;
  /** The service name in the credential scope (`ecs`, `ecr`, …). */
  readonly signingService: string;
}

export interface SigV4VerifierOptions {
  readonly credentials: CredentialStore;
  /** The region requests must be scoped to. */
  readonly region: string;
  /** Service names accepted in the credential scope. */
  readonly services: ReadonlySet<string>;
  /**
   * Regions a service's scope may name besides `region`: IAM and STS are global services, which the CLI and SDKs
   * sign with us-east-1 whatever region they are configured with.
   */
  readonly globalRegions?: ReadonlyMap<string, readonly string[]>;
  /** Allowed distance between X-Amz-Date and the server clock. Default 5 minutes, as AWS. */
  readonly maxSkewMs?: number;
  readonly now?: () => number;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request\s*,\s*SignedHeaders=([a-z0-9;\-_.]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;
const AMZ_DATE = /^\d{8}T\d{6}Z$/;

const deny = (type: 'IncompleteSignatureException' | 'InvalidSignatureException', message: string) =>
  new ServiceError(type, message);

/**
 * Verifies AWS Signature Version 4 (Authorization-header form) by recomputing the signature — canonical
 * forms as @smithy/signature-v4, the AWS SDKs' signer, builds them (sigv4-canonical.ts), signing keys
 * derived once per key pair and scope — and comparing in constant time.
 */
export class SigV4Verifier {
  private readonly keys = new SigningKeyCache();
  private readonly maxSkewMs: number;
  private readonly now: () => number;

  constructor(private readonly options: SigV4VerifierOptions) {
    this.maxSkewMs = options.maxSkewMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  async verify(request: SignedRequest): Promise<Authenticated> {
    const authorization = header(request.headers, 'authorization');
    if (authorization === undefined) {
      throw new ServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    if (!authorization.startsWith(ALGORITHM)) {
      throw deny('IncompleteSignatureException', `Unsupported authorization type; only ${ALGORITHM} is accepted.`);
    }
    const match = AUTH_PATTERN.exec(authorization);
    if (!match) {
      throw deny(
        'IncompleteSignatureException',
        "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters in AWS4-HMAC-SHA256 form.",
      );
    }
    const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = match as unknown as string[];
    const signedHeaders = signedHeaderList!.split(';');

    const amzDate = header(request.headers, 'x-amz-date');
    const parsedDate = amzDate === undefined ? undefined : parseAmzDate(amzDate);
    if (amzDate === undefined || parsedDate === undefined) {
      throw deny('IncompleteSignatureException', "Authorization requires a valid 'X-Amz-Date' header (yyyyMMddTHHmmssZ).");
    }
    if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) {
      throw deny('IncompleteSignatureException', "SignedHeaders must include 'host' and 'x-amz-date'.");
    }
    for (const name of signedHeaders) {
      if (header(request.headers, name) === undefined) {
        throw deny('IncompleteSignatureException', `Signed header '${name}' is missing from the request.`);
      }
    }
    this.checkClock(amzDate, parsedDate);
    if (scopeDate !== amzDate.slice(0, 8)) {
      throw deny('InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}'.`);
    }
    if (region !== this.options.region && !this.options.globalRegions?.get(service!)?.includes(region!)) {
      throw deny('InvalidSignatureException', `Credential should be scoped to a valid region, not '${region}'. This server's region is '${this.options.region}'.`);
    }
    if (!this.options.services.has(service!)) {
      throw deny('InvalidSignatureException', `Credential should be scoped to correct service, not '${service}'.`);
    }

    const credential = await this.options.credentials.lookup(accessKeyId!, header(request.headers, 'x-amz-security-token'));
    if (!credential) {
      throw new ServiceError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (credential.sessionToken !== undefined && header(request.headers, 'x-amz-security-token') !== credential.sessionToken) {
      throw new ServiceError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }

    // crypto.hash: one call, no Hash object (a third of the hashing cost for bodies this small).
    const payloadHash = hash('sha256', request.body, 'hex');
    const declaredHash = header(request.headers, 'x-amz-content-sha256');
    if (declaredHash !== undefined && declaredHash !== payloadHash) {
      throw deny('InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match the request body.');
    }
    // Temporary credentials are only good with their token under the signature, as the SDKs send them.
    if (credential.sessionToken !== undefined && !signedHeaders.includes('x-amz-security-token')) {
      throw deny('InvalidSignatureException', "Temporary credentials require 'x-amz-security-token' among the signed headers.");
    }

    const names = [...signedHeaders].sort();
    if (names.some((name, i) => name === names[i - 1])) {
      throw deny('IncompleteSignatureException', 'SignedHeaders lists a header twice.');
    }
    const headers = names.map((name) => [name, header(request.headers, name)!] as const);
    let canonical: string;
    try {
      canonical = canonicalRequest({ method: request.method, path: request.path, query: request.query, headers, payloadHash });
    } catch {
      // encodeURIComponent refuses lone surrogates; such a request cannot carry a valid signature.
      throw deny('IncompleteSignatureException', 'The request path or query cannot be canonicalised.');
    }
    const scope = `${scopeDate}/${region}/${service}/aws4_request`;
    const key = this.keys.get(credential.accessKeyId, credential.secretAccessKey, scopeDate!, region!, service!);
    const expected = createHmac('sha256', key)
      .update(stringToSign(amzDate, scope, hash('sha256', canonical, 'hex')))
      .digest();
    if (!timingSafeEqual(expected, Buffer.from(signature!, 'hex'))) {
      throw deny(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    }
    return { principal: credential.principal, accessKeyId: credential.accessKeyId, signingService: service! };
  }

  private checkClock(amzDate: string, date: number): void {
    const now = this.now();
    const skewMinutes = this.maxSkewMs / 60_000;
    if (date < now - this.maxSkewMs) {
      throw deny(
        'InvalidSignatureException',
        `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - this.maxSkewMs)} (${formatAmzDate(now)} - ${skewMinutes} min.)`,
      );
    }
    if (date > now + this.maxSkewMs) {
      throw deny(
        'InvalidSignatureException',
        `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + this.maxSkewMs)} (${formatAmzDate(now)} + ${skewMinutes} min.)`,
      );
    }
  }
}

/**
 * A header's value. `name` comes from the client's SignedHeaders list, and Node's headers object is a plain
 * object: only its own properties are headers (`constructor` or `__proto__` would otherwise find Object's members).
 */
function header(headers: SignedRequest['headers'], name: string): string | undefined {
  if (!Object.hasOwn(headers, name)) return undefined;
  const value = headers[name];
  if (typeof value === 'string') return value;
  return Array.isArray(value) ? value.join(',') : undefined;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Epoch milliseconds of an X-Amz-Date, or undefined unless it is a real instant written as yyyyMMddTHHmmssZ. */
function parseAmzDate(value: string): number | undefined {
  if (!AMZ_DATE.test(value)) return undefined;
  const digits = (from: number, to: number) => Number(value.slice(from, to));
  const [y, mo, d, h, mi, s] = [digits(0, 4), digits(4, 6), digits(6, 8), digits(9, 11), digits(11, 13), digits(13, 15)];
  // Date.UTC would roll 30 February over into March and 24:00 into the next day; no signer writes those.
  const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo - 1]! + (leap ? 1 : 0) || h > 23 || mi > 59 || s > 59) return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** A WebSocket upgrade request (a GET, no body) as the verifier reads it; `url` is its parsed `req.url`. */
export function upgradeRequest(req: IncomingMessage, url: URL): SignedRequest {
  return {
    method: req.method ?? 'GET',
    path: (req.url ?? '/').split('?')[0]!,
    query: Object.fromEntries(url.searchParams),
    headers: req.headers,
    body: new Uint8Array(),
  };
}
