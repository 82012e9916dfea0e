/**
 * The `Condition` element: operators, their `...IfExists` variants and the `ForAnyValue:`/`ForAllValues:` set
 * qualifiers, compiled once per policy and tested per request. The rules, from the IAM User Guide pages
 * "IAM JSON policy elements: Condition operators" and "Multivalued context keys":
 * - several values for one key are ORed; several keys, and several operators, are ANDed;
 * - a key absent from the request makes a condition false, except for the negated operators (`StringNotEquals`,
 *   `ArnNotLike`, `NotIpAddress`, ...) which are then true; `...IfExists` makes any absent key true; `Null`
 *   tests presence itself;
 * - `ForAnyValue:` is true when at least one request value satisfies the operator (false when the key is absent
 *   or empty); `ForAllValues:` when every request value does (true when absent or empty).
 */
import { blockContainsIp, parseIpBlock, type IpBlock } from './ip-address.js';
import { parseTemplate, type ContextLookup, type Template } from './policy-variables.js';

type Kind = 'string' | 'stringIgnoreCase' | 'stringLike' | 'arn' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'null';
type Compare = 'eq' | 'lt' | 'le' | 'gt' | 'ge';

interface OperatorSpec {
  readonly kind: Kind;
  readonly negated: boolean;
  readonly compare: Compare;
}

const spec = (kind: Kind, negated = false, compare: Compare = 'eq'): OperatorSpec => ({ kind, negated, compare });

/** Every base operator IAM documents (`BinaryEquals` included: it compares the base64 text). */
export const CONDITION_OPERATORS: ReadonlyMap<string, OperatorSpec> = new Map([
  ['StringEquals', spec('string')],
  ['StringNotEquals', spec('string', true)],
  ['StringEqualsIgnoreCase', spec('stringIgnoreCase')],
  ['StringNotEqualsIgnoreCase', spec('stringIgnoreCase', true)],
  ['StringLike', spec('stringLike')],
  ['StringNotLike', spec('stringLike', true)],
  ['NumericEquals', spec('numeric')],
  ['NumericNotEquals', spec('numeric', true)],
  ['NumericLessThan', spec('numeric', false, 'lt')],
  ['NumericLessThanEquals', spec('numeric', false, 'le')],
  ['NumericGreaterThan', spec('numeric', false, 'gt')],
  ['NumericGreaterThanEquals', spec('numeric', false, 'ge')],
  ['DateEquals', spec('date')],
  ['DateNotEquals', spec('date', true)],
  ['DateLessThan', spec('date', false, 'lt')],
  ['DateLessThanEquals', spec('date', false, 'le')],
  ['DateGreaterThan', spec('date', false, 'gt')],
  ['DateGreaterThanEquals', spec('date', false, 'ge')],
  ['Bool', spec('bool')],
  ['BinaryEquals', spec('binary')],
  ['IpAddress', spec('ip')],
  ['NotIpAddress', spec('ip', true)],
  ['ArnEquals', spec('arn')],
  ['ArnLike', spec('arn')],
  ['ArnNotEquals', spec('arn', true)],
  ['ArnNotLike', spec('arn', true)],
  ['Null', spec('null')],
]);

export type SetQualifier = 'ForAnyValue' | 'ForAllValues' | undefined;

/** One operator/key pair of a statement's `Condition`, ready to test. */
export interface CompiledCondition {
  readonly operator: string;
  readonly key: string;
  test(lookup: ContextLookup): boolean;
}

/** Splits `ForAnyValue:StringLikeIfExists` into its parts; undefined for an operator IAM does not know. */
export function parseOperator(name: string): { qualifier: SetQualifier; base: OperatorSpec; ifExists: boolean } | undefined {
  let rest = name;
  let qualifier: SetQualifier;
  for (const q of ['ForAnyValue', 'ForAllValues'] as const) {
    if (rest.startsWith(`${q}:`)) {
      qualifier = q;
      rest = rest.slice(q.length + 1);
    }
  }
  let ifExists = false;
  let base = CONDITION_OPERATORS.get(rest);
  if (!base && rest.endsWith('IfExists')) {
    base = CONDITION_OPERATORS.get(rest.slice(0, -'IfExists'.length));
    ifExists = true;
    if (base?.kind === 'null') return undefined;
  }
  return base ? { qualifier, base, ifExists } : undefined;
}

let lastDateText: string | undefined;
let lastDate = NaN;

/** Epoch milliseconds from an ISO 8601 date or epoch seconds (`aws:EpochTime`); NaN when neither. */
export function parseConditionDate(text: string): number {
  // Requests within one second share aws:CurrentTime's text: remember the last one parsed.
  if (text === lastDateText) return lastDate;
  const t = text.trim();
  const value = /^-?\d+(\.\d+)?$/.test(t) ? Number(t) * 1000 : /^\d{4}-\d{2}-\d{2}/.test(t) ? Date.parse(t) : NaN;
  lastDateText = text;
  lastDate = value;
  return value;
}

function parseNumber(text: string): number {
  return text.trim() === '' ? NaN : Number(text);
}

function compareNumbers(a: number, b: number, compare: Compare): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  switch (compare) {
    case 'eq':
      return a === b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
  }
}

/** Builds "does this one request value match any policy value" for an operator's kind. */
function valueTest(op: OperatorSpec, values: readonly Template[]): (value: string, lookup: ContextLookup) => boolean {
  const { kind, compare } = op;
  switch (kind) {
    case 'string':
    case 'binary':
      return (v, lookup) => values.some((t) => t.text(lookup) === v);
    case 'stringIgnoreCase':
      return (v, lookup) => {
        const lower = v.toLowerCase();
        return values.some((t) => t.text(lookup)?.toLowerCase() === lower);
      };
    case 'bool':
      return (v, lookup) => values.some((t) => t.text(lookup)?.toLowerCase() === v.toLowerCase());
    case 'stringLike':
      return (v, lookup) => values.some((t) => t.matcher(lookup, 'string')?.test(v) ?? false);
    case 'arn':
      return (v, lookup) => values.some((t) => t.matcher(lookup, 'arn')?.test(v) ?? false);
    case 'numeric': {
      const fixed = values.map((t) => (t.hasVariables ? undefined : parseNumber(t.source)));
      return (v, lookup) => {
        const n = parseNumber(v);
        return values.some((t, i) => compareNumbers(n, fixed[i] ?? parseNumber(t.text(lookup) ?? ''), compare));
      };
    }
    case 'date': {
      const fixed = values.map((t) => (t.hasVariables ? undefined : parseConditionDate(t.source)));
      return (v, lookup) => {
        const d = parseConditionDate(v);
        return values.some((t, i) => compareNumbers(d, fixed[i] ?? parseConditionDate(t.text(lookup) ?? ''), compare));
      };
    }
    case 'ip': {
      const blocks = values.map((t) => parseIpBlock(t.source)).filter((b): b is IpBlock => b !== undefined);
      return (v) => {
        const ip = parseIpBlock(v);
        return ip !== undefined && blocks.some((b) => blockContainsIp(b, ip));
      };
    }
    case 'null':
      return () => false;
  }
}

/**
 * Compiles one operator/key/values triple. `operator` must already be known to {@link parseOperator}; `values`
 * are the policy's values as text (JSON numbers and booleans as IAM reads them).
 */
export function compileCondition(operator: string, key: string, values: readonly string[], variablesAllowed: boolean): CompiledCondition {
  const parsed = parseOperator(operator)!;
  const { qualifier, base, ifExists } = parsed;
  if (base.kind === 'null') {
    const wantAbsent = values.map((v) => v.toLowerCase() === 'true');
    return {
      operator,
      key,
      test(lookup) {
        const v = lookup(key);
        const absent = v === undefined || (typeof v !== 'string' && v.length === 0);
        return wantAbsent.some((w) => w === absent);
      },
    };
  }
  const templates = values.map((v) => parseTemplate(v, variablesAllowed));
  const matchesAny = valueTest(base, templates);
  const negated = base.negated;
  const one = (v: string, lookup: ContextLookup) => matchesAny(v, lookup) !== negated;
  return {
    operator,
    key,
    test(lookup) {
      const raw = lookup(key);
      const list = raw === undefined ? [] : typeof raw === 'string' ? [raw] : raw;
      if (list.length === 0) {
        if (ifExists) return true;
        if (qualifier === 'ForAllValues') return true;
        if (qualifier === 'ForAnyValue') return false;
        return negated;
      }
      if (qualifier === 'ForAllValues') return list.every((v) => one(v, lookup));
      if (qualifier === 'ForAnyValue') return list.some((v) => one(v, lookup));
      // A single-valued operator given several values: true when any matches (negated: when none does).
      return list.some((v) => matchesAny(v, lookup)) !== negated;
    },
  };
}
