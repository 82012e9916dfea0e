/**
 * The volumes' root-access credentials on the control plane (docs/storage.md, "Root squash"). Every volume squashes
 * root (`server.root-squash on`); a client holding the volume's trusted client volfile (its `auth.login`
 * username/password) and mounting with `--no-root-squash` is exempt. The pool leader sends each volume's trusted
 * volfile with its report (storage/trusted-volfiles.ts); it is kept here sealed with the server's key ring
 * (identity/sealer.ts, the record's key as context, as the mount CA's key is), so a copy of the store holds no
 * credentials, and opened only for ResolveMount of a mount that may act as root (client-mount.ts). Never logged.
 */
import { createHash } from 'node:crypto';
import type { Sealer } from '../identity/sealer.js';
import { efsKeys as k } from '../state/efs-keys.js';
import { parseFileSystemRecord, parseTrustedVolfileRecord, type TrustedVolfileRecord } from '../state/records/efs.js';
import type { Store } from '../store/store.js';
import { readRecord, transact } from '../store/transact.js';
import { efsErrors } from './errors.js';
import { fileSystemIdOfVolume } from './ids.js';

/** A volfile as the pool leader sends it. */
export interface ReportedVolfile {
  readonly Name: string;
  readonly Volfile: string;
}

/**
 * Keep the pool leader's volfiles, sealed, each for a file system that still exists (a volume being deleted is not
 * recorded again); an unchanged volfile is not rewritten.
 */
export async function keepTrustedVolfiles(store: Store, sealer: Sealer, volfiles: readonly ReportedVolfile[], now: number): Promise<void> {
  for (const { Name: volume, Volfile: text } of volfiles) {
    const fileSystemId = fileSystemIdOfVolume(volume);
    if (fileSystemId === undefined) continue;
    const checksum = createHash('sha256').update(text).digest('hex');
    await transact(store, async (tx) => {
      const fs = await tx.getRecord(parseFileSystemRecord, k.fileSystem(fileSystemId));
      if (!fs || fs.volume !== volume) return;
      const previous = await tx.getRecord(parseTrustedVolfileRecord, k.trustedVolfile(volume));
      if (previous?.checksum === checksum) return;
      const record: TrustedVolfileRecord = { volume, sealedVolfile: sealer.seal(text, k.trustedVolfile(volume)), checksum, updatedAt: now };
      tx.putJson(k.trustedVolfile(volume), record);
    });
  }
}

/**
 * The trusted volfile of `volume`, opened; IncorrectMountTargetState while the pool leader has not reported it yet
 * (a volume started a tick ago, or by a storage host older than root squash): the agent asks again.
 */
export async function openTrustedVolfile(store: Store, sealer: Sealer, volume: string): Promise<string> {
  const record = await readRecord(store, parseTrustedVolfileRecord, k.trustedVolfile(volume));
  if (!record) throw efsErrors.incorrectMountTargetState(`The storage hosts have not reported the root-access credentials of volume '${volume}' yet; try again.`);
  return sealer.open(record.sealedVolfile, k.trustedVolfile(volume)).toString('utf8');
}
