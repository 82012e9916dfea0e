import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRootKeyPair } from './credentials.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('root key pair in a shared directory', () => {
  it('is generated once (mode 0600, no temporary file left) and read by every later replica', () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-credentials-'));
    const first = loadRootKeyPair(dir, {});
    expect(first.source).toBe('generated');
    expect(statSync(join(dir, 'credentials')).mode & 0o777).toBe(0o600);
    const others = [loadRootKeyPair(dir, {}), loadRootKeyPair(dir, {})];
    for (const o of others) expect(o).toMatchObject({ accessKeyId: first.accessKeyId, secretAccessKey: first.secretAccessKey, source: 'file' });
    expect(readdirSync(dir)).toEqual(['credentials']);
  });

  it('prefers the environment, and refuses a file without a complete profile', () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-credentials-'));
    expect(loadRootKeyPair(dir, { BERTH_ACCESS_KEY_ID: 'AKIAX', BERTH_SECRET_ACCESS_KEY: 's' })).toMatchObject({ source: 'environment' });
    writeFileSync(join(dir, 'credentials'), '[berth]\naws_access_key_id = AKIAX\n');
    expect(() => loadRootKeyPair(dir, {})).toThrow(/no complete \[berth\] profile/);
  });
});
