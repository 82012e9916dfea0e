/**
 * EventBridge event patterns, parsed and validated (pure). A pattern is a JSON object whose leaves are arrays of
 * match values: exact values (string, number, true, false, null), or one-key objects naming a filter — prefix,
 * suffix, equals-ignore-case, wildcard, anything-but (values, prefix, suffix, equals-ignore-case, wildcard), numeric,
 * exists, cidr. `$or` (an array of at least two objects) may stand beside fields at any level. A bad pattern throws
 * {@link PatternError} with the reason EventBridge's InvalidEventPatternException gives after "Reason: ".
 */
import { isIPv4, isIPv6 } from 'node:net';

export type Exact = string | number | boolean | null;

export type Matcher =
  | { readonly kind: 'exact'; readonly value: Exact }
  | { readonly kind: 'prefix' | 'suffix'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: 'equals-ignore-case'; readonly value: string }
  | { readonly kind: 'wildcard'; readonly regex: RegExp }
  | { readonly kind: 'anything-but'; readonly values: readonly (string | number)[] }
  | { readonly kind: 'anything-but-prefix' | 'anything-but-suffix'; readonly value: string }
  | { readonly kind: 'anything-but-ignore-case'; readonly values: readonly string[] }
  | { readonly kind: 'anything-but-wildcard'; readonly regexes: readonly RegExp[] }
  | { readonly kind: 'numeric'; readonly conditions: readonly NumericCondition[] }
  | { readonly kind: 'exists'; readonly present: boolean }
  | { readonly kind: 'cidr'; readonly family: 4 | 6; readonly network: bigint; readonly bits: number };

export type NumericOperator = '=' | '<' | '<=' | '>' | '>=';
export interface NumericCondition {
  readonly op: NumericOperator;
  readonly value: number;
}

/** A leaf: the field matches when any of its matchers does. */
export interface Leaf {
  readonly kind: 'leaf';
  readonly matchers: readonly Matcher[];
}

/** An object level: every field's rule holds, and for each `$or` one of its alternatives does. */
export interface Node {
  readonly kind: 'node';
  readonly fields: ReadonlyArray<readonly [string, Leaf | Node]>;
  readonly ors: ReadonlyArray<readonly Node[]>;
}

export class PatternError extends Error {
  override readonly name = 'PatternError';
}

/** The wire message of InvalidEventPatternException for a reason. */
export const invalidPatternMessage = (reason: string) => `Event pattern is not valid. Reason: ${reason}`;

/** Parses a pattern's JSON text (PutRule's EventPattern, TestEventPattern's EventPattern). */
export function parsePattern(text: string): Node {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PatternError(`Invalid JSON: ${(error as Error).message}`);
  }
  if (!isObject(json)) throw new PatternError('Filter is not an object');
  return node(json);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function node(json: Record<string, unknown>): Node {
  const entries = Object.entries(json);
  if (entries.length === 0) throw new PatternError('Empty objects are not allowed');
  const fields: [string, Leaf | Node][] = [];
  const ors: Node[][] = [];
  for (const [name, value] of entries) {
    if (name === '$or') {
      ors.push(orAlternatives(value));
    } else if (Array.isArray(value)) {
      fields.push([name, leaf(name, value)]);
    } else if (isObject(value)) {
      fields.push([name, node(value)]);
    } else {
      throw new PatternError(`"${name}" must be an object or an array`);
    }
  }
  return { kind: 'node', fields, ors };
}

function orAlternatives(value: unknown): Node[] {
  if (!Array.isArray(value)) throw new PatternError('"$or" must be an array');
  if (value.length < 2) throw new PatternError('"$or" must have at least 2 items');
  return value.map((alt) => {
    if (!isObject(alt)) throw new PatternError('"$or" items must be objects');
    return node(alt);
  });
}

function leaf(name: string, values: unknown[]): Leaf {
  if (values.length === 0) throw new PatternError(`Empty arrays are not allowed: "${name}"`);
  return { kind: 'leaf', matchers: values.map(matcher) };
}

function matcher(value: unknown): Matcher {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return { kind: 'exact', value };
  if (typeof value === 'number') return { kind: 'exact', value };
  if (!isObject(value)) throw new PatternError('Match value must be String, number, true, false, or null');
  const keys = Object.keys(value);
  if (keys.length !== 1) throw new PatternError(keys.length === 0 ? 'Empty objects are not allowed' : `Only one key allowed in match expression: ${keys.join(', ')}`);
  const key = keys[0]!;
  const arg = value[key];
  switch (key) {
    case 'prefix':
    case 'suffix':
      return affix(key, arg);
    case 'equals-ignore-case':
      return { kind: 'equals-ignore-case', value: stringArg(key, arg) };
    case 'wildcard':
      return { kind: 'wildcard', regex: wildcardRegex(stringArg(key, arg)) };
    case 'anything-but':
      return anythingBut(arg);
    case 'numeric':
      return { kind: 'numeric', conditions: numeric(arg) };
    case 'exists':
      if (typeof arg !== 'boolean') throw new PatternError('exists match pattern must be either true or false.');
      return { kind: 'exists', present: arg };
    case 'cidr':
      return cidr(arg);
    default:
      throw new PatternError(`Unrecognized match type ${key}`);
  }
}

function stringArg(key: string, arg: unknown): string {
  if (typeof arg !== 'string') throw new PatternError(`${key} match pattern must be a string`);
  return arg;
}

/** `{"prefix": "x"}` or `{"prefix": {"equals-ignore-case": "x"}}` (likewise suffix). */
function affix(key: 'prefix' | 'suffix', arg: unknown): Matcher {
  if (isObject(arg)) {
    const keys = Object.keys(arg);
    if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') throw new PatternError(`Unsupported ${key} pattern: ${JSON.stringify(arg)}`);
    return { kind: key, value: stringArg(`${key} equals-ignore-case`, arg['equals-ignore-case']), ignoreCase: true };
  }
  return { kind: key, value: stringArg(key, arg), ignoreCase: false };
}

function anythingBut(arg: unknown): Matcher {
  const message = 'Value of anything-but must be an array or single string/number value.';
  if (typeof arg === 'string' || typeof arg === 'number') return { kind: 'anything-but', values: [arg] };
  if (Array.isArray(arg)) {
    if (arg.length === 0) throw new PatternError('Empty arrays are not allowed: "anything-but"');
    for (const v of arg) {
      if (typeof v !== 'string' && typeof v !== 'number') throw new PatternError(`Inside anything-but list, ${v === null ? 'null' : typeof v} is not supported.`);
    }
    return { kind: 'anything-but', values: arg as (string | number)[] };
  }
  if (!isObject(arg)) throw new PatternError(message);
  const keys = Object.keys(arg);
  if (keys.length !== 1) throw new PatternError(`Unsupported anything-but pattern: ${JSON.stringify(arg)}`);
  const key = keys[0]!;
  const inner = arg[key];
  switch (key) {
    case 'prefix':
      return { kind: 'anything-but-prefix', value: nonEmpty('prefix', stringArg('prefix', inner)) };
    case 'suffix':
      return { kind: 'anything-but-suffix', value: nonEmpty('suffix', stringArg('suffix', inner)) };
    case 'equals-ignore-case':
      return { kind: 'anything-but-ignore-case', values: stringOrStrings(key, inner) };
    case 'wildcard':
      return { kind: 'anything-but-wildcard', regexes: stringOrStrings(key, inner).map(wildcardRegex) };
    default:
      throw new PatternError(`Unsupported anything-but pattern: ${key}`);
  }
}

function nonEmpty(key: string, s: string): string {
  if (s === '') throw new PatternError(`Null ${key} not allowed for anything-but`);
  return s;
}

function stringOrStrings(key: string, arg: unknown): string[] {
  if (typeof arg === 'string') return [arg];
  if (Array.isArray(arg) && arg.length > 0 && arg.every((v) => typeof v === 'string')) return arg as string[];
  throw new PatternError(`Value of anything-but ${key} must be a string or a non-empty array of strings`);
}

const OPERATORS: readonly NumericOperator[] = ['=', '<', '<=', '>', '>='];

/** `[op, n]`, or a lower bound (`>`/`>=`) followed by an upper bound (`<`/`<=`). */
function numeric(arg: unknown): NumericCondition[] {
  if (!Array.isArray(arg)) throw new PatternError('Value of numeric must be an array.');
  if (arg.length !== 2 && arg.length !== 4) throw new PatternError('Invalid numeric match: give an operator and a number, or a lower and an upper bound');
  const conditions: NumericCondition[] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const value = arg[i + 1];
    if (typeof op !== 'string' || !OPERATORS.includes(op as NumericOperator)) throw new PatternError(`Unrecognized numeric range operator: ${JSON.stringify(op)}`);
    if (typeof value !== 'number') throw new PatternError(`Value of ${op} must be numeric`);
    conditions.push({ op: op as NumericOperator, value });
  }
  if (conditions.length === 2) {
    const [lower, upper] = conditions as [NumericCondition, NumericCondition];
    if (!(lower.op === '>' || lower.op === '>=') || !(upper.op === '<' || upper.op === '<=')) {
      throw new PatternError('Bad numeric range: the first condition must be > or >= and the second < or <=');
    }
    if (!(upper.value > lower.value)) throw new PatternError('Bad numeric range: Top of range must be greater than bottom');
  }
  return conditions;
}

/**
 * A wildcard as a regular expression: `*` any run of characters, `\*` a literal star, `\\` a backslash. Two `*`
 * together are refused, as EventBridge refuses them.
 */
export function wildcardRegex(text: string): RegExp {
  let source = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\') {
      const next = text[i + 1];
      if (next !== '*' && next !== '\\') throw new PatternError(`Invalid escape character at pos ${i}`);
      source += `\\${next}`;
      i++;
    } else if (ch === '*') {
      if (text[i + 1] === '*') throw new PatternError(`Consecutive wildcard characters at pos ${i + 1}`);
      source += '[\\s\\S]*';
    } else {
      source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 'u');
}

function cidr(arg: unknown): Matcher {
  if (typeof arg !== 'string') throw new PatternError('cidr match pattern must be a string');
  const parts = arg.split('/');
  if (parts.length !== 2) throw new PatternError(`Malformed CIDR, one '/' required: ${arg}`);
  const [ip, bitsText] = parts as [string, string];
  const family = isIPv4(ip) ? 4 : isIPv6(ip) ? 6 : undefined;
  if (family === undefined) throw new PatternError(`Nonstandard IP address: ${ip}`);
  const width = family === 4 ? 32 : 128;
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!(bits >= 0 && bits <= width)) throw new PatternError(`Malformed CIDR, mask bits must be between 0 and ${width}: ${arg}`);
  const network = (ipBits(ip, family) >> BigInt(width - bits)) << BigInt(width - bits);
  return { kind: 'cidr', family, network, bits };
}

/** An address as an unsigned integer of 32 (IPv4) or 128 (IPv6) bits. */
export function ipBits(ip: string, family: 4 | 6): bigint {
  if (family === 4) return ip.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  let text = ip;
  // An IPv4 tail (::ffff:1.2.3.4) as two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipBits(v4[1]!, 4);
    text = `${text.slice(0, -v4[1]!.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}
