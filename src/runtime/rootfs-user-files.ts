import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { UserDatabase } from './process-from-image.js';

/**
 * Read `/etc/passwd` and `/etc/group` of a container's root filesystem for user lookup. A file that is a
 * symlink, or whose directory resolves outside the rootfs, counts as absent: following it would read the
 * host's files instead of the image's.
 */
export async function readUserDatabase(rootfs: string): Promise<UserDatabase> {
  const root = await realpath(rootfs);
  let etc: string;
  try {
    etc = await realpath(join(root, 'etc'));
  } catch {
    return {};
  }
  if (etc !== join(root, 'etc')) return {};
  const [passwd, group] = await Promise.all([readPlain(join(etc, 'passwd')), readPlain(join(etc, 'group'))]);
  return { ...(passwd !== undefined ? { passwd } : {}), ...(group !== undefined ? { group } : {}) };
}

/** The file's text, or undefined if it is missing, a symlink or not a regular file. */
async function readPlain(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    if (!(await handle.stat()).isFile()) return undefined;
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
