import { ExpressionError, type BinaryOp, type Expr } from './parse.js';

/**
 * Evaluation of metric math over time series on a grid: a series is a value per period from `start` (NaN where
 * the period has no datapoint), so every operator works element by element and a missing value stays missing
 * (CloudWatch drops it from the answer) unless FILL supplies one.
 *
 * - `+ - * / ^` and comparisons between series, arrays of series and scalars (comparisons give 1 or 0);
 * - SUM/AVG/MIN/MAX of an array: a series, period by period over the values present; of one series: a scalar
 *   over all its datapoints (CloudWatch's rule);
 * - FILL(x, value | REPEAT | LINEAR); IF(cond, a[, b]) (without b, periods where cond is false are dropped);
 * - METRICS() every metric query of the request, METRICS("s") those whose id contains s.
 */
export interface Grid {
  readonly start: number;
  readonly period: number;
  readonly length: number;
}

export interface Series {
  readonly kind: 'series';
  readonly grid: Grid;
  readonly values: Float64Array;
}

export type Value = { readonly kind: 'scalar'; readonly value: number } | Series | { readonly kind: 'array'; readonly items: readonly Series[] };

export interface Scope {
  /** The value of query `id` (a metric's series or another expression's result); undefined when no such query. */
  resolve(id: string): Value | undefined;
  /** The metric queries' ids, in request order (METRICS()). */
  readonly metricIds: readonly string[];
}

export function evaluate(expr: Expr, scope: Scope): Value {
  switch (expr.kind) {
    case 'number':
      return { kind: 'scalar', value: expr.value };
    case 'string':
    case 'keyword':
      throw new ExpressionError(`${expr.kind === 'string' ? `"${expr.value}"` : expr.name} is only valid as a function argument`);
    case 'ref': {
      const value = scope.resolve(expr.id);
      if (!value) throw new ExpressionError(`Unrecognized identifier ${expr.id}`);
      return value;
    }
    case 'unary': {
      const arg = evaluate(expr.arg, scope);
      return map(arg, expr.op === '-' ? (v) => -v : (v) => (Number.isNaN(v) ? NaN : v === 0 ? 1 : 0));
    }
    case 'binary':
      return combine(evaluate(expr.left, scope), evaluate(expr.right, scope), BINARY[expr.op]);
    case 'call':
      return call(expr.name, expr.args, scope);
  }
}

const BINARY: Readonly<Record<BinaryOp, (a: number, b: number) => number>> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '^': (a, b) => a ** b,
  '==': (a, b) => (a === b ? 1 : 0),
  '!=': (a, b) => (a !== b ? 1 : 0),
  '<': (a, b) => (a < b ? 1 : 0),
  '>': (a, b) => (a > b ? 1 : 0),
  '<=': (a, b) => (a <= b ? 1 : 0),
  '>=': (a, b) => (a >= b ? 1 : 0),
  AND: (a, b) => (a !== 0 && b !== 0 ? 1 : 0),
  OR: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
};

/** NaN in, NaN out: a missing datapoint stays missing through every operator. */
const strict = (f: (a: number, b: number) => number) => (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : f(a, b));

function map(value: Value, f: (v: number) => number): Value {
  const g = (v: number) => (Number.isNaN(v) ? NaN : f(v));
  switch (value.kind) {
    case 'scalar':
      return { kind: 'scalar', value: g(value.value) };
    case 'series':
      return { kind: 'series', grid: value.grid, values: value.values.map(g) };
    case 'array':
      return { kind: 'array', items: value.items.map((s) => ({ kind: 'series', grid: s.grid, values: s.values.map(g) })) };
  }
}

function sameGrid(a: Grid, b: Grid): void {
  if (a.start !== b.start || a.period !== b.period || a.length !== b.length) {
    throw new ExpressionError(`time series of different periods (${a.period} s and ${b.period} s) cannot be combined`);
  }
}

function combine(a: Value, b: Value, op: (x: number, y: number) => number): Value {
  const f = strict(op);
  if (a.kind === 'scalar' && b.kind === 'scalar') return { kind: 'scalar', value: f(a.value, b.value) };
  if (a.kind === 'scalar') return map(b, (y) => f(a.value, y));
  if (b.kind === 'scalar') return map(a, (x) => f(x, b.value));
  if (a.kind === 'array' && b.kind === 'array') throw new ExpressionError('two arrays of time series cannot be combined');
  if (a.kind === 'array') return { kind: 'array', items: a.items.map((s) => combine(s, b, op) as Series) };
  if (b.kind === 'array') return { kind: 'array', items: b.items.map((s) => combine(a, s, op) as Series) };
  sameGrid(a.grid, b.grid);
  const values = new Float64Array(a.values.length);
  for (let i = 0; i < values.length; i++) values[i] = f(a.values[i]!, b.values[i]!);
  return { kind: 'series', grid: a.grid, values };
}

function call(name: string, args: readonly Expr[], scope: Scope): Value {
  const arity = (min: number, max = min) => {
    if (args.length < min || args.length > max) throw new ExpressionError(`${name} takes ${min === max ? min : `${min} to ${max}`} arguments, not ${args.length}`);
  };
  switch (name) {
    case 'METRICS': {
      arity(0, 1);
      const filter = args[0];
      if (filter && filter.kind !== 'string') throw new ExpressionError('METRICS takes a string');
      const items: Series[] = [];
      for (const id of scope.metricIds) {
        if (filter && !id.includes(filter.value)) continue;
        const v = scope.resolve(id);
        if (v?.kind === 'series') items.push(v);
      }
      return { kind: 'array', items };
    }
    case 'SUM':
    case 'AVG':
    case 'MIN':
    case 'MAX': {
      arity(1);
      return reduce(name, evaluate(args[0]!, scope));
    }
    case 'FILL': {
      arity(2);
      const target = evaluate(args[0]!, scope);
      const how = args[1]!;
      const fill = (s: Series): Series => ({ kind: 'series', grid: s.grid, values: fillSeries(s, how, scope) });
      if (target.kind === 'scalar') return target;
      return target.kind === 'series' ? fill(target) : { kind: 'array', items: target.items.map(fill) };
    }
    case 'IF': {
      arity(2, 3);
      const cond = evaluate(args[0]!, scope);
      const yes = evaluate(args[1]!, scope);
      const no: Value = args[2] ? evaluate(args[2], scope) : { kind: 'scalar', value: NaN };
      return ifThenElse(cond, yes, no);
    }
    case 'ABS':
      arity(1);
      return map(evaluate(args[0]!, scope), Math.abs);
    default:
      throw new ExpressionError(`Unrecognized function ${name}`);
  }
}

type Reduction = 'SUM' | 'AVG' | 'MIN' | 'MAX';

/** Adds `v` into `acc` as the reduction does (AVG sums; the count divides at the end). */
function step(name: Reduction, acc: number, v: number): number {
  return name === 'MIN' ? (v < acc ? v : acc) : name === 'MAX' ? (v > acc ? v : acc) : acc + v;
}

function reduce(name: Reduction, value: Value): Value {
  const initial = name === 'MIN' ? Infinity : name === 'MAX' ? -Infinity : 0;
  if (value.kind === 'scalar') return value;
  if (value.kind === 'series') {
    let n = 0;
    let acc = initial;
    for (const v of value.values) {
      if (Number.isNaN(v)) continue;
      n++;
      acc = step(name, acc, v);
    }
    return { kind: 'scalar', value: n === 0 ? NaN : name === 'AVG' ? acc / n : acc };
  }
  if (value.items.length === 0) throw new ExpressionError(`${name} of an empty array`);
  const grid = value.items[0]!.grid;
  for (const s of value.items) sameGrid(grid, s.grid);
  // Period by period across the series, one series at a time (100 series × a day of minutes is common): an
  // accumulator and a count per period, no array per period.
  const values = new Float64Array(grid.length).fill(initial);
  const counts = new Float64Array(grid.length);
  for (const s of value.items) {
    const from = s.values;
    for (let i = 0; i < grid.length; i++) {
      const v = from[i]!;
      if (Number.isNaN(v)) continue;
      counts[i] = counts[i]! + 1;
      values[i] = step(name, values[i]!, v);
    }
  }
  for (let i = 0; i < grid.length; i++) values[i] = counts[i] === 0 ? NaN : name === 'AVG' ? values[i]! / counts[i]! : values[i]!;
  return { kind: 'series', grid, values };
}

function fillSeries(s: Series, how: Expr, scope: Scope): Float64Array {
  const out = Float64Array.from(s.values);
  if (how.kind === 'keyword' && how.name === 'REPEAT') {
    let last = NaN;
    for (let i = 0; i < out.length; i++) {
      if (Number.isNaN(out[i]!)) out[i] = last;
      else last = out[i]!;
    }
    // Before the first datapoint there is nothing to repeat: CloudWatch uses the first value.
    const first = out.findIndex((v) => !Number.isNaN(v));
    for (let i = 0; i < first; i++) out[i] = out[first]!;
    return out;
  }
  if (how.kind === 'keyword' && how.name === 'LINEAR') {
    let prev = -1;
    for (let i = 0; i < out.length; i++) {
      if (Number.isNaN(out[i]!)) continue;
      if (prev >= 0) for (let j = prev + 1; j < i; j++) out[j] = out[prev]! + ((out[i]! - out[prev]!) * (j - prev)) / (i - prev);
      prev = i;
    }
    return out;
  }
  const value = evaluate(how, scope);
  if (value.kind === 'scalar') {
    for (let i = 0; i < out.length; i++) if (Number.isNaN(out[i]!)) out[i] = value.value;
    return out;
  }
  if (value.kind === 'series') {
    sameGrid(s.grid, value.grid);
    for (let i = 0; i < out.length; i++) if (Number.isNaN(out[i]!)) out[i] = value.values[i]!;
    return out;
  }
  throw new ExpressionError('FILL takes a value, a time series, REPEAT or LINEAR');
}

function ifThenElse(cond: Value, yes: Value, no: Value): Value {
  if (cond.kind === 'array') return { kind: 'array', items: cond.items.map((c) => ifThenElse(c, yes, no) as Series) };
  if (cond.kind === 'scalar') {
    if (Number.isNaN(cond.value)) return { kind: 'scalar', value: NaN };
    return cond.value !== 0 ? yes : no;
  }
  const at = (v: Value, i: number) => {
    if (v.kind === 'scalar') return v.value;
    if (v.kind === 'array') throw new ExpressionError('IF cannot choose between arrays of time series');
    sameGrid(cond.grid, v.grid);
    return v.values[i]!;
  };
  const values = new Float64Array(cond.grid.length);
  for (let i = 0; i < values.length; i++) {
    const c = cond.values[i]!;
    values[i] = Number.isNaN(c) ? NaN : c !== 0 ? at(yes, i) : at(no, i);
  }
  return { kind: 'series', grid: cond.grid, values };
}
