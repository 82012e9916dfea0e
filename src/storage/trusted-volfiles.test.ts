import { describe, expect, it } from 'vitest';
import { rootSquashIsOn, volfileChecksum, volfilesToSend } from './trusted-volfiles.js';

describe("the pool leader's trusted volfiles", () => {
  it('sends a volfile once, and again only when glusterd rewrote it', () => {
    const read = new Map([['berth-fs-1', 'volume a\n option password p1\nend-volume\n'], ['berth-fs-2', 'volume b\nend-volume\n']]);
    const first = volfilesToSend(read, new Map());
    expect(first.map((v) => v.Name)).toEqual(['berth-fs-1', 'berth-fs-2']);
    expect(first[0]).toEqual({ Name: 'berth-fs-1', Volfile: read.get('berth-fs-1'), Checksum: volfileChecksum(read.get('berth-fs-1')!) });
    const sent = new Map(first.map((v) => [v.Name, v.Checksum]));
    expect(volfilesToSend(read, sent)).toEqual([]);
    read.set('berth-fs-2', 'volume b\n option password p2\nend-volume\n');
    expect(volfilesToSend(read, sent).map((v) => v.Name)).toEqual(['berth-fs-2']);
  });

  it("reads whether `gluster volume get` says root squash is on", () => {
    expect(rootSquashIsOn('Option                                  Value                                   \n------                                  -----                                   \nserver.root-squash                      on                                      \n')).toBe(true);
    expect(rootSquashIsOn('Option Value\n------ -----\nserver.root-squash                      off\n')).toBe(false);
    expect(rootSquashIsOn('volume get option failed')).toBe(false);
  });
});
