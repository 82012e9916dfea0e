import { describe, expect, it } from 'vitest';
import { container, task } from '../testing/task-fixtures.js';
import { containerMounts, volumesUsed } from './volumes.js';

const resolved = new Map([
  ['a', '/v/a'],
  ['b', '/v/b'],
]);

describe('container mounts', () => {
  it('map mount points onto resolved volumes and inherit volumesFrom, read-only when either says so', () => {
    const source = container('source', { mountPoints: [{ sourceVolume: 'a', containerPath: '/a' }, { sourceVolume: 'b', containerPath: '/b', readOnly: true }] });
    const user = container('user', { volumesFrom: [{ sourceContainer: 'source', readOnly: true }], mountPoints: [{ sourceVolume: 'b', containerPath: '/a' }] });
    const t = task([source, user]);
    expect(containerMounts(user, t, resolved)).toEqual([
      { destination: '/a', source: '/v/b', type: 'bind', readOnly: false },
      { destination: '/b', source: '/v/b', type: 'bind', readOnly: true },
    ]);
    expect([...volumesUsed(user, t)].sort()).toEqual(['a', 'b']);
  });

  it('follow volumesFrom chains without looping on a cycle', () => {
    const x = container('x', { volumesFrom: [{ sourceContainer: 'y' }], mountPoints: [{ sourceVolume: 'a', containerPath: '/x' }] });
    const y = container('y', { volumesFrom: [{ sourceContainer: 'x' }], mountPoints: [{ sourceVolume: 'b', containerPath: '/y' }] });
    const t = task([x, y]);
    expect(containerMounts(x, t, resolved).map((m) => m.destination)).toEqual(['/x', '/y']);
    expect([...volumesUsed(y, t)].sort()).toEqual(['a', 'b']);
  });

  it('name the mount point whose volume the task lacks', () => {
    const c = container('c', { mountPoints: [{ sourceVolume: 'z', containerPath: '/z' }] });
    expect(() => containerMounts(c, task([c]), resolved)).toThrow("mount point '/z' names volume 'z', which the task does not define");
  });
});
