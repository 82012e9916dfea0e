import { describe, expect, it } from 'vitest';
import { KeyRingSealer } from '../identity/sealer.js';
import { keys } from '../state/keys.js';
import { MemoryStore } from '../store/memory.js';
import { parameterMatcher } from './parameter-filters.js';
import { isValidLabel } from './parameter-names.js';
import { MAX_PARAMETER_VERSIONS, ParameterStore } from './parameter-store.js';

function setup() {
  const store = new MemoryStore();
  return {
    store,
    params: new ParameterStore({ store, sealer: new KeyRingSealer([{ id: 'k1', key: Buffer.alloc(32, 3) }]), scope: { region: 'us-east-1', accountId: '123456789012' }, now: () => 5_000 }),
  };
}
const put = (name: string, value: string, extra: object = {}) => ({ name, value, type: 'String' as const, overwrite: false, user: 'arn:aws:iam::123456789012:root', ...extra });

describe('the parameter store', () => {
  it('keeps 100 versions, dropping the oldest, but not one that has a label', async () => {
    const { store, params } = setup();
    await params.put(put('p', 'v1'));
    for (let i = 2; i <= MAX_PARAMETER_VERSIONS; i++) await params.put(put('p', `v${i}`, { overwrite: true }));
    await params.label('p', 1, ['keep'], isValidLabel);
    await expect(params.put(put('p', 'v101', { overwrite: true }))).rejects.toThrow(/Version 1, the oldest version, can't be deleted because it has a label/);
    await params.label('p', 2, ['keep'], isValidLabel);
    expect(await params.put(put('p', 'v101', { overwrite: true }))).toEqual({ version: 101, tier: 'Standard' });
    expect(await store.count(keys.parameterVersionsOf('p'))).toBe(MAX_PARAMETER_VERSIONS);
    await expect(params.get({ name: 'p', version: 1 })).rejects.toThrow('Systems Manager could not find version 1 of p.');
    expect((await params.get({ name: 'p', label: 'keep' })).value).toBe('v2');
  });

  it('checks AllowedPattern (kept across overwrites), value sizes by tier, types, KeyId and data types', async () => {
    const { params } = setup();
    await params.put(put('n', '42', { allowedPattern: '\\d+' }));
    await expect(params.put(put('n', '4x', { overwrite: true }))).rejects.toThrow('Parameter value, cannot be validated against allowedPattern: \\d+');
    await expect(params.put(put('bad', 'x', { allowedPattern: '(' }))).rejects.toThrow(/invalid regular expression/);
    await expect(params.put(put('big', 'x'.repeat(4097)))).rejects.toThrow(/maximum parameter value of 4096/);
    expect(await params.put(put('big', 'x'.repeat(8000), { tier: 'Advanced' }))).toEqual({ version: 1, tier: 'Advanced' });
    await expect(params.put(put('k', 'x', { keyId: 'alias/mine' }))).rejects.toThrow(/SecureString type parameter only/);
    await expect(params.put(put('k', 'x', { type: 'SecureString', keyId: 'not a key' }))).rejects.toThrow('Invalid KeyId: not a key');
    expect(await params.put(put('k', 'x', { type: 'SecureString', keyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' }))).toMatchObject({ version: 1 });
    await expect(params.put({ name: 'untyped', value: 'x', overwrite: false, user: 'u' })).rejects.toThrow(/type is required/);
    await expect(params.put(put('d', 'x', { dataType: 'aws:ec2:image' }))).rejects.toThrow(/data type is not supported/);
    await expect(params.put(put('l', 'a,,b', { type: 'StringList' }))).rejects.toThrow(/none of them may be empty/);
  });

  it('refuses a parameter past the account limit, but still overwrites', async () => {
    const store = new MemoryStore();
    const params = new ParameterStore({ store, sealer: new KeyRingSealer([{ id: 'k1', key: Buffer.alloc(32, 3) }]), scope: { region: 'r', accountId: '123456789012' }, now: () => 1, maxParameters: 2 });
    await params.put(put('a', '1'));
    await params.put(put('b', '1'));
    await expect(params.put(put('c', '1'))).rejects.toMatchObject({ type: 'ParameterLimitExceeded' });
    expect((await params.put(put('a', '2', { overwrite: true }))).version).toBe(2);
  });

  it('seals every value under its version key', async () => {
    const { store, params } = setup();
    await params.put(put('/s', 'plain-sight', { type: 'SecureString' }));
    const { entries } = await store.range('');
    for (const e of entries) expect(e.value).not.toContain('plain-sight');
    expect((await params.get({ name: '/s' })).value).toBe('plain-sight');
  });
});

describe('parameter filters', () => {
  const record = (name: string, extra: object = {}) => ({
    name, version: 1, type: 'String' as const, tier: 'Standard' as const, dataType: 'text', lastModifiedDate: 0, lastModifiedUser: 'u', tags: [{ Key: 'env', Value: 'prod' }], labels: { live: 1 }, versions: [1], ...extra,
  });

  it('matches names, paths, types, labels and tags with their options', () => {
    const names = (filters: Parameters<typeof parameterMatcher>[0]) => ['/a/b', '/a/b/c', '/x', 'a'].map((n) => record(n)).filter(parameterMatcher(filters, undefined, 'describe')).map((r) => r.name);
    expect(names([{ Key: 'Name', Option: 'BeginsWith', Values: ['/a'] }])).toEqual(['/a/b', '/a/b/c']);
    expect(names([{ Key: 'Name', Values: ['a'] }])).toEqual(['a']);
    expect(names([{ Key: 'Name', Option: 'Contains', Values: ['b/'] }])).toEqual(['/a/b/c']);
    expect(names([{ Key: 'Path', Values: ['/a'] }])).toEqual(['/a/b']);
    expect(names([{ Key: 'Path', Option: 'Recursive', Values: ['/a'] }])).toEqual(['/a/b', '/a/b/c']);
    expect(names([{ Key: 'Type', Values: ['SecureString'] }])).toEqual([]);
    expect(names([{ Key: 'Label', Values: ['live'] }, { Key: 'tag:env', Values: ['prod'] }])).toHaveLength(4);
    expect(names([{ Key: 'tag:env' }])).toHaveLength(4);
  });

  it('refuses unknown keys and options, and both kinds of filters together', () => {
    expect(() => parameterMatcher([{ Key: 'Type', Option: 'BeginsWith', Values: ['String'] }], undefined, 'describe')).toThrow(/not valid for key Type/);
    expect(() => parameterMatcher([{ Key: 'Path', Values: ['/a'] }], undefined, 'path')).toThrow(/filter key is not valid: Path/);
    expect(() => parameterMatcher([{ Key: 'Type', Values: ['String'] }], [{ Key: 'Name', Values: ['a'] }], 'describe')).toThrow(/either Filters or ParameterFilters/);
  });
});

describe('labels named like Object members', () => {
  it('are labels like any other', async () => {
    const { params } = setup();
    await params.put(put('p', 'one'));
    await params.put(put('p', 'two', { overwrite: true }));
    await expect(params.get({ name: 'p', label: 'constructor' })).rejects.toMatchObject({ type: 'ParameterNotFound' });
    await params.label('p', 1, ['__proto__', 'constructor'], isValidLabel);
    expect((await params.get({ name: 'p', label: '__proto__' })).value).toBe('one');
    expect((await params.get({ name: 'p', label: 'constructor' })).value).toBe('one');
    expect(Object.keys((await params.find('p'))!.labels).sort()).toEqual(['__proto__', 'constructor']);
  });
});
