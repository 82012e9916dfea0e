import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyRingSealer, loadSealer, parseKeyRing, SealError } from './sealer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'berth-sealer-'));
  dirs.push(d);
  return d;
};
const key = (id: string) => ({ id, key: randomBytes(32) });

describe('KeyRingSealer', () => {
  it('opens what it sealed, and the sealed text shows nothing of the value', () => {
    const sealer = new KeyRingSealer([key('k1')]);
    const sealed = sealer.seal('hunter2-very-secret', 'secrets/a');
    expect(sealed).toMatch(/^s1\.k1\./);
    expect(sealed).not.toContain('hunter2');
    expect(sealer.open(sealed, 'secrets/a').toString()).toBe('hunter2-very-secret');
    // A fresh IV each time: equal values do not give equal sealed text.
    expect(sealer.seal('hunter2-very-secret', 'secrets/a')).not.toBe(sealed);
  });

  it('refuses a value moved to another record, altered, truncated, or sealed under a key it lacks', () => {
    const k1 = key('k1');
    const sealer = new KeyRingSealer([k1]);
    const sealed = sealer.seal(Buffer.from([1, 2, 3]), 'secrets/a');
    expect(() => sealer.open(sealed, 'secrets/b')).toThrow(SealError);
    const body = Buffer.from(sealed.split('.')[2]!, 'base64url');
    body[body.length - 20]! ^= 1;
    expect(() => sealer.open(`s1.k1.${body.toString('base64url')}`, 'secrets/a')).toThrow(/does not authenticate/);
    expect(() => sealer.open('s1.k1.AAAA', 'secrets/a')).toThrow(/truncated/);
    expect(() => sealer.open('plain text', 'secrets/a')).toThrow(/not a sealed value/);
    expect(() => new KeyRingSealer([key('k2')]).open(sealed, 'secrets/a')).toThrow(/not in the key ring/);
  });

  it('rotates: the first key seals, older keys still open, and values under them show as stale', () => {
    const [old, next] = [key('old'), key('new')];
    const before = new KeyRingSealer([old]).seal('v', 'c');
    const rotated = new KeyRingSealer([next, old]);
    expect(rotated.open(before, 'c').toString()).toBe('v');
    expect(rotated.isStale(before)).toBe(true);
    const after = rotated.seal('v', 'c');
    expect(after).toMatch(/^s1\.new\./);
    expect(rotated.isStale(after)).toBe(false);
  });

  it('refuses malformed key rings', () => {
    expect(() => new KeyRingSealer([])).toThrow(/empty/);
    expect(() => new KeyRingSealer([{ id: 'k', key: randomBytes(16) }])).toThrow(/32 bytes/);
    expect(() => new KeyRingSealer([{ id: 'a.b', key: randomBytes(32) }])).toThrow(/key id/);
    expect(() => parseKeyRing('# only a comment\n', 'x')).toThrow(/holds no key/);
    expect(() => parseKeyRing('k1\n', 'x')).toThrow(/line 1/);
  });
});

describe('loadSealer', () => {
  it('generates a 0600 key file once and reads the same ring afterwards', () => {
    const dir = tempDir();
    const a = loadSealer(dir, {});
    const file = join(dir, 'kek');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    const b = loadSealer(dir, {});
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(b.open(a.seal('x', 'c'), 'c').toString()).toBe('x');
  });

  it('takes the ring from BERTH_KEK when set, and needs a key from somewhere', () => {
    const ring = `k1 ${randomBytes(32).toString('base64')}`;
    const dir = tempDir();
    const sealer = loadSealer(dir, { BERTH_KEK: ring });
    expect(() => statSync(join(dir, 'kek'))).toThrow();
    expect(loadSealer(undefined, { BERTH_KEK: ring }).open(sealer.seal('x', 'c'), 'c').toString()).toBe('x');
    expect(() => loadSealer(undefined, {})).toThrow(/BERTH_KEK/);
  });
});
