/**
 * HAProxy's runtime API over its unix socket (Node `net`): one connection per command batch, as HAProxy's
 * non-interactive mode wants (it answers and closes). Parsers for `show stat` and the mapping of check
 * results to ELBv2's target health reasons live here too.
 */
import { createConnection } from 'node:net';

/** A command the runtime API refused; `output` is its answer. */
export class HaproxyCommandError extends Error {
  override readonly name = 'HaproxyCommandError';
  constructor(
    readonly command: string,
    readonly output: string,
  ) {
    super(`haproxy refused ${JSON.stringify(command)}: ${output.trim()}`);
  }
}

/**
 * Send `commands` (joined with `;`, run in order by HAProxy in one go) to the socket at `path` and
 * resolve with the whole answer. Rejects if the socket cannot be reached or does not answer in `timeoutMs`.
 */
export function runtimeCommand(path: string, commands: string | readonly string[], timeoutMs = 5_000): Promise<string> {
  const line = typeof commands === 'string' ? commands : commands.join(';');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = createConnection(path);
    const timer = setTimeout(() => socket.destroy(new Error(`haproxy socket ${path}: no answer to ${JSON.stringify(line)} in ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => socket.end(`${line}\n`));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** Answers that mean a command did what was asked (HAProxy answers errors in prose, success mostly with nothing). */
const REFUSAL = /^(No such|Unknown|Invalid|Require|Server is still|'[^']*' is not|.*: (unknown|invalid|missing)|.*not found|.*cannot|.*can't|.*error)/im;

/** Run one command and throw {@link HaproxyCommandError} if HAProxy refused it. */
export async function runtimeExpect(path: string, command: string): Promise<string> {
  const out = await runtimeCommand(path, command);
  if (REFUSAL.test(out.trim())) throw new HaproxyCommandError(command, out);
  return out;
}

/** One server's row of `show stat`. */
export interface ServerStat {
  readonly backend: string;
  readonly server: string;
  /** UP, DOWN, `UP 1/3` (going down), `DOWN 1/2` (going up), MAINT, DRAIN, NOLB... */
  readonly status: string;
  /** The last check's result: L4OK, L4CON, L4TOUT, L7OK, L7STS, L7TOUT, L7RSP, INI, ... (may carry `* `). */
  readonly checkStatus: string;
  readonly checkCode: string;
  /** Sessions open right now. */
  readonly currentSessions: number;
  /** Requests waiting in this server's queue. */
  readonly queued: number;
  readonly weight: number;
}

/** Parse `show stat` CSV into its server rows (FRONTEND and BACKEND rows left out). */
export function parseShowStat(csv: string): ServerStat[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift();
  if (!header?.startsWith('# ')) throw new Error(`not a show stat answer: ${csv.slice(0, 200)}`);
  const cols = header.slice(2).split(',');
  const at = (name: string) => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`show stat has no ${name} column`);
    return i;
  };
  const [px, sv, status, checkStatus, checkCode, scur, qcur, weight] = ['pxname', 'svname', 'status', 'check_status', 'check_code', 'scur', 'qcur', 'weight'].map(at) as number[];
  return lines
    .map((l) => l.split(','))
    .filter((f) => f[sv!] !== 'FRONTEND' && f[sv!] !== 'BACKEND')
    .map((f) => ({
      backend: f[px!]!,
      server: f[sv!]!,
      status: f[status!]!,
      checkStatus: f[checkStatus!]!.replace(/^\* /, ''),
      checkCode: f[checkCode!]!,
      currentSessions: Number(f[scur!] || 0),
      queued: Number(f[qcur!] || 0),
      weight: Number(f[weight!] || 0),
    }));
}

/** ELBv2's target health states. */
export const TARGET_HEALTH_STATES = ['initial', 'healthy', 'unhealthy', 'unused', 'draining', 'unavailable'] as const;
export type TargetHealthState = (typeof TARGET_HEALTH_STATES)[number];

/** ELBv2's reason codes this data plane reports. */
export type TargetHealthReason =
  | 'Elb.RegistrationInProgress'
  | 'Elb.InitialHealthChecking'
  | 'Target.ResponseCodeMismatch'
  | 'Target.Timeout'
  | 'Target.FailedHealthChecks'
  | 'Target.NotInUse'
  | 'Target.DeregistrationInProgress';

export interface TargetHealthVerdict {
  readonly state: TargetHealthState;
  readonly reason?: TargetHealthReason;
  readonly description?: string;
}

/**
 * What a server row says of its target in ELBv2's terms. `everHealthy`: whether the target has passed its
 * healthy threshold since it was registered (before that, a down target is `initial`, not `unhealthy`).
 * `initialChecksOver`: whether a never-healthy target has been checked for its unhealthy threshold's worth of
 * intervals; if its last check failed too, it is `unhealthy` with the reason, as an ELB target that fails its
 * initial checks becomes (HAProxy keeps no count of consecutive failures of a server that is already down, so the
 * time is the count).
 */
export function verdictOf(stat: ServerStat, everHealthy: boolean, initialChecksOver = false): TargetHealthVerdict {
  const status = stat.status;
  if (status === 'MAINT' || status.startsWith('DRAIN') || status.startsWith('MAINT'))
    return { state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' };
  // "UP 1/3": up, one failed check on the way down; still serves.
  if (status.startsWith('UP') || status.startsWith('NOLB')) {
    if (!everHealthy && stat.checkStatus === 'INI') return { state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' };
    return { state: 'healthy' };
  }
  if (!everHealthy && !(initialChecksOver && lastCheckFailed(stat)))
    return { state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' };
  return unhealthyBecause(stat);
}

/** Whether the server's last check failed (not still initialising, not passed: L4OK, L6OK, L7OK, L7OKC). */
function lastCheckFailed(stat: ServerStat): boolean {
  const check = stat.checkStatus ?? '';
  return check !== '' && check !== 'INI' && !/OKC?$/.test(check);
}

function unhealthyBecause(stat: ServerStat): TargetHealthVerdict {
  const check = stat.checkStatus;
  if (check === 'L7STS')
    return { state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: `Health checks failed with these codes: [${stat.checkCode}]` };
  if (check === 'L4TOUT' || check === 'L6TOUT' || check === 'L7TOUT')
    return { state: 'unhealthy', reason: 'Target.Timeout', description: 'Request timed out' };
  return { state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' };
}
