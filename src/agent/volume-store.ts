import { access, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Volume } from '@aws-sdk/client-ecs';
import type { EfsMounts } from './efs-mounts.js';
import { VolumeError, type VolumeStore } from './task-engine/volumes.js';

const NAME = /^[a-zA-Z0-9_-]{1,255}$/;

/**
 * Task volumes under `<dataDir>/volumes/tasks/<task id>/<name>`, shared ones under `volumes/shared/<name>`; EFS
 * volumes mounted by `efs` (agent/efs-mounts.ts) when the agent has it.
 */
export class DirectoryVolumeStore implements VolumeStore {
  constructor(
    private readonly root: string,
    private readonly efs?: EfsMounts,
  ) {}

  async resolve(taskId: string, volume: Volume, options: { readonly taskVolumesDir?: string; readonly taskArn?: string } = {}): Promise<string> {
    const name = volume.name ?? '';
    if (!NAME.test(name)) throw new VolumeError(`invalid volume name '${name}'`);
    if (volume.host?.sourcePath) {
      if (!volume.host.sourcePath.startsWith('/')) throw new VolumeError(`volume '${name}': host.sourcePath must be absolute`);
      await mkdir(volume.host.sourcePath, { recursive: true });
      return volume.host.sourcePath;
    }
    if (volume.efsVolumeConfiguration && this.efs) return this.efs.mount(options.taskArn ?? taskId, name, volume.efsVolumeConfiguration);
    const unsupported = ['efsVolumeConfiguration', 'fsxWindowsFileServerVolumeConfiguration', 's3filesVolumeConfiguration'] as const;
    const kind = unsupported.find((k) => volume[k as keyof Volume] !== undefined);
    if (kind) throw new VolumeError(`volume '${name}': ${kind} is not available on berth`);
    const docker = volume.dockerVolumeConfiguration;
    if (docker?.driver && docker.driver !== 'local') throw new VolumeError(`volume '${name}': only the 'local' volume driver is available (got '${docker.driver}')`);
    if (docker?.scope === 'shared') {
      const dir = join(this.root, 'shared', name);
      const exists = await access(dir).then(() => true, () => false);
      if (!exists) {
        if (!docker.autoprovision) {
          throw new VolumeError(`shared volume '${name}' does not exist on this instance (set autoprovision, or create ${dir})`);
        }
        await mkdir(dir, { recursive: true, mode: 0o755 });
      }
      return dir;
    }
    const dir = options.taskVolumesDir ? join(options.taskVolumesDir, name) : join(this.root, 'tasks', taskId, name);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    return dir;
  }

  async removeTaskVolumes(taskId: string): Promise<void> {
    await this.efs?.unmountTask(taskId);
    await rm(join(this.root, 'tasks', taskId), { recursive: true, force: true });
  }
}
