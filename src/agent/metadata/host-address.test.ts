import { describe, expect, it } from 'vitest';
import { MetadataAddressError } from './errors.js';
import { ensureLocalAddress, type RunCommand } from './host-address.js';

function recorder(fail?: { stderr: string }) {
  const calls: string[][] = [];
  const run: RunCommand = async (file, args) => {
    calls.push([file, ...args]);
    if (fail) throw Object.assign(new Error('Command failed'), fail);
  };
  return { calls, run };
}

describe('making the metadata address local', () => {
  it('adds a link-local address to lo as a /32', async () => {
    const { calls, run } = recorder();
    await ensureLocalAddress('169.254.170.2', run, () => false);
    expect(calls).toEqual([['ip', 'addr', 'add', '169.254.170.2/32', 'dev', 'lo']]);
  });

  it('does nothing for an address the host already has', async () => {
    const { calls, run } = recorder();
    await ensureLocalAddress('127.0.0.1', run);
    await ensureLocalAddress('169.254.170.2', run, () => true);
    expect(calls).toEqual([]);
  });

  it('is idempotent: "File exists" (another agent, an earlier run) is fine', async () => {
    const { run } = recorder({ stderr: 'RTNETLINK answers: File exists\n' });
    await expect(ensureLocalAddress('169.254.170.2', run, () => false)).resolves.toBeUndefined();
  });

  it('reports any other failure, and never adds an address that is not link-local', async () => {
    const { run } = recorder({ stderr: 'RTNETLINK answers: Operation not permitted\n' });
    await expect(ensureLocalAddress('169.254.170.2', run, () => false)).rejects.toThrow(
      new MetadataAddressError('could not add the task metadata address 169.254.170.2/32 to lo: RTNETLINK answers: Operation not permitted'),
    );
    const quiet = recorder();
    await expect(ensureLocalAddress('10.9.9.9', quiet.run, () => false)).rejects.toThrow(/not an address of this host/);
    expect(quiet.calls).toEqual([]);
  });
});
