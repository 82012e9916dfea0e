import { describe, expect, it } from 'vitest';
import { missingStorageCommands, STORAGE_COMMANDS } from './storage-node.js';
import { upStoragePlan } from './up-storage.js';

const inputs = { dataDir: '/var/lib/berth', enabled: true, address: '192.168.1.20', availabilityZone: 'us-east-1a', missing: [] };

describe("berth up's storage host", () => {
  it("runs one glusterd with its state and one brick directory under berth's data dir, in the agent's zone", () => {
    expect(upStoragePlan(inputs)).toEqual({
      run: true,
      hostId: 'berth-up',
      address: '192.168.1.20',
      brickDir: '/var/lib/berth/storage/bricks',
      stateDir: '/var/lib/berth/storage/state',
      availabilityZone: 'us-east-1a',
    });
  });

  it('says why it does not run when a GlusterFS part is missing, naming the parts and the installer', () => {
    const plan = upStoragePlan({ ...inputs, missing: ['glusterd', 'gluster'] });
    expect(plan.run).toBe(false);
    expect(!plan.run && plan.reason).toMatch(/^glusterd, gluster not found on PATH: no storage host.*scripts\/install\.sh/);
  });

  it('does not run on a loopback address, which GlusterFS refuses for bricks', () => {
    for (const address of ['127.0.0.1', 'localhost', '0.0.0.0']) {
      const plan = upStoragePlan({ ...inputs, address });
      expect(!plan.run && plan.reason).toMatch(/loopback.*--storage-address/);
    }
  });

  it('does not run with --no-storage', () => {
    expect(upStoragePlan({ ...inputs, enabled: false })).toEqual({ run: false, reason: expect.stringMatching(/^--no-storage/) });
  });

  it('finds the commands missing from PATH with the probe it is given', () => {
    expect(missingStorageCommands(() => true)).toEqual([]);
    expect(missingStorageCommands((c) => c !== 'glusterd' && c !== 'bindfs')).toEqual(['glusterd', 'bindfs']);
    expect(missingStorageCommands(() => false)).toEqual([...STORAGE_COMMANDS]);
  });
});
