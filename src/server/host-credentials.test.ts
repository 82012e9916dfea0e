import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { rootPrincipal } from '../api/auth/credentials.js';
import { iamService } from '../api/iam/index.js';
import { KeyRingSealer } from '../identity/sealer.js';
import { MemoryStore } from '../store/memory.js';
import { HOST_USER, hostCredentials } from './host-credentials.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the credentials netns hosts sign with', () => {
  it('are an IAM user with the ECS instance role policy, its key kept in a private file and replaced when the file is lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-host-credentials-'));
    dirs.push(dir);
    const store = new MemoryStore();
    const iam = iamService({ store, accountId: '123456789012', sealer: new KeyRingSealer([{ id: 'k', key: randomBytes(32) }]), now: Date.now }).operations;
    const call = (op: string, input: object) => iam[op]!(input, { principal: rootPrincipal('123456789012') } as never) as Promise<any>;
    let caughtUp = 0;
    const make = (file: string) =>
      hostCredentials({ iam, principal: rootPrincipal('123456789012'), file, caughtUp: async () => void caughtUp++, log: pino({ level: 'silent' }) });
    const first = await make(join(dir, 'keys.json'))();
    expect(statSync(join(dir, 'keys.json')).mode & 0o777).toBe(0o600);
    expect(caughtUp).toBe(1);
    const attached = (await call('ListAttachedUserPolicies', { UserName: HOST_USER })).AttachedPolicies;
    expect(attached).toEqual([expect.objectContaining({ PolicyName: 'AmazonEC2ContainerServiceforEC2Role' })]);
    // Another server start reads the same file: the same key, nothing new in IAM.
    expect(await make(join(dir, 'keys.json'))()).toEqual(first);
    expect((await call('ListAccessKeys', { UserName: HOST_USER })).AccessKeyMetadata.map((k: { AccessKeyId: string }) => k.AccessKeyId)).toEqual([first.accessKeyId]);
    // The file lost: a new key, and the one whose secret is nowhere deleted.
    const second = await make(join(dir, 'elsewhere.json'))();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect((await call('ListAccessKeys', { UserName: HOST_USER })).AccessKeyMetadata.map((k: { AccessKeyId: string }) => k.AccessKeyId)).toEqual([second.accessKeyId]);
  });
});
