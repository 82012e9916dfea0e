import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, unlinkSync, writeSync } from 'node:fs';

/**
 * Create `path` with `contents` unless it exists; false if it did. The contents go to a private temporary file
 * (O_EXCL, fsynced) that is then hard-linked to `path`: link(2) fails if `path` exists, like O_EXCL, and
 * a reader never sees the file half-written — on a network file system too (the classic NFS lock-file way).
 */
export function createFileExclusively(path: string, contents: string, mode: number): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, contents);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(tmp);
  }
}
