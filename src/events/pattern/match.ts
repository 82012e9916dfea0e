/**
 * Whether an event matches a parsed pattern (pure). The semantics EventBridge documents:
 * - a field's leaf values are its scalar value, or the scalars of its array (nested arrays flattened); an object
 *   has none, so only `exists: false` matches a field that is absent, an object, or an empty array;
 * - a leaf matches when any matcher matches any of its values; `null` and `""` are distinct values;
 * - a nested pattern on an array of objects matches when one element matches all of it (fields of one pattern
 *   level are matched within the same element, as EventBridge's array consistency does);
 * - anything-but matches a present string or number value outside its list (never null or a boolean);
 * - numeric matches numbers only; prefix, suffix, equals-ignore-case, wildcard and cidr strings only.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ipBits, type Exact, type Leaf, type Matcher, type Node } from './pattern.js';

export function matchesPattern(pattern: Node, event: unknown): boolean {
  return matchNode(pattern, event);
}

function matchNode(node: Node, value: unknown): boolean {
  if (Array.isArray(value)) {
    const elements = value.flat(Infinity) as unknown[];
    return elements.length === 0 ? matchObject(node, {}) : elements.some((e) => matchObject(node, e));
  }
  return matchObject(node, value);
}

function matchObject(node: Node, value: unknown): boolean {
  const object = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  for (const [name, rule] of node.fields) {
    const field = Object.hasOwn(object, name) ? object[name] : undefined;
    if (!(rule.kind === 'leaf' ? matchLeaf(rule, field) : matchNode(rule, field))) return false;
  }
  return node.ors.every((alternatives) => alternatives.some((alt) => matchObject(alt, object)));
}

/** The scalars a field holds (see the header). */
function leafValues(value: unknown): Exact[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return (value.flat(Infinity) as unknown[]).filter(isScalar);
  return isScalar(value) ? [value] : [];
}

function isScalar(v: unknown): v is Exact {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function matchLeaf(leaf: Leaf, field: unknown): boolean {
  const values = leafValues(field);
  return leaf.matchers.some((m) => (m.kind === 'exists' ? (values.length > 0) === m.present : values.some((v) => matchValue(m, v))));
}

function matchValue(m: Exclude<Matcher, { kind: 'exists' }>, v: Exact): boolean {
  switch (m.kind) {
    case 'exact':
      return v === m.value;
    case 'prefix':
      return typeof v === 'string' && (m.ignoreCase ? fold(v).startsWith(fold(m.value)) : v.startsWith(m.value));
    case 'suffix':
      return typeof v === 'string' && (m.ignoreCase ? fold(v).endsWith(fold(m.value)) : v.endsWith(m.value));
    case 'equals-ignore-case':
      return typeof v === 'string' && fold(v) === fold(m.value);
    case 'wildcard':
      return typeof v === 'string' && m.regex.test(v);
    case 'anything-but':
      return (typeof v === 'string' || typeof v === 'number') && !m.values.includes(v);
    case 'anything-but-prefix':
      return typeof v === 'string' && !v.startsWith(m.value);
    case 'anything-but-suffix':
      return typeof v === 'string' && !v.endsWith(m.value);
    case 'anything-but-ignore-case':
      return typeof v === 'string' && !m.values.some((x) => fold(x) === fold(v));
    case 'anything-but-wildcard':
      return typeof v === 'string' && !m.regexes.some((r) => r.test(v));
    case 'numeric':
      return typeof v === 'number' && m.conditions.every((c) => compare(v, c.op, c.value));
    case 'cidr':
      return typeof v === 'string' && inCidr(v, m);
  }
}

const fold = (s: string) => s.toLowerCase();

function compare(v: number, op: '=' | '<' | '<=' | '>' | '>=', n: number): boolean {
  switch (op) {
    case '=':
      return v === n;
    case '<':
      return v < n;
    case '<=':
      return v <= n;
    case '>':
      return v > n;
    case '>=':
      return v >= n;
  }
}

function inCidr(address: string, m: Extract<Matcher, { kind: 'cidr' }>): boolean {
  if (m.family === 4 ? !isIPv4(address) : !isIPv6(address)) return false;
  const width = m.family === 4 ? 32 : 128;
  return ipBits(address, m.family) >> BigInt(width - m.bits) === m.network >> BigInt(width - m.bits);
}
