import { describe, expect, it } from 'vitest';
import { normalizeTaskDefinition } from '../../model/task-definition/normalize.js';
import { validateTaskDefinition } from '../../model/task-definition/validate.js';
import { kitchenSinkTaskDefinition, minimalTaskDefinition } from '../../testing/task-definition-samples.js';
import { loadServiceModel, type ServiceModel } from './service-model.js';
import { ShapeSerializer } from './shape-serializer.js';
import { ShapeValidator } from './shape-validator.js';

const ecs = loadServiceModel('ecs-2014-11-13.json');

/** A model small enough to read: a recursive structure, every scalar type, a list, a map and a document. */
const tiny: ServiceModel = {
  metadata: { endpointPrefix: 't', protocol: 'json' },
  operations: {},
  shapes: {
    Node: {
      type: 'structure',
      members: {
        name: { shape: 'Str' },
        'odd "key"': { shape: 'Str' },
        count: { shape: 'Int' },
        ratio: { shape: 'Dbl' },
        at: { shape: 'Time' },
        on: { shape: 'Bool' },
        data: { shape: 'Bytes' },
        children: { shape: 'Nodes' },
        labels: { shape: 'Labels' },
        details: { shape: 'Doc' },
        values: { shape: 'Doubles' },
        times: { shape: 'Times' },
      },
    },
    Doubles: { type: 'list', member: { shape: 'Dbl' } },
    Times: { type: 'list', member: { shape: 'Time' } },
    Nodes: { type: 'list', member: { shape: 'Node' } },
    Labels: { type: 'map', key: { shape: 'Str' }, value: { shape: 'Str' } },
    Doc: { type: 'structure', members: {}, document: true },
    Str: { type: 'string' },
    Int: { type: 'integer' },
    Dbl: { type: 'double' },
    Time: { type: 'timestamp' },
    Bool: { type: 'boolean' },
    Bytes: { type: 'blob' },
  },
};

describe('ShapeSerializer', () => {
  const serializer = new ShapeSerializer(tiny);
  const write = (value: unknown) => serializer.serialize('Node', value);

  it('writes the model\'s members in model order, and leaves out absent, null and unknown ones', () => {
    expect(write({ on: false, name: 'a', secret: 'x', count: null, ratio: undefined })).toBe('{"name":"a","on":false}');
    expect(write({})).toBe('{}');
  });

  it('writes every type as the AWS JSON protocol does, escaping strings and keys', () => {
    const text = write({
      name: 'quote " backslash \\ newline \n é 😀',
      'odd "key"': 'v',
      count: 3,
      ratio: 0.25,
      at: 1700000000.5,
      on: true,
      data: new Uint8Array([1, 2, 3]),
      labels: { 'k"1': 'v1', dropped: null },
      details: { anything: [1, { goes: null }] },
    });
    expect(JSON.parse(text)).toEqual({
      name: 'quote " backslash \\ newline \n é 😀',
      'odd "key"': 'v',
      count: 3,
      ratio: 0.25,
      at: 1700000000.5,
      on: true,
      data: 'AQID',
      labels: { 'k"1': 'v1' },
      details: { anything: [1, { goes: null }] },
    });
  });

  it('follows recursive shapes and writes list elements in order', () => {
    const tree = { name: 'root', children: [{ name: 'a', children: [{ name: 'a1', extra: 1 }] }, { name: 'b' }] };
    expect(JSON.parse(write(tree))).toEqual({ name: 'root', children: [{ name: 'a', children: [{ name: 'a1' }] }, { name: 'b' }] });
  });

  it('writes a value of the wrong JavaScript type as JSON.stringify would, and non-finite numbers as null', () => {
    expect(JSON.parse(write({ count: Number.NaN, ratio: Infinity, name: 5, children: 'x' }))).toEqual({ count: null, ratio: null, name: 5, children: 'x' });
  });

  it('writes lists of numbers and timestamps element by element as the other lists (null for absent and non-finite)', () => {
    const odd = [1, -0, 0.1 + 0.2, 1e21, -5e-7, NaN, Infinity, null, undefined, '7', true, new Date(0), 2 ** 53 + 2];
    // What the per-element writer gives: numbers as ''+v, non-finite and absent as null, the rest as JSON.stringify.
    const expected = `[${odd.map((v) => (v == null ? 'null' : typeof v === 'number' ? (Number.isFinite(v) ? `${v}` : 'null') : JSON.stringify(v))).join(',')}]`;
    expect(write({ values: odd })).toBe(`{"values":${expected}}`);
    expect(write({ times: odd, values: [] })).toBe(`{"values":[],"times":${expected}}`);
    const holey = new Array<number>(3);
    holey[1] = 2;
    expect(write({ values: holey })).toBe('{"values":[null,2,null]}');
    expect(write({ values: 'x' })).toBe('{"values":"x"}');
  });

  it('writes ECS task definitions as JSON.stringify did, for the smallest and the fullest one', () => {
    const validator = new ShapeValidator(ecs, 'output');
    const ecsSerializer = new ShapeSerializer(ecs);
    for (const input of [minimalTaskDefinition('small'), kitchenSinkTaskDefinition]) {
      const copy = structuredClone(input);
      const size = validateTaskDefinition(copy);
      const taskDefinition = normalizeTaskDefinition(copy, size, {
        scope: { region: 'us-east-1', accountId: '123456789012' },
        revision: 7,
        registeredAt: 1700000000.123,
        registeredBy: 'arn:aws:iam::123456789012:root',
      });
      const output = { taskDefinition, tags: [{ key: 'k', value: 'v' }] };
      validator.check('DescribeTaskDefinitionResponse', output);
      expect(JSON.parse(ecsSerializer.serialize('DescribeTaskDefinitionResponse', output))).toEqual(JSON.parse(JSON.stringify(output)));
    }
  });

  it('writes a frozen structure once and reuses its text; an unfrozen one is written afresh each time', () => {
    let reads = 0;
    const frozen = Object.freeze({
      get name() {
        reads++;
        return 'a';
      },
      children: Object.freeze([Object.freeze({ name: 'b' })]),
    });
    expect(serializer.serialize('Node', frozen)).toBe('{"name":"a","children":[{"name":"b"}]}');
    expect(serializer.serialize('Node', frozen)).toBe('{"name":"a","children":[{"name":"b"}]}');
    expect(reads).toBe(1);
    const node = { name: 'a', children: [{ name: 'b' }] };
    expect(serializer.serialize('Node', node)).toBe('{"name":"a","children":[{"name":"b"}]}');
    node.name = 'c';
    expect(serializer.serialize('Node', node)).toBe('{"name":"c","children":[{"name":"b"}]}');
  });

  it('writes in pieces the same text: each long list of numbers a piece, one array written twice stringified once', () => {
    const times = Array.from({ length: 300 }, (_, i) => 1_700_000_000 - 60 * i);
    const values = (k: number) => Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? 0.1 * i + k : i * k));
    const tree = {
      name: 'nul \u0000 in a string',
      children: [
        { name: 'a', times, values: values(1) },
        { name: 'b', times, values: values(2), labels: { k: 'v' } },
        { name: 'c', times: times.slice(1), values: [1, 2, NaN] },
      ],
      values: values(3),
    };
    const pieces = serializer.serializePieces('Node', tree);
    expect(Array.isArray(pieces)).toBe(true);
    expect((pieces as string[]).join('')).toBe(write(tree));
    const timesText = JSON.stringify(times);
    // Every long list is a piece of its own; the two children's shared timestamps are one string, not two.
    expect((pieces as string[]).filter((p) => p === timesText)).toHaveLength(2);
    expect((pieces as string[]).filter((p) => p.startsWith('[') && p.endsWith(']') && !p.includes('{'))).toHaveLength(6);
    // No long list: the text itself.
    expect(serializer.serializePieces('Node', { name: 'x', values: [1, 2] })).toBe('{"name":"x","values":[1,2]}');
    // A frozen structure's text is kept whole for the next answer: never a stand-in for a piece of this one.
    const frozen = Object.freeze({ name: 'f', times: Object.freeze(times) });
    expect(serializer.serializePieces('Node', { children: [frozen] })).toBe(`{"children":[{"name":"f","times":${timesText}}]}`);
    expect(serializer.serializePieces('Node', { children: [frozen], values: values(4) })).toEqual(['{"children":[{"name":"f","times":' + timesText + '}],"values":', JSON.stringify(values(4)), '}']);
  });

  it('refuses a shape the model does not have', () => {
    expect(() => serializer.serialize('Nope', {})).toThrow(/unknown shape Nope/);
  });
});
