/**
 * The mount options of an overlay (`lowerdir=…,upperdir=…,workdir=…`), for whoever mounts it: the image
 * service on the host (image/overlay.ts) or the runtime inside the container (ContainerSpec.rootfsOverlay).
 * Pure.
 */

/** The kernel copies at most one page of mount data; the option string must fit with its terminator. */
export const MAX_MOUNT_OPTIONS = 4095;

/** The overlay's option string; throws when a path cannot be carried or the string does not fit the kernel's limit. */
export function overlayOptionString(lowerdirs: readonly string[], upperdir: string, workdir: string): string {
  if (lowerdirs.length === 0) throw new Error('an overlay needs at least one lower directory');
  for (const p of [...lowerdirs, upperdir, workdir]) {
    // The option syntax has no escaping that mount(8) and the kernel agree on: refuse rather than misparse.
    if (/[,:\\\s]/.test(p)) throw new Error(`overlay path "${p}" contains a character the mount options cannot carry`);
  }
  const options = `lowerdir=${lowerdirs.join(':')},upperdir=${upperdir},workdir=${workdir}`;
  if (options.length > MAX_MOUNT_OPTIONS) {
    throw new Error(`overlay of ${lowerdirs.length} layers needs ${options.length} bytes of mount options; the kernel takes ${MAX_MOUNT_OPTIONS}`);
  }
  return options;
}
