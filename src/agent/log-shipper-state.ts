import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogSource } from './task-engine/deps.js';
import type { CriMark } from './log-shipper-cri.js';

/** What the shipper keeps per container: enough to carry on after an agent restart. */
export interface ShippedState {
  readonly source: LogSource;
  /** The last event the control plane acknowledged, by its place in the file; none yet when absent. */
  readonly mark?: CriMark;
  /** Where to start reading again to rebuild every event after `mark`. */
  readonly resume: number;
}

/**
 * One small JSON file per container under the shipper's directory, replaced atomically (write, fsync,
 * rename) after every acknowledged batch, so a crash leaves either the old or the new state.
 */
export class ShippedStateFiles {
  constructor(private readonly dir: string) {}

  private file(runtimeId: string): string {
    return join(this.dir, `${encodeURIComponent(runtimeId)}.json`);
  }

  async load(runtimeId: string): Promise<ShippedState | undefined> {
    try {
      return JSON.parse(await readFile(this.file(runtimeId), 'utf8')) as ShippedState;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Every saved state (containers followed before a restart). Unreadable files are skipped. */
  async all(): Promise<ShippedState[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: ShippedState[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const state = await this.load(decodeURIComponent(name.slice(0, -'.json'.length))).catch(() => undefined);
      if (state?.source?.runtimeId) out.push(state);
    }
    return out;
  }

  async save(state: ShippedState): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const target = this.file(state.source.runtimeId);
    const temp = `${target}.tmp`;
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(state));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  }

  async remove(runtimeId: string): Promise<void> {
    await rm(this.file(runtimeId), { force: true });
  }
}
