/**
 * How a container's process is derived from its image's config and its ECS container definition, as
 * Docker derives it (moby's daemon merge, runc's user lookup): pure functions over the image config, the
 * definition's overrides and the text of the rootfs's /etc/passwd and /etc/group.
 */
import { InvalidContainerSpecError } from './errors.js';
import type { ContainerSpec } from './runtime.js';

/** The parts of an OCI image config (`config` object) that set a container's defaults. */
export interface ImageProcessDefaults {
  readonly Env?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Entrypoint?: readonly string[] | null;
  readonly WorkingDir?: string;
  readonly User?: string;
}

/** What an ECS container definition overrides (its own field names). */
export interface ProcessOverrides {
  readonly entryPoint?: readonly string[];
  readonly command?: readonly string[];
  readonly environment?: readonly { readonly name: string; readonly value: string }[];
  readonly workingDirectory?: string;
  /** `name`, `uid`, `uid:gid`, `name:group`, `uid:group`, `name:gid`. */
  readonly user?: string;
  /** Docker puts HOSTNAME in the environment when it sets one. */
  readonly hostname?: string;
}

/** The text of the rootfs's /etc/passwd and /etc/group; undefined when the image has none. */
export interface UserDatabase {
  readonly passwd?: string;
  readonly group?: string;
}

/** Docker's PATH when the image sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The process fields of a {@link ContainerSpec} that the image and the definition decide. */
export type ContainerProcess = Pick<ContainerSpec['process'], 'args' | 'env' | 'cwd' | 'uid' | 'gid' | 'additionalGids'>;

const nonEmpty = (list: readonly string[] | null | undefined): list is readonly string[] => !!list && list.length > 0;

/**
 * The command line: `entryPoint` replaces the image's ENTRYPOINT and `command` its CMD. As in Docker, an
 * `entryPoint` of its own also discards the image's CMD (it was written for the image's entrypoint).
 */
export function argsFromImage(image: ImageProcessDefaults, overrides: ProcessOverrides): string[] {
  const args = nonEmpty(overrides.entryPoint)
    ? [...overrides.entryPoint, ...(overrides.command ?? [])]
    : [...(image.Entrypoint ?? []), ...(nonEmpty(overrides.command) ? overrides.command : (image.Cmd ?? []))];
  if (args.length === 0) {
    throw new InvalidContainerSpecError('no command: the image has neither ENTRYPOINT nor CMD, and the container definition sets neither entryPoint nor command');
  }
  return args;
}

function envName(entry: string): string {
  const i = entry.indexOf('=');
  return i < 0 ? entry : entry.slice(0, i);
}

/** Replace entries of `base` whose name `extra` sets, append the rest; order is kept. */
function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const result = [...base];
  for (const entry of extra) {
    const name = envName(entry);
    const i = result.findIndex((e) => envName(e) === name);
    if (i >= 0) result[i] = entry;
    else result.push(entry);
  }
  return result;
}

/** PATH (Docker's default unless the image sets one), HOSTNAME, the image's Env, then the definition's `environment`. */
export function envFromImage(image: ImageProcessDefaults, overrides: ProcessOverrides): string[] {
  const own = (overrides.environment ?? []).map((kv, i) => {
    if (!kv.name || kv.name.includes('=')) throw new InvalidContainerSpecError(`environment[${i}].name ${JSON.stringify(kv.name)} is not a variable name`);
    return `${kv.name}=${kv.value}`;
  });
  const daemon = [`PATH=${DEFAULT_PATH}`, ...(overrides.hostname ? [`HOSTNAME=${overrides.hostname}`] : [])];
  return mergeEnv(daemon, mergeEnv(image.Env ?? [], own));
}

interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

const isId = (s: string) => /^\d+$/.test(s) && Number(s) <= 2 ** 32 - 2;

/** Entries of a colon-separated file; malformed lines are skipped, as libc does. */
function records(text: string | undefined, fields: number): string[][] {
  return (text ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'))
    .filter((parts) => parts.length >= fields);
}

/** /etc/passwd entries (name, uid, gid). */
export function parsePasswd(text: string | undefined): PasswdEntry[] {
  return records(text, 4)
    .filter((p) => isId(p[2]!) && isId(p[3]!))
    .map((p) => ({ name: p[0]!, uid: Number(p[2]), gid: Number(p[3]) }));
}

/** /etc/group entries (name, gid, members). */
export function parseGroup(text: string | undefined): GroupEntry[] {
  return records(text, 3)
    .filter((p) => isId(p[2]!))
    .map((p) => ({ name: p[0]!, gid: Number(p[2]), members: (p[3] ?? '').split(',').filter(Boolean) }));
}

/**
 * uid, gid and supplementary groups for a Docker-style user string, looked up in the image's files as
 * runc does: a name must exist in /etc/passwd; a number need not (its gid is then 0 unless given); a
 * group name must exist in /etc/group; without an explicit group the user also gets every group that
 * lists it as a member.
 */
export function resolveUser(user: string | undefined, db: UserDatabase): Pick<ContainerProcess, 'uid' | 'gid' | 'additionalGids'> {
  const spec = (user ?? '').trim();
  const [userPart = '', groupPart, ...rest] = spec === '' ? ['root'] : spec.split(':');
  if (rest.length > 0 || userPart === '' || groupPart === '') throw new InvalidContainerSpecError(`user ${JSON.stringify(spec)} must be name, uid, name:group or uid:gid`);
  const passwd = parsePasswd(db.passwd);
  const entry = isId(userPart) ? passwd.find((p) => p.uid === Number(userPart)) : passwd.find((p) => p.name === userPart);
  if (!entry && !isId(userPart)) {
    if (userPart === 'root' && spec === '') return { uid: 0, gid: 0 };
    throw new InvalidContainerSpecError(`unable to find user ${userPart}: no matching entries in passwd file`);
  }
  const uid = entry?.uid ?? Number(userPart);
  let gid = entry?.gid ?? 0;
  const groups = parseGroup(db.group);
  if (groupPart !== undefined) {
    if (isId(groupPart)) gid = Number(groupPart);
    else {
      const group = groups.find((g) => g.name === groupPart);
      if (!group) throw new InvalidContainerSpecError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = group.gid;
    }
    return { uid, gid };
  }
  const additionalGids = entry ? [...new Set(groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid))].filter((g) => g !== gid) : [];
  return { uid, gid, ...(additionalGids.length > 0 ? { additionalGids } : {}) };
}

/** The container's process from its image's defaults and its definition's overrides. */
export function processFromImage(image: ImageProcessDefaults, overrides: ProcessOverrides, db: UserDatabase): ContainerProcess {
  const cwd = overrides.workingDirectory || image.WorkingDir || '/';
  if (!cwd.startsWith('/')) throw new InvalidContainerSpecError(`working directory ${JSON.stringify(cwd)} must be an absolute path`);
  return {
    args: argsFromImage(image, overrides),
    env: envFromImage(image, overrides),
    cwd,
    ...resolveUser(overrides.user || image.User, db),
  };
}
