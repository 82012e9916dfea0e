import type { RegisterTaskDefinitionRequest, Volume } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { validateTaskDefinition } from './validate.js';

const withVolume = (efsVolumeConfiguration: Volume['efsVolumeConfiguration']): RegisterTaskDefinitionRequest => ({
  family: 'f',
  volumes: [{ name: 'v', efsVolumeConfiguration }],
  containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64, mountPoints: [{ sourceVolume: 'v', containerPath: '/data' }] }],
});
const ap = 'fsap-0123456789abcdef0';

describe("ECS's registration rules for EFS volumes", () => {
  it('needs transit encryption for IAM authorization and for an access point, naming the field', () => {
    expect(() => validateTaskDefinition(withVolume({ fileSystemId: 'fs-1', authorizationConfig: { iam: 'ENABLED' } }))).toThrow(
      /Volume 'v': efsVolumeConfiguration.transitEncryption must be ENABLED when authorizationConfig.iam is ENABLED/,
    );
    expect(() => validateTaskDefinition(withVolume({ fileSystemId: 'fs-1', transitEncryption: 'DISABLED', authorizationConfig: { accessPointId: ap } }))).toThrow(
      /transitEncryption must be ENABLED when authorizationConfig.accessPointId is specified/,
    );
    expect(() => validateTaskDefinition(withVolume({ fileSystemId: 'fs-1', transitEncryption: 'ENABLED', authorizationConfig: { iam: 'ENABLED', accessPointId: ap } }))).not.toThrow();
    expect(() => validateTaskDefinition(withVolume({ fileSystemId: 'fs-1', authorizationConfig: { iam: 'DISABLED' } }))).not.toThrow();
  });

  it("keeps an access point's root directory: rootDirectory omitted or '/'", () => {
    const base = { fileSystemId: 'fs-1', transitEncryption: 'ENABLED' as const, authorizationConfig: { accessPointId: ap } };
    expect(() => validateTaskDefinition(withVolume({ ...base, rootDirectory: '/data' }))).toThrow(
      'Invalid request provided: Create TaskDefinition: When using an EFS access point, the root directory must either be set to "/" or be omitted.',
    );
    expect(() => validateTaskDefinition(withVolume({ ...base, rootDirectory: '/' }))).not.toThrow();
    expect(() => validateTaskDefinition(withVolume(base))).not.toThrow();
    expect(() => validateTaskDefinition(withVolume({ ...base, transitEncryptionPort: 70_000 }))).toThrow(/transitEncryptionPort must be a port/);
  });
});
