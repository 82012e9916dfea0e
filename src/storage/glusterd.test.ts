import { describe, expect, it } from 'vitest';
import { parseVolumeInfo } from './glusterd.js';

describe('parseVolumeInfo', () => {
  it("reads each volume's name and whether it is started", () => {
    const text = ['', 'Volume Name: berth-fs-1', 'Type: Replicate', 'Volume ID: 7c1a', 'Status: Started', 'Bricks:', '', 'Volume Name: berth-fs-2', 'Type: Distribute', 'Status: Created', ''].join('\n');
    expect(parseVolumeInfo(text)).toEqual([
      { name: 'berth-fs-1', started: true },
      { name: 'berth-fs-2', started: false },
    ]);
    expect(parseVolumeInfo('No volumes present\n')).toEqual([]);
  });
});
