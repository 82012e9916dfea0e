import { describe, expect, it } from 'vitest';
import { glusterdScript, parseVolumeInfo } from './glusterd.js';

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

describe('glusterdScript', () => {
  it("binds the state directories and the management TLS identity at /usr/lib/ssl, then runs glusterd", () => {
    expect(glusterdScript('/s/h 1', '/s/h 1/glusterd.pid').split(' && ')).toEqual([
      "mount --bind '/s/h 1/lib' /var/lib/glusterd",
      "mount --bind '/s/h 1/run' /run",
      "mount --bind '/s/h 1/log' /var/log/glusterfs",
      "mount --bind '/s/h 1/ssl' /usr/lib/ssl",
      "exec glusterd -N -p '/s/h 1/glusterd.pid' --log-file='/s/h 1/log/glusterd.log'",
    ]);
  });
});
