import { open } from 'node:fs/promises';

/**
 * fsync a file or a directory by its path. After writing a file, its own fsync makes the bytes durable;
 * after renaming it into place, the directory's fsync makes the name durable. The registry's blobs and the
 * log service's chunk files both rely on this before they acknowledge a write.
 */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
