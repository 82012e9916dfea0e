import { describe, expect, it } from 'vitest';
import { evaluate, type Grid, type Scope, type Series, type Value } from './evaluate.js';
import { ExpressionError, parseExpression, referencesOf } from './parse.js';

const grid: Grid = { start: 0, period: 60, length: 5 };
const series = (...values: number[]): Series => ({ kind: 'series', grid, values: Float64Array.from(values) });
const scope = (metrics: Record<string, Series>): Scope => ({ resolve: (id) => metrics[id], metricIds: Object.keys(metrics) });
const run = (text: string, metrics: Record<string, Series>): Value => evaluate(parseExpression(text), scope(metrics));
const valuesOf = (v: Value) => (v.kind === 'series' ? [...v.values] : v.kind === 'scalar' ? v.value : v.items.map((s) => [...s.values]));

describe('metric math', () => {
  const m1 = series(1, 2, NaN, 4, 5);
  const m2 = series(10, 20, 30, NaN, 50);

  it('parses precedence: ^ before * before +, comparisons, AND/OR, unary minus', () => {
    expect(valuesOf(run('1 + 2 * 3 ^ 2', {}))).toBe(19);
    expect(valuesOf(run('2 ^ 3 ^ 2', {}))).toBe(512);
    expect(valuesOf(run('-(1 + 2) * 2', {}))).toBe(-6);
    expect(valuesOf(run('1 < 2 AND 3 >= 4 OR 1 == 1', {}))).toBe(1);
    expect(valuesOf(run('NOT 0 && !1', {}))).toBe(0);
    expect(valuesOf(run('1.5e2 / 3', {}))).toBe(50);
  });

  it('arithmetic between series keeps missing datapoints missing', () => {
    expect(valuesOf(run('m1 + m2', { m1, m2 }))).toEqual([11, 22, NaN, NaN, 55]);
    expect(valuesOf(run('m2 / m1 * 100', { m1, m2 }))).toEqual([1000, 1000, NaN, NaN, 1000]);
  });

  it('SUM/AVG/MIN/MAX: of an array per period, of one series a scalar', () => {
    expect(valuesOf(run('SUM(METRICS())', { m1, m2 }))).toEqual([11, 22, 30, 4, 55]);
    expect(valuesOf(run('AVG([m1])'.replace('[m1]', 'METRICS("1")'), { m1, m2 }))).toEqual([1, 2, NaN, 4, 5]);
    expect(valuesOf(run('MAX(METRICS())', { m1, m2 }))).toEqual([10, 20, 30, 4, 50]);
    expect(valuesOf(run('MIN(m1)', { m1 }))).toBe(1);
    expect(valuesOf(run('AVG(m2)', { m2 }))).toBe(27.5);
    expect(valuesOf(run('m1 / SUM(m1)', { m1 }))).toEqual([1 / 12, 2 / 12, NaN, 4 / 12, 5 / 12]);
  });

  it('FILL with a value, REPEAT and LINEAR', () => {
    const gaps = series(NaN, 2, NaN, NaN, 8);
    expect(valuesOf(run('FILL(g, 0)', { g: gaps }))).toEqual([0, 2, 0, 0, 8]);
    expect(valuesOf(run('FILL(g, REPEAT)', { g: gaps }))).toEqual([2, 2, 2, 2, 8]);
    expect(valuesOf(run('FILL(g, LINEAR)', { g: gaps }))).toEqual([NaN, 2, 4, 6, 8]);
    expect(valuesOf(run('FILL(METRICS(), 0)', { g: gaps }))).toEqual([[0, 2, 0, 0, 8]]);
  });

  it('IF chooses per period; without an else it drops the period', () => {
    expect(valuesOf(run('IF(m1 > 2, m1, 0)', { m1 }))).toEqual([0, 0, NaN, 4, 5]);
    expect(valuesOf(run('IF(m1 > 2, 100)', { m1 }))).toEqual([NaN, NaN, NaN, 100, 100]);
    expect(valuesOf(run('IF(m1 > 2 AND m2 > 40, 1, -1)', { m1, m2 }))).toEqual([-1, -1, NaN, NaN, 1]);
  });

  it('refuses what it cannot evaluate, naming it', () => {
    expect(() => run('m3 + 1', { m1 })).toThrow(/Unrecognized identifier m3/);
    expect(() => run('FOO(m1)', { m1 })).toThrow(/Unrecognized function FOO/);
    expect(() => parseExpression('1 +')).toThrow(ExpressionError);
    expect(() => parseExpression('(1')).toThrow(/expected '\)'/);
    expect(() => parseExpression('1 $ 2')).toThrow(/unexpected character/);
    expect(() => run('IF(m1)', { m1 })).toThrow(/IF takes 2 to 3 arguments/);
    const other: Series = { kind: 'series', grid: { ...grid, period: 300 }, values: new Float64Array(5) };
    expect(() => run('m1 + o', { m1, o: other })).toThrow(/different periods/);
  });

  it('lists the ids an expression reads', () => {
    expect([...referencesOf(parseExpression('IF(a > 1, SUM(METRICS()), b)'))].sort()).toEqual(['*', 'a', 'b']);
  });
});
