/**
 * Writes one layer's tar entries into its own directory in overlayfs form, so that layer directories stack
 * as overlay lowerdirs: OCI whiteouts (`.wh.<name>`) become 0:0 character devices, opaque markers
 * (`.wh..wh..opq`) become the `trusted.overlay.opaque=y` xattr. Ownership, modes (setuid included),
 * times, symlinks, hardlinks, devices and FIFOs are kept.
 *
 * Safety: the directory starts empty and only this writer fills it, so it remembers what each path it made
 * is. An entry is written only below directories it made itself — never through a symlink or a file —
 * and `..` is refused, so no entry can land outside the layer directory.
 *
 * All file-system work is asynchronous (libuv's thread pool): a layer of thousands of files never holds
 * the agent's event loop, whose heartbeats and other tasks' steps go on while it unpacks. Entries are
 * still written one at a time, in order (the kinds map relies on it).
 */
import { chmod, lchown, link, lutimes, mkdir, open, rm, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReadEntry } from 'tar';
import { runCommand } from './command.js';
import {
  UnsafeLayerPathError,
  ancestorsOf,
  classifyWhiteout,
  normalizeEntryPath,
  normalizeHardlinkTarget,
} from './layer-paths.js';

/** setfattr(1), from Debian's `attr`: Node cannot set extended attributes. */
export const SETFATTR = 'setfattr';
/** mknod(1): Node cannot make device nodes. */
export const MKNOD = 'mknod';
const OPAQUE_XATTR = 'trusted.overlay.opaque';
/** Paths per mknod/setfattr invocation: far below the kernel's argument-length limit. */
const BATCH = 200;

type Kind = 'dir' | 'other';

export class LayerWriter {
  /** What this writer made at each layer-relative path; `''` is the layer root. */
  private readonly kinds = new Map<string, Kind>([['', 'dir']]);
  private readonly dirTimes = new Map<string, Date>();
  private readonly whiteouts = new Set<string>();
  private readonly opaques = new Set<string>();
  /** Entries written (whiteouts included). */
  entries = 0;

  private rootReady = false;

  constructor(private readonly root: string) {}

  /** Write one entry; consumes its data. */
  async write(entry: ReadEntry): Promise<void> {
    await this.ensureRoot();
    this.entries++;
    const path = normalizeEntryPath(entry.path);
    const whiteout = classifyWhiteout(path);
    if (whiteout) {
      entry.resume();
      if (whiteout.kind === 'whiteout') this.whiteouts.add(whiteout.path);
      else if (whiteout.kind === 'opaque') this.opaques.add(whiteout.dir);
      return;
    }
    const mode = entry.mode;
    const uid = entry.uid ?? 0;
    const gid = entry.gid ?? 0;
    switch (entry.type) {
      case 'Directory':
      case 'GNUDumpDir': {
        entry.resume();
        const abs = this.abs(path);
        if (!(await this.prepare(path, true))) await mkdir(abs, 0o700);
        this.kinds.set(path, 'dir');
        await lchown(abs, uid, gid);
        await chmod(abs, mode ?? 0o755);
        if (entry.mtime) this.dirTimes.set(path, entry.mtime);
        return;
      }
      case 'File':
      case 'OldFile':
      case 'ContiguousFile':
        return this.file(path, entry, uid, gid, mode ?? 0o644);
      case 'SymbolicLink': {
        entry.resume();
        if (!entry.linkpath) throw new UnsafeLayerPathError(`symlink "${entry.path}" has no target`);
        await this.prepare(path, false);
        const abs = this.abs(path);
        await symlink(entry.linkpath, abs);
        this.kinds.set(path, 'other');
        await lchown(abs, uid, gid);
        if (entry.mtime) await lutimes(abs, entry.mtime, entry.mtime);
        return;
      }
      case 'Link': {
        entry.resume();
        const target = normalizeHardlinkTarget(entry.linkpath ?? '');
        // Only to something this layer already holds, reached through real directories (see the class note).
        if (this.kinds.get(target) !== 'other') {
          throw new UnsafeLayerPathError(`hardlink "${entry.path}" points to "${entry.linkpath}", which is not an earlier file of this layer`);
        }
        await this.prepare(path, false);
        await link(this.abs(target), this.abs(path));
        this.kinds.set(path, 'other');
        return;
      }
      case 'CharacterDevice':
      case 'BlockDevice':
      case 'FIFO': {
        entry.resume();
        await this.prepare(path, false);
        const abs = this.abs(path);
        const perm = ((mode ?? 0o644) & 0o777).toString(8);
        const type = entry.type === 'FIFO' ? ['p'] : [entry.type === 'CharacterDevice' ? 'c' : 'b', String(entry.header.devmaj ?? 0), String(entry.header.devmin ?? 0)];
        await runCommand(MKNOD, ['-m', perm, abs, ...type]);
        this.kinds.set(path, 'other');
        await lchown(abs, uid, gid);
        return;
      }
      default:
        // Tar types with no meaning in a root filesystem (volume labels, multi-volume continuations).
        entry.resume();
    }
  }

  /** Apply whiteouts and opaque markers, then directory times (last, since both change directories). */
  async finish(): Promise<void> {
    await this.ensureRoot();
    const devices: string[] = [];
    for (const path of this.whiteouts) {
      // The layer's own entry at that path wins over its whiteout (OCI: whiteouts hide lower layers only);
      // a directory that replaces a deleted one must not merge with the old one's contents: opaque.
      const own = this.kinds.get(path);
      if (own === 'dir') this.opaques.add(path);
      if (own !== undefined) continue;
      await this.prepare(path, false);
      devices.push(this.abs(path));
      this.kinds.set(path, 'other');
    }
    for (let i = 0; i < devices.length; i += BATCH) {
      // One shell per batch instead of one mknod per whiteout; paths travel as arguments, never as script.
      await runCommand('/bin/sh', ['-c', 'for p do mknod "$p" c 0 0 || exit 1; done', 'sh', ...devices.slice(i, i + BATCH)]);
    }
    const opaque: string[] = [];
    for (const dir of this.opaques) {
      if (!(await this.prepare(dir, true))) await mkdir(this.abs(dir), 0o755);
      this.kinds.set(dir, 'dir');
      opaque.push(this.abs(dir));
    }
    for (let i = 0; i < opaque.length; i += BATCH) {
      await runCommand(SETFATTR, ['-n', OPAQUE_XATTR, '-v', 'y', ...opaque.slice(i, i + BATCH)]);
    }
    const deepestFirst = [...this.dirTimes].sort((a, b) => b[0].split('/').length - a[0].split('/').length);
    for (const [path, mtime] of deepestFirst) await utimes(this.abs(path), mtime, mtime);
  }

  /** The layer root's mode, set once before the first entry (the directory was made with the umask's). */
  private async ensureRoot(): Promise<void> {
    if (this.rootReady) return;
    await chmod(this.root, 0o755);
    this.rootReady = true;
  }

  private async file(path: string, entry: ReadEntry, uid: number, gid: number, mode: number): Promise<void> {
    await this.prepare(path, false);
    this.kinds.set(path, 'other');
    const file = await open(this.abs(path), 'wx', 0o600);
    try {
      // A failed unpack destroys the entry being written (layer-unpack.ts). If that happens while this
      // writer awaits a file operation, the iterator's next read would wait for ever (a destroyed stream never
      // emits again, and minipass's iterator only hears of a destroy that comes while it waits): so the check
      // before the first read and after every write, with no await between it and the read.
      if (entry.destroyed) throw new Error(`tar entry "${path}": stream destroyed`);
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        let offset = 0;
        while (offset < chunk.length) offset += (await file.write(chunk, offset)).bytesWritten;
        if (entry.destroyed) throw new Error(`tar entry "${path}": stream destroyed`);
      }
      await file.chown(uid, gid);
      // After chown, which clears setuid/setgid bits.
      await file.chmod(mode);
      if (entry.mtime) await file.utimes(entry.atime ?? entry.mtime, entry.mtime);
    } finally {
      await file.close();
    }
  }

  /**
   * Make `path`'s parents real directories (creating missing ones as root-owned 0755) and clear whatever
   * an earlier entry left at `path`. Returns true when `path` is already a directory and `isDir` keeps it.
   */
  private async prepare(path: string, isDir: boolean): Promise<boolean> {
    for (const ancestor of ancestorsOf(path)) {
      const kind = this.kinds.get(ancestor);
      if (kind === 'other') {
        throw new UnsafeLayerPathError(`tar entry "${path}": "${ancestor}" is a file or symlink in this layer, not a directory`);
      }
      if (kind === undefined) {
        await mkdir(this.abs(ancestor), 0o755);
        this.kinds.set(ancestor, 'dir');
      }
    }
    const existing = this.kinds.get(path);
    if (path === '') {
      if (!isDir) throw new UnsafeLayerPathError('tar entry for the layer root is not a directory');
      return true;
    }
    if (existing === 'dir' && isDir) return true;
    if (existing !== undefined) {
      // A later entry replaces an earlier one (tar semantics); a replaced directory takes its contents along.
      await rm(this.abs(path), { recursive: true, force: true });
      this.kinds.delete(path);
      if (existing === 'dir') {
        const prefix = `${path}/`;
        for (const key of [...this.kinds.keys()]) if (key.startsWith(prefix)) this.kinds.delete(key);
        for (const key of [...this.dirTimes.keys()]) if (key === path || key.startsWith(prefix)) this.dirTimes.delete(key);
      }
    }
    return false;
  }

  private abs(path: string): string {
    return path === '' ? this.root : join(this.root, path);
  }
}
