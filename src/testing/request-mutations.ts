import fc from 'fast-check';

/**
 * Ways to spoil a well-formed request, as data (so that fast-check prints a failing case readably and shrinks
 * it): mutations of the JSON input (wrong types, missing and extra members, odd and huge strings, nulls,
 * numbers out of every range), bodies that are not JSON or not UTF-8, and garbled SigV4 authentication.
 * Each is applied by a pure function; the API fuzz test sends the result.
 */

/** Strings that have broken servers before: prototype member names, separators, control and non-BMP characters. */
export const ODD_STRINGS: readonly string[] = [
  '',
  ' ',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'prototype',
  '../../../../etc/passwd',
  'a/b/c',
  '/',
  ':',
  '*',
  '%00',
  '%',
  '\u0000',
  '\u0000\u0001\u001f',
  '\ud800',
  '\udfff',
  '😀'.repeat(10),
  '\u202e\u200b',
  'ǅ',
  'arn:',
  'arn:aws:ecs:us-east-1:123456789012:',
  'arn:aws:ecs:us-east-1:123456789012:cluster/',
  'arn:aws:ecs:us-east-1:123456789012:constructor/x',
  'arn:aws:ecs:us-east-1:123456789012:task-definition/x:99999999999999999999',
  'arn:aws:ecr:us-east-1:123456789012:repository/__proto__',
  'arn:aws:logs:us-east-1:123456789012:log-group:constructor',
  'x:-1',
  'x:0',
  'x:1.5',
  'x:1e400',
  '-1',
  'NaN',
  'Infinity',
  'null',
  'true',
  '{}',
  '[]',
  '${jndi:ldap://x}',
  '<script>',
  "'; DROP TABLE kv; --",
  'sha256:' + '0'.repeat(64),
  'sha256:constructor',
  'constructor:' + 'a'.repeat(64),
  'a'.repeat(256),
  'a'.repeat(70_000),
];

/** Numbers outside what any member allows. */
export const ODD_NUMBERS: readonly number[] = [-1, 0, -0, 1.5, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, -(2 ** 63), 1e21, 1e308, -1e308, 5e-324];

/** A mutation of the input value. `at` picks a node (modulo their number, in document order). */
export type InputMutation =
  | { readonly kind: 'replace'; readonly at: number; readonly with: unknown }
  | { readonly kind: 'drop-member'; readonly at: number }
  | { readonly kind: 'extra-members'; readonly at: number; readonly members: Readonly<Record<string, unknown>> }
  | { readonly kind: 'body'; readonly body: RawBody };

/** A body that is not the serialisation of a JSON object. */
export type RawBody = { readonly text: string } | { readonly bytes: readonly number[] } | { readonly truncateAt: number } | { readonly nested: number };

const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...ODD_STRINGS),
  fc.constantFrom(...ODD_NUMBERS),
  fc.constantFrom(null, true, false, [], {}, [null], [[]], [{}], Object.fromEntries([['__proto__', { a: 1 }]])),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant('x'.repeat(300_000)),
);

const extraMembers: fc.Arbitrary<Record<string, unknown>> = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'prototype', ''), fc.string({ maxLength: 10 })), oddValue), { minLength: 1, maxLength: 3 })
  .map((entries) => Object.fromEntries(entries));

const rawBody: fc.Arbitrary<RawBody> = fc.oneof(
  fc.constantFrom(
    { text: '' },
    { text: '{' },
    { text: '}' },
    { text: '{"a":}' },
    { text: '{"a":1,}' },
    { text: 'null' },
    { text: '[]' },
    { text: '"x"' },
    { text: '1' },
    { text: '1e999' },
    { text: 'true' },
    { text: '\ufeff{}' },
    { text: '{"__proto__":{"polluted":1}}' },
    { text: '{"constructor":{"prototype":{"polluted":1}}}' },
    { text: '{}{}' },
    { text: '{"a":"\\ud800"}' },
    { text: '{"a":"\\u0000"}' },
    { bytes: [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d] },
    { bytes: [0xef, 0xbb, 0xbf, 0x7b, 0x7d] },
    { bytes: [0x7b, 0x7d, 0x00] },
  ),
  fc.string({ maxLength: 30 }).map((text) => ({ text })),
  fc.nat().map((truncateAt) => ({ truncateAt })),
  fc.constantFrom(100, 5_000, 100_000).map((nested) => ({ nested })),
);

export const inputMutation: fc.Arbitrary<InputMutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), with: oddValue }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('drop-member' as const), at: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('extra-members' as const), at: fc.nat(), members: extraMembers }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('body' as const), body: rawBody }), weight: 2 },
);

/** Apply mutations to a (cloned) input in turn; the result is the request body. */
export function mutateInput(input: unknown, mutations: readonly InputMutation[]): string | Buffer {
  let value = structuredClone(input);
  for (const m of mutations) {
    if (m.kind === 'body') return rawBodyOf(m.body, value);
    value = applyToValue(value, m);
  }
  return JSON.stringify(value) ?? 'null';
}

function rawBodyOf(body: RawBody, value: unknown): string | Buffer {
  if ('text' in body) return body.text;
  if ('bytes' in body) return Buffer.from(body.bytes);
  if ('nested' in body) return '['.repeat(body.nested) + ']'.repeat(body.nested);
  const text = JSON.stringify(value) ?? '';
  return text.slice(0, text.length === 0 ? 0 : body.truncateAt % text.length);
}

interface Node {
  readonly value: unknown;
  readonly set: (v: unknown) => void;
}

/** Every value in document order, with a way to replace each (the root's replaces `holder.value`). */
function nodes(holder: { value: unknown }): Node[] {
  const out: Node[] = [];
  const walk = (value: unknown, set: (v: unknown) => void) => {
    out.push({ value, set });
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, (n) => (value[i] = n)));
    else if (isObject(value)) for (const k of Object.keys(value)) walk(value[k], (n) => defineMember(value, k, n));
  };
  walk(holder.value, (v) => (holder.value = v));
  return out;
}

/** Set a member by definition: `__proto__` must become a member, not the object's prototype. */
function defineMember(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function applyToValue(value: unknown, m: Exclude<InputMutation, { kind: 'body' }>): unknown {
  const holder = { value };
  const all = nodes(holder);
  const objects = all.map((n) => n.value).filter(isObject);
  switch (m.kind) {
    case 'replace':
      all[m.at % all.length]!.set(structuredClone(m.with));
      break;
    case 'drop-member': {
      const withKeys = objects.filter((o) => Object.keys(o).length > 0);
      if (withKeys.length === 0) break;
      const target = withKeys[m.at % withKeys.length]!;
      const keys = Object.keys(target);
      delete target[keys[Math.floor(m.at / withKeys.length) % keys.length]!];
      break;
    }
    case 'extra-members': {
      if (objects.length === 0) break;
      const target = objects[m.at % objects.length]!;
      for (const [k, v] of Object.entries(m.members)) defineMember(target, k, structuredClone(v));
      break;
    }
  }
  return holder.value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A change to a signed request's headers (lower-case names) that should make authentication fail, never the server. */
export type AuthMutation =
  | { readonly kind: 'drop'; readonly header: 'authorization' | 'x-amz-date' }
  | { readonly kind: 'set'; readonly header: string; readonly value: string }
  /** SignedHeaders with `names` added to those signed (past the check for host and x-amz-date), or instead of them. */
  | { readonly kind: 'signed-headers'; readonly names: readonly string[]; readonly keep: boolean }
  | { readonly kind: 'credential'; readonly credential: string }
  | { readonly kind: 'signature'; readonly signature: string };

/** Header values an HTTP client will send: printable ASCII and tabs (control characters never leave the client). */
const headerText = (maxLength: number) =>
  fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constant(0x09)).map((c) => String.fromCharCode(c)), maxLength });

export const authMutation: fc.Arbitrary<AuthMutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), header: fc.constantFrom('authorization' as const, 'x-amz-date' as const) }),
  fc.record({
    kind: fc.constant('set' as const),
    header: fc.constantFrom('authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'x-amz-target', 'content-type', 'constructor', '__proto__'),
    value: fc.oneof(
      headerText(40),
      fc.constantFrom('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA256 ', 'Basic Og==', 'Bearer x', '00000000T000000Z', '99991231T235959Z', '20260230T000000Z', 'x'.repeat(8_000), 'x'.repeat(20_000)),
    ),
  }),
  fc.record({
    kind: fc.constant('signed-headers' as const),
    names: fc.array(fc.oneof(fc.constantFrom('host', 'x-amz-date', 'constructor', '__proto__', 'x-amz-target', 'content-length', 'authorization', '', 'a.b-c_d'), fc.stringMatching(/^[a-z0-9._-]{1,12}$/)), { maxLength: 6 }),
    keep: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('credential' as const),
    credential: fc.oneof(
      headerText(60),
      fc.constantFrom('AKIA/20260101/us-east-1/ecs/aws4_request', '/////', 'constructor/20260101/us-east-1/ecs/aws4_request', `${'A'.repeat(4_000)}/20260101/us-east-1/ecs/aws4_request`),
    ),
  }),
  fc.record({ kind: fc.constant('signature' as const), signature: fc.oneof(fc.stringMatching(/^[0-9a-f]{0,70}$/), headerText(70)) }),
);

/** Apply an auth mutation to signed headers (lower-case names), in place. */
export function mutateAuth(headers: Record<string, string>, m: AuthMutation): void {
  const auth = headers.authorization ?? '';
  switch (m.kind) {
    case 'drop':
      delete headers[m.header];
      return;
    case 'set':
      defineMember(headers, m.header, m.value);
      return;
    case 'signed-headers':
      headers.authorization = auth.replace(/SignedHeaders=([^,]*)/, (_all, signed: string) => `SignedHeaders=${[...(m.keep ? [signed] : []), ...m.names].join(';')}`);
      return;
    case 'credential':
      headers.authorization = auth.replace(/Credential=[^,]*/, `Credential=${m.credential}`);
      return;
    case 'signature':
      headers.authorization = auth.replace(/Signature=.*$/, `Signature=${m.signature}`);
      return;
  }
}
