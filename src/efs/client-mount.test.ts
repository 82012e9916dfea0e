import { describe, expect, it } from 'vitest';
import type { AccessPointRecord, FileSystemRecord, MountTargetRecord } from '../state/records/efs.js';
import { mountAnswer, needsTrustedVolfile } from './client-mount.js';

const fs = { id: 'fs-1', lifeCycleState: 'available', volume: 'berth-fs-1' } as FileSystemRecord;
const target = (ip: string) => ({ fileSystemId: 'fs-1', ipAddress: ip }) as MountTargetRecord;
const ap = {
  id: 'fsap-1',
  fileSystemId: 'fs-1',
  posixUser: { Uid: 1000, Gid: 1000 },
  rootDirectory: { Path: '/app', CreationInfo: { OwnerUid: 1000, OwnerGid: 1000, Permissions: '750' } },
} as AccessPointRecord;

describe('ResolveMount', () => {
  it('answers the volume, the mount targets as servers, and the access point to enforce', () => {
    expect(mountAnswer(fs, [target('10.0.0.2'), target('10.0.0.1'), target('10.0.0.2')])).toEqual({ Volume: 'berth-fs-1', Servers: ['10.0.0.1', '10.0.0.2'] });
    expect(mountAnswer(fs, [target('10.0.0.1')], ap).AccessPoint).toEqual({ Uid: 1000, Gid: 1000, Path: '/app', OwnerUid: 1000, OwnerGid: 1000, Permissions: '750' });
  });

  it("refuses as EFS would: not available, no mount target, another file system's access point", () => {
    expect(() => mountAnswer({ ...fs, lifeCycleState: 'creating' }, [target('10.0.0.1')])).toThrow(/creating/);
    expect(() => mountAnswer(fs, [])).toThrow(/no mount targets/);
    expect(() => mountAnswer(fs, [target('10.0.0.1')], { ...ap, fileSystemId: 'fs-2' })).toThrow(/belongs to file system 'fs-2'/);
  });

  it("hands the volume's root-access credentials for ClientRootAccess, or to make an access point's root directory", () => {
    expect(needsTrustedVolfile(true, undefined)).toBe(true);
    expect(needsTrustedVolfile(false, undefined)).toBe(false);
    expect(needsTrustedVolfile(false, ap)).toBe(true);
    expect(needsTrustedVolfile(false, { ...ap, rootDirectory: { Path: '/app' } })).toBe(false);
  });
});
