import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { ServiceError } from '../../model/errors.js';
import type { CredentialStore, Principal } from './credentials.js';

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
  /** Allowed distance between X-Amz-Date and the server clock. Default 5 minutes, as AWS. */
  readonly maxSkewMs?: number;
  readonly now?: () => number;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request\s*,\s*SignedHeaders=([a-z0-9;\-_.]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const deny = (type: 'IncompleteSignatureException' | 'InvalidSignatureException', message: string) =>
  new ServiceError(type, message);

/**
 * Verifies AWS Signature Version 4 (Authorization-header form) by recomputing the signature with
 * @smithy/signature-v4 — the canonicaliser the AWS SDKs themselves use — and comparing in constant time.
 */
export class SigV4Verifier {
  private readonly signers = new Map<string, SignatureV4>();
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
    if (region !== this.options.region) {
      throw deny('InvalidSignatureException', `Credential should be scoped to a valid region, not '${region}'. This server's region is '${this.options.region}'.`);
    }
    if (!this.options.services.has(service!)) {
      throw deny('InvalidSignatureException', `Credential should be scoped to correct service, not '${service}'.`);
    }

    const credential = await this.options.credentials.lookup(accessKeyId!);
    if (!credential) {
      throw new ServiceError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (credential.sessionToken !== undefined && header(request.headers, 'x-amz-security-token') !== credential.sessionToken) {
      throw new ServiceError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }

    const declaredHash = header(request.headers, 'x-amz-content-sha256');
    if (declaredHash !== undefined && declaredHash !== createHash('sha256').update(request.body).digest('hex')) {
      throw deny('InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match the request body.');
    }

    const headers: Record<string, string> = {};
    for (const name of signedHeaders) headers[name] = header(request.headers, name)!;
    const signed = await this.signer(credential.accessKeyId, credential.secretAccessKey, credential.sessionToken).sign(
      new HttpRequest({
        method: request.method,
        protocol: 'http:',
        hostname: headers.host ?? '',
        path: request.path,
        query: request.query as Record<string, string | string[]>,
        headers,
        body: request.body,
      }),
      { signingDate: parsedDate, signingRegion: region, signingService: service, signableHeaders: new Set(signedHeaders) },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization ?? '')?.[1] ?? '';
    if (!timingSafeEqual(Buffer.from(expected.padEnd(64, '0')), Buffer.from(signature!))) {
      throw deny(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    }
    return { principal: credential.principal, accessKeyId: credential.accessKeyId, signingService: service! };
  }

  private checkClock(amzDate: string, date: Date): void {
    const now = this.now();
    const skewMinutes = this.maxSkewMs / 60_000;
    if (date.getTime() < now - this.maxSkewMs) {
      throw deny(
        'InvalidSignatureException',
        `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - this.maxSkewMs)} (${formatAmzDate(now)} - ${skewMinutes} min.)`,
      );
    }
    if (date.getTime() > now + this.maxSkewMs) {
      throw deny(
        'InvalidSignatureException',
        `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + this.maxSkewMs)} (${formatAmzDate(now)} + ${skewMinutes} min.)`,
      );
    }
  }

  /** One signer per key pair: SignatureV4 caches derived signing keys per instance. */
  private signer(accessKeyId: string, secretAccessKey: string, sessionToken?: string): SignatureV4 {
    const cacheKey = `${accessKeyId}\0${secretAccessKey}\0${sessionToken ?? ''}`;
    let signer = this.signers.get(cacheKey);
    if (!signer) {
      if (this.signers.size >= 1_000) this.signers.clear();
      signer = new SignatureV4({
        credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
        region: this.options.region,
        service: 'ecs',
        sha256: Hash.bind(null, 'sha256'),
        uriEscapePath: true,
        // Only sign x-amz-content-sha256 when the client did (it is then among the signed headers).
        applyChecksum: false,
      });
      this.signers.set(cacheKey, signer);
    }
    return signer;
  }
}

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
