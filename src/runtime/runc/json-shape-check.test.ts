import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { checkShape, type ShapeSchema } from './json-shape-check.js';

const list = { type: ['array', 'null'], items: { type: 'string' } } as const;
const schema = {
  type: 'object',
  required: ['action'],
  properties: {
    action: { type: 'string', pattern: '^SCMP_ACT_' },
    errnoRet: { type: 'integer', minimum: 0 },
    names: list,
    args: { type: ['array', 'null'], items: { type: 'object', required: ['index'], properties: { index: { type: 'integer', minimum: 0, maximum: 5 } } } },
    'a/b~c': { type: 'boolean' },
  },
} as const satisfies ShapeSchema;

describe('checkShape', () => {
  const ajv = new Ajv({ allErrors: false }).compile(schema);
  const ajvSays = (v: unknown) => (ajv(v) ? undefined : { path: ajv.errors![0]!.instancePath, message: ajv.errors![0]!.message });

  it.each([
    ['fits', { action: 'SCMP_ACT_ALLOW', errnoRet: 1, names: ['read'], args: null }],
    ['fits with null lists', { action: 'SCMP_ACT_ERRNO', names: null }],
    ['the root is not an object', ['x']],
    ['null root', null],
    ['a required property is missing', { names: [] }],
    ['a pattern is not matched', { action: 'ALLOW' }],
    ['a string where a number goes', { action: 'SCMP_ACT_ALLOW', errnoRet: '1' }],
    ['a fraction where an integer goes', { action: 'SCMP_ACT_ALLOW', errnoRet: 1.5 }],
    ['below the minimum', { action: 'SCMP_ACT_ALLOW', errnoRet: -1 }],
    ['a nested item is of the wrong type', { action: 'SCMP_ACT_ALLOW', names: ['read', 3] }],
    ['a list that is an object', { action: 'SCMP_ACT_ALLOW', names: {} }],
    ['above the maximum, deep', { action: 'SCMP_ACT_ALLOW', args: [{ index: 1 }, { index: 6 }] }],
    ['a required property missing, deep', { action: 'SCMP_ACT_ALLOW', args: [{}] }],
    ['a name that needs escaping in the pointer', { action: 'SCMP_ACT_ALLOW', 'a/b~c': 'yes' }],
    ['unknown properties are allowed', { action: 'SCMP_ACT_ALLOW', other: 1 }],
  ])('%s: answers as Ajv does', (_, value) => {
    expect(checkShape(value, schema)).toEqual(ajvSays(value));
  });

  it('names the first problem with its path and message', () => {
    expect(checkShape({ action: 'SCMP_ACT_ALLOW', args: [{ index: 9 }] }, schema)).toEqual({ path: '/args/0/index', message: 'must be <= 5' });
    expect(checkShape({}, schema)).toEqual({ path: '', message: "must have required property 'action'" });
  });
});
