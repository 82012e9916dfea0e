import { RegistryError } from '../model/registry/errors.js';
import { checkRepositoryName } from '../model/registry/names.js';
import { keys } from '../state/keys.js';
import type { RepositoryRecord } from '../state/records/registry.js';
import type { Store } from '../store/store.js';
import { transact, type Tx } from '../store/transact.js';
import { parseRepositoryRecord } from '../state/records/registry.js';

/** NAME_UNKNOWN for a repository that does not exist (or is being deleted). */
export const repositoryUnknown = (name: string) =>
  new RegistryError('NAME_UNKNOWN', `repository '${name}' not found; create it first (aws ecr create-repository)`, { name });

/**
 * The repository record, read inside a transaction so that a concurrent DeleteRepository (which writes
 * it) conflicts with the caller's writes. Throws NAME_INVALID or NAME_UNKNOWN.
 */
export async function requireRepository(tx: Pick<Tx, "getRecord">, name: string): Promise<RepositoryRecord> {
  checkRepositoryName(name);
  const record = await tx.getRecord(parseRepositoryRecord, keys.repository(name));
  if (!record || record.deleting !== undefined) throw repositoryUnknown(name);
  return record;
}

/** Every prefix under which a repository keeps records besides its own record. */
function contentPrefixes(name: string): string[] {
  return [keys.manifestsOf(name), keys.tagsOf(name), keys.blobLinksOf(name), keys.referrersIn(name)];
}

/** True when the repository holds at least one image. */
export async function hasImages(store: Store, name: string): Promise<boolean> {
  return (await store.range(keys.manifestsOf(name), { limit: 1 })).entries.length > 0;
}

/**
 * Remove a repository and everything in it. First the record is marked `deleting` (so every later push
 * is refused), then its images, tags, links, referrers and policies go with the record in one
 * transaction. `ifEmpty` refuses (and unmarks) when images remain once no push can add more. Blobs are
 * left to garbage collection. Also used to finish a deletion a crash interrupted.
 */
export async function purgeRepository(
  store: Store,
  name: string,
  options: { readonly ifEmpty: boolean; readonly now: number },
): Promise<RepositoryRecord> {
  const record = await transact(store, async (tx) => {
    const current = await tx.getRecord(parseRepositoryRecord, keys.repository(name));
    if (!current) throw repositoryUnknown(name);
    if (current.deleting === undefined) tx.putJson(keys.repository(name), { ...current, deleting: options.now } satisfies RepositoryRecord);
    return current;
  });
  if (options.ifEmpty && (await hasImages(store, name))) {
    await transact(store, async (tx) => {
      const current = await tx.getRecord(parseRepositoryRecord, keys.repository(name));
      if (current?.deleting !== undefined) {
        const { deleting: _deleting, ...rest } = current;
        tx.putJson(keys.repository(name), rest);
      }
    });
    throw new RegistryError('DENIED', `repository '${name}' still holds images`, { name }, 'not-empty');
  }
  const doomed: string[] = [];
  for (const prefix of contentPrefixes(name)) {
    for (let after: string | undefined; ; ) {
      const page = await store.range(prefix, { after, limit: 1000 });
      for (const entry of page.entries) doomed.push(entry.key);
      if (!page.more) break;
      after = page.entries.at(-1)!.key;
    }
  }
  await store.txn([], [
    ...doomed.map((key) => ({ type: 'delete' as const, key })),
    { type: 'delete', key: keys.lifecyclePolicy(name) },
    { type: 'delete', key: keys.lifecyclePreview(name) },
    { type: 'delete', key: keys.repository(name) },
  ]);
  const { deleting: _deleting, ...rest } = record;
  return rest;
}
