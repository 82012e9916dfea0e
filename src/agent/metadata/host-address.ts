/**
 * Makes the metadata address local to the host, as ECS's agent does for 169.254.170.2: a /32 on the
 * loopback interface of the agent's network namespace. Bridge-mode containers reach it through their
 * default route (the bridge's gateway address is the host, which delivers to its own local address);
 * host-mode containers share the namespace and reach it directly.
 *
 * Only link-local addresses (169.254.0.0/16) are added: any other address must already be the host's,
 * so that a mistyped setting never captures traffic meant for a real machine elsewhere.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { MetadataAddressError } from './errors.js';

export type RunCommand = (file: string, args: readonly string[]) => Promise<void>;

const runIp: RunCommand = (file, args) =>
  new Promise((resolve, reject) =>
    execFile(file, [...args], { timeout: 10_000 }, (error, _stdout, stderr) =>
      error ? reject(Object.assign(error, { stderr: String(stderr) })) : resolve(),
    ),
  );

const isLinkLocal = (host: string) => host.startsWith('169.254.');
const isHostAddress = (host: string) =>
  host === '0.0.0.0' ||
  Object.values(os.networkInterfaces()).some((addresses) => addresses?.some((a) => a.family === 'IPv4' && a.address === host));

/**
 * Ensure `host` is an address of this network namespace: nothing to do when it already is; a link-local
 * one is added to `lo` (idempotent: "File exists" from a concurrent agent or an earlier run is fine).
 */
export async function ensureLocalAddress(host: string, run: RunCommand = runIp, isLocal: (host: string) => boolean = isHostAddress): Promise<void> {
  if (isLocal(host)) return;
  if (!isLinkLocal(host)) {
    throw new MetadataAddressError(
      `the task metadata address ${host} is not an address of this host; use one of its addresses or a link-local one (169.254.x.x), which the agent adds to lo`,
    );
  }
  try {
    await run('ip', ['addr', 'add', `${host}/32`, 'dev', 'lo']);
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '');
    if (/File exists/i.test(stderr)) return;
    throw new MetadataAddressError(`could not add the task metadata address ${host}/32 to lo: ${stderr.trim() || (error as Error).message}`, { cause: error });
  }
}
