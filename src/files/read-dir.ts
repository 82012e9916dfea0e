import { readdir } from 'node:fs/promises';

/** The names in directory `dir`, or none when it does not exist (yet, or any more). */
export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
