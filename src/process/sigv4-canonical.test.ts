import { createHash, createHmac } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalHeaderValue,
  canonicalPath,
  canonicalQuery,
  canonicalRequest,
  deriveSigningKey,
  SigningKeyCache,
  stringToSign,
} from './sigv4-canonical.js';

const KEYS = { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'test-secret-key-0123456789abcdefghijklmn' };
const DATE = new Date('2026-03-04T05:06:07Z');

/** The signature @smithy/signature-v4 — what the AWS SDKs run — gives a request. */
async function smithySignature(request: {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: string;
}): Promise<string> {
  const signer = new SignatureV4({ credentials: KEYS, region: 'us-east-1', service: 'ecs', sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
  const signed = await signer.sign(new HttpRequest({ protocol: 'http:', hostname: 'h', ...request }), { signingDate: DATE });
  return /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization!)![1]!;
}

/** The same signature from this module's parts. */
function ourSignature(request: {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: string;
}): string {
  const amzDate = '20260304T050607Z';
  const headers = Object.entries({ ...request.headers, 'x-amz-date': amzDate })
    .map(([n, v]) => [n.toLowerCase(), v] as const)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const canonical = canonicalRequest({
    method: request.method,
    path: request.path,
    query: request.query,
    headers,
    payloadHash: createHash('sha256').update(request.body).digest('hex'),
  });
  const key = deriveSigningKey(KEYS.secretAccessKey, '20260304', 'us-east-1', 'ecs');
  return createHmac('sha256', key)
    .update(stringToSign(amzDate, '20260304/us-east-1/ecs/aws4_request', createHash('sha256').update(canonical).digest('hex')))
    .digest('hex');
}

// Characters that make canonicalisation interesting: reserved, percent signs, spaces, non-ASCII.
const text = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', '.', '~', ' ', '!', "'", '(', '*', '%', '+', '=', '&', '/', ':', 'é', '€', '😀'), maxLength: 8 });
const segment = fc.oneof(text.map(encodeURIComponent), fc.constantFrom('.', '..', '', '%2F', 'a%20b'));
const headerName = fc.stringMatching(/^x-[a-z0-9-]{1,10}$/);
const headerValue = fc.string({ unit: fc.constantFrom('a', ' ', '\t', 'b', ',', '=', '"'), maxLength: 10 }).map((v) => `v${v}v`);

describe('SigV4 canonical forms', () => {
  it('give the signature the AWS SDK signer gives, for any path, query, headers and body', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT'),
        fc.array(segment, { maxLength: 5 }),
        fc.boolean(),
        fc.dictionary(text, fc.oneof(text, fc.array(text, { maxLength: 3 }))),
        fc.dictionary(headerName, headerValue, { maxKeys: 4 }),
        fc.string(),
        async (method, segments, trailingSlash, query, extraHeaders, body) => {
          const path = `/${segments.join('/')}${trailingSlash ? '/' : ''}`;
          const request = { method, path, query, headers: { host: 'h:1234', ...extraHeaders }, body };
          expect(ourSignature(request)).toBe(await smithySignature(request));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('normalise paths: dot segments and empty segments go, encoded bytes are encoded again', () => {
    expect(canonicalPath('/')).toBe('/');
    expect(canonicalPath('/a/./b/../c/')).toBe('/a/c/');
    expect(canonicalPath('//a//b')).toBe('/a/b');
    expect(canonicalPath('/a%20b/c%2Fd')).toBe('/a%2520b/c%252Fd');
  });

  it('sort query pairs by encoded key and value, and leave out X-Amz-Signature', () => {
    expect(canonicalQuery({})).toBe('');
    expect(canonicalQuery({ b: '2', a: ['z', 'y'], 'X-Amz-Signature': 'x', 'c d': "it's" })).toBe('a=y&a=z&b=2&c%20d=it%27s');
  });

  it('collapse blanks in header values and trim their ends', () => {
    expect(canonicalHeaderValue('plain')).toBe('plain');
    expect(canonicalHeaderValue(' a \t b\r\nc  ')).toBe('a b c');
  });
});

describe('SigningKeyCache', () => {
  it('derives a key once per key pair and scope, and again when the secret changes', () => {
    const cache = new SigningKeyCache();
    const first = cache.get('AKIA1', 's1', '20260304', 'us-east-1', 'ecs');
    expect(cache.get('AKIA1', 's1', '20260304', 'us-east-1', 'ecs')).toBe(first);
    expect(first).toEqual(deriveSigningKey('s1', '20260304', 'us-east-1', 'ecs'));
    expect(cache.size).toBe(1);
    expect(cache.get('AKIA1', 's1', '20260305', 'us-east-1', 'ecs')).not.toEqual(first);
    expect(cache.get('AKIA1', 's1', '20260304', 'us-east-1', 'ecr')).not.toEqual(first);
    const rotated = cache.get('AKIA1', 's2', '20260304', 'us-east-1', 'ecs');
    expect(rotated).toEqual(deriveSigningKey('s2', '20260304', 'us-east-1', 'ecs'));
    expect(cache.size).toBe(3);
  });

  it('empties itself at its limit instead of growing', () => {
    const cache = new SigningKeyCache(2);
    cache.get('A', 's', '20260301', 'r', 'ecs');
    cache.get('A', 's', '20260302', 'r', 'ecs');
    cache.get('A', 's', '20260303', 'r', 'ecs');
    expect(cache.size).toBe(1);
  });
});
