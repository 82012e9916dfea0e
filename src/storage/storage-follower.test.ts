import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Glusterd, GlusterVolume } from './glusterd.js';
import { newVolumeMemory, storageTick } from './storage-follower.js';
import type { StorageAnswer, StorageReport } from './storage-reports.js';

const identity = { hostId: 'h1', address: '10.0.0.1', brickDir: '/b', availabilityZone: 'a' };
const desired: StorageAnswer = { PoolLeader: true, Peers: [], Volumes: [{ Name: 'berth-fs-1', Bricks: [{ Address: '10.0.0.1', Path: '/b/berth-fs-1' }] }] };

/** A glusterd that records the CLI calls and holds volumes as `volume create/start` leave them. */
function fakeGlusterd(volfile: () => string, rootSquash = 'off') {
  const calls: string[] = [];
  const volumes = new Map<string, GlusterVolume>();
  const glusterd = {
    async cli(...args: string[]) {
      calls.push(args.join(' '));
      if (args[0] === 'volume' && args[1] === 'create') volumes.set(args[2]!, { name: args[2]!, started: false });
      if (args[0] === 'volume' && args[1] === 'start') volumes.set(args[2]!, { name: args[2]!, started: true });
      if (args[0] === 'volume' && args[1] === 'get') return `Option Value\n------ -----\nserver.root-squash ${rootSquash}\n`;
      return '';
    },
    volumes: async () => [...volumes.values()],
    pool: async () => [],
    trustedClientVolfile: async (name: string) => (volumes.get(name)?.started ? volfile() : undefined),
  };
  return { glusterd: glusterd as unknown as Glusterd, calls, volumes };
}

describe("the storage pool leader's root squash", () => {
  const log = pino({ level: 'silent' });

  it('sets root squash before the first start, and sends the trusted volfile once, and again when it changes', async () => {
    let text = 'volume c\n option password p1\nend-volume\n';
    const { glusterd, calls } = fakeGlusterd(() => text);
    const reports: StorageReport[] = [];
    const report = async (r: StorageReport) => (reports.push(r), desired);
    const memory = newVolumeMemory();
    let previous = await storageTick(identity, glusterd, report, log, undefined, memory);
    expect(calls.indexOf('volume set berth-fs-1 server.root-squash on')).toBeGreaterThan(-1);
    expect(calls.indexOf('volume set berth-fs-1 server.root-squash on')).toBeLessThan(calls.indexOf('volume start berth-fs-1'));
    for (let i = 0; i < 2; i++) previous = await storageTick(identity, glusterd, report, log, previous, memory);
    expect(reports.map((r) => r.TrustedVolfiles?.map((v) => v.Volfile))).toEqual([undefined, [text], undefined]);
    text = 'volume c\n option password p2\nend-volume\n';
    await storageTick(identity, glusterd, report, log, previous, memory);
    expect(reports.at(-1)!.TrustedVolfiles!.map((v) => v.Volfile)).toEqual([text]);
    // Started by this leader: never read or set again.
    expect(calls.filter((c) => c.includes('root-squash'))).toEqual(['volume set berth-fs-1 server.root-squash on']);
  });

  it('sets root squash once on a volume started before it existed, and leaves one that has it alone', async () => {
    for (const [current, sets] of [['off', 1], ['on', 0]] as const) {
      const { glusterd, calls, volumes } = fakeGlusterd(() => 'v', current);
      volumes.set('berth-fs-1', { name: 'berth-fs-1', started: true });
      const memory = newVolumeMemory();
      for (let i = 0; i < 3; i++) await storageTick(identity, glusterd, async () => desired, log, desired, memory);
      expect(calls.filter((c) => c === 'volume get berth-fs-1 server.root-squash')).toHaveLength(1);
      expect(calls.filter((c) => c === 'volume set berth-fs-1 server.root-squash on')).toHaveLength(sets);
    }
  });
});
