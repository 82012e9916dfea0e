import { access, constants, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { release } from 'node:os';
import { RuntimeError } from '../errors.js';
import { capabilitiesFromMask } from './capabilities.js';
import type { HostCgroups } from './cgroups.js';
import { goArch, parseSeccompProfile, unsupportedCompatArches } from './seccomp.js';
import type { OciSpecOptions } from './to-oci-spec.js';

/** Docker's default seccomp profile as Debian's golang-github-containers-common installs it. */
export const DEFAULT_SECCOMP_PROFILE = '/usr/share/containers/seccomp.json';
/** The static tini from Debian's `tini` package: an init that needs nothing from the image. */
export const DEFAULT_INIT_BINARY = '/usr/bin/tini-static';

/** The runtime's settings that shape every container's spec. */
export interface HostSpecSettings {
  readonly cgroupParent: string;
  /** A Docker-format seccomp profile; null runs containers without seccomp. */
  readonly seccompProfile: string | null;
  /** A static init binary; used only when a container asks for an init, so it may be absent otherwise. */
  readonly initBinary: string;
}

/** The kernel's major.minor from a release string like `6.1.0-18-amd64`. */
export function kernelVersion(text: string): { major: number; minor: number } {
  const m = /^(\d+)\.(\d+)/.exec(text);
  return { major: Number(m?.[1] ?? 0), minor: Number(m?.[2] ?? 0) };
}

/**
 * What this host contributes to every container's spec, read once: the seccomp profile (checked, with a
 * clear error naming the file), the kernel and CPU, swap accounting, the capabilities the agent can grant
 * (its own bounding set), and whether the init binary exists.
 */
export async function loadHostSpecOptions(settings: HostSpecSettings, cgroups: HostCgroups): Promise<OciSpecOptions> {
  let seccomp: OciSpecOptions['seccomp'];
  if (settings.seccompProfile !== null) {
    let text: string;
    try {
      text = await readFile(settings.seccompProfile, 'utf8');
    } catch (error) {
      throw new RuntimeError(`seccomp profile ${settings.seccompProfile} cannot be read (${(error as Error).message}); install Debian's golang-github-containers-common or configure another profile`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new RuntimeError(`seccomp profile ${settings.seccompProfile} is not JSON: ${(error as Error).message}`);
    }
    seccomp = {
      profile: parseSeccompProfile(json, settings.seccompProfile),
      arch: goArch(process.arch),
      kernel: kernelVersion(release()),
      unsupportedArches: unsupportedCompatArches(await readKernelConfig()),
    };
  }
  const initExists = await access(settings.initBinary, constants.X_OK).then(
    () => true,
    () => false,
  );
  const bounding = /^CapBnd:\s*([0-9a-f]+)$/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1];
  return {
    cgroupParent: settings.cgroupParent,
    ...(bounding ? { availableCapabilities: capabilitiesFromMask(bounding) } : {}),
    ...(seccomp ? { seccomp } : {}),
    ...(initExists ? { initBinary: settings.initBinary } : {}),
    swapAccounting: await cgroups.swapAccounting(),
  };
}

/**
 * The running kernel's build configuration: /proc/config.gz (CONFIG_IKCONFIG_PROC) or Debian's
 * /boot/config-<release>; empty when neither can be read (then nothing is assumed about it).
 */
export async function readKernelConfig(): Promise<string> {
  try {
    return (await promisify(gunzip)(await readFile('/proc/config.gz'))).toString('utf8');
  } catch {
    return readFile(`/boot/config-${release()}`, 'utf8').catch(() => '');
  }
}
