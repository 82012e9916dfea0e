import { InvalidContainerSpecError } from '../errors.js';
import type { OciRlimit } from './oci-spec.js';

/** The resource limits Linux has (setrlimit(2)); ECS's ulimit names are these, lower-case, without RLIMIT_. */
export const RLIMIT_TYPES = [
  'RLIMIT_AS', 'RLIMIT_CORE', 'RLIMIT_CPU', 'RLIMIT_DATA', 'RLIMIT_FSIZE', 'RLIMIT_LOCKS', 'RLIMIT_MEMLOCK',
  'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_NOFILE', 'RLIMIT_NPROC', 'RLIMIT_RSS', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
  'RLIMIT_SIGPENDING', 'RLIMIT_STACK',
] as const;

/** RLIM_INFINITY: what -1 (Docker's "unlimited") becomes. */
export const RLIM_INFINITY = 2n ** 64n - 1n;

const known = new Set<string>(RLIMIT_TYPES);

function limitValue(value: number, field: string): bigint {
  if (value === -1) return RLIM_INFINITY;
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidContainerSpecError(`${field} must be a non-negative integer or -1 (unlimited), got ${value}`);
  return BigInt(value);
}

/**
 * OCI rlimits from ECS-style ulimits (`nofile`) or OCI names (`RLIMIT_NOFILE`). Throws
 * {@link InvalidContainerSpecError} for an unknown name, a repeated one, or a soft limit above the hard one.
 */
export function toOciRlimits(limits: readonly { readonly type: string; readonly soft: number; readonly hard: number }[]): OciRlimit[] {
  const seen = new Set<string>();
  return limits.map((limit, i) => {
    const field = `rlimits[${i}]`;
    const upper = limit.type.trim().toUpperCase();
    const type = upper.startsWith('RLIMIT_') ? upper : `RLIMIT_${upper}`;
    if (!known.has(type)) throw new InvalidContainerSpecError(`${field}: unknown ulimit "${limit.type}"`);
    if (seen.has(type)) throw new InvalidContainerSpecError(`${field}: ulimit "${limit.type}" is given more than once`);
    seen.add(type);
    const soft = limitValue(limit.soft, `${field}.soft`);
    const hard = limitValue(limit.hard, `${field}.hard`);
    if (soft > hard) throw new InvalidContainerSpecError(`${field}: soft limit ${limit.soft} is above the hard limit ${limit.hard}`);
    return { type, soft, hard };
  });
}
