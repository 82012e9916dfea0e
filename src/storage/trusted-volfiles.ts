/**
 * Root squash with a per-client exemption (docs/storage.md, "Root squash"): every volume is served with
 * `server.root-squash on`, and only a client holding the volume's `auth.login` credentials — glusterd's *trusted*
 * client volfile, `trusted-<vol>.tcp-fuse.vol` in its state directory, which differs from the plain one by
 * `option username`/`option password` — and mounting with `--no-root-squash` acts as root on it. The pool leader
 * reads each started volume's trusted volfile and sends it to the control plane, which keeps it sealed and hands it
 * to an agent only for a mount granted elasticfilesystem:ClientRootAccess (efs/trusted-volfiles.ts).
 *
 * A volfile is sent once, and again when its checksum changes (glusterd rewrites it when a client-side option
 * changes), never logged: it holds the credentials.
 */
import { createHash } from 'node:crypto';

/** Set on every volume before its first start, and once on volumes started before root squash existed. */
export const ROOT_SQUASH_OPTION = ['server.root-squash', 'on'] as const;

/** Whether `gluster volume get <vol> server.root-squash`'s table says on (pure). */
export const rootSquashIsOn = (volumeGet: string) => /^server\.root-squash\s+(on|yes|true|enable|1)\b/im.test(volumeGet);

/** The trusted client volfile's name inside glusterd's state (`/var/lib/glusterd/vols/<vol>/…`). */
export const trustedVolfileName = (volume: string) => `trusted-${volume}.tcp-fuse.vol`;

export const volfileChecksum = (text: string) => createHash('sha256').update(text).digest('hex');

export interface VolfileToSend {
  readonly Name: string;
  readonly Volfile: string;
  readonly Checksum: string;
}

/** Of the volfiles read this tick, those whose checksum is not the one last sent for their volume (pure). */
export function volfilesToSend(read: ReadonlyMap<string, string>, sent: ReadonlyMap<string, string>): VolfileToSend[] {
  const out: VolfileToSend[] = [];
  for (const [name, text] of read) {
    const checksum = volfileChecksum(text);
    if (sent.get(name) !== checksum) out.push({ Name: name, Volfile: text, Checksum: checksum });
  }
  return out;
}
