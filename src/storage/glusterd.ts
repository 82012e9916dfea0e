/**
 * The storage host's glusterd, run by `berth storage` with state of its own: inside a private mount namespace
 * (`unshare -m`) its /var/lib/glusterd, /run and /var/log/glusterfs are bind mounts of `<state dir>/{lib,run,log}`,
 * so several storage hosts (each in its network namespace) can run on one machine, as the lab does, and a real host's
 * system glusterd state is never touched. Its gluster CLI runs in that namespace (`nsenter -m -t <glusterd>`).
 * A glusterd left running by a killed `berth storage` (its pid file) is used again rather than started twice.
 *
 * Its management connection is TLS (`secure-access` in its state, docs/storage.md): the volfile fetch and port map
 * of clients and the talk between glusterd peers. GlusterFS reads that identity only at /usr/lib/ssl/glusterfs.*,
 * so `<state dir>/ssl`, links to the host's own files (tls-identity.ts), is bound there in the same namespace.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MANAGEMENT_SSL_DIR, tlsFiles, writeManagementSslDir } from './tls-identity.js';
import { trustedVolfileName } from './trusted-volfiles.js';

const run = promisify(execFile);

/**
 * Where a storage host's TLS identity (tls-identity.ts) is inside its glusterd's mount namespace: under the
 * per-host /var/lib/glusterd, so several storage hosts on one machine (the lab) each present their own.
 */
export const GLUSTERD_TLS_DIR = '/var/lib/glusterd/berth-tls';

/**
 * The volume options that make a volume's I/O path TLS only (`server.ssl`: bricks accept only TLS clients with a
 * certificate of berth's CA; `client.ssl`: the volfile clients fetch says so). The certificate paths are the same on
 * every host (each host's own files), and clients override them with their own (agent/efs-mounts.ts).
 */
export function tlsVolumeOptions(): [string, string][] {
  return [
    ['ssl.own-cert', `${GLUSTERD_TLS_DIR}/own.pem`],
    ['ssl.private-key', `${GLUSTERD_TLS_DIR}/own.key`],
    ['ssl.ca-list', `${GLUSTERD_TLS_DIR}/ca.pem`],
    ['client.ssl', 'on'],
    ['server.ssl', 'on'],
  ];
}

export interface GlusterVolume {
  readonly name: string;
  readonly started: boolean;
}

export class Glusterd {
  private constructor(
    readonly pid: number,
    private readonly stateDir: string,
  ) {}

  /** Start (or find running) the glusterd of `stateDir`; resolves once its CLI answers. */
  static async start(stateDir: string, timeoutMs = 30_000): Promise<Glusterd> {
    for (const d of ['lib', 'run', 'log']) mkdirSync(join(stateDir, d), { recursive: true });
    const pidFile = join(stateDir, 'glusterd.pid');
    const running = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined;
    let pid: number;
    let exited: string | undefined;
    if (running !== undefined && isGlusterd(running)) pid = running;
    else {
      // glusterd requires TLS on its management port when this file exists in its state directory.
      writeFileSync(join(stateDir, 'lib', 'secure-access'), '');
      await writeManagementSslDir(join(stateDir, 'ssl'), tlsFiles(GLUSTERD_TLS_DIR));
      const script = glusterdScript(stateDir, pidFile);
      const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { stdio: 'ignore', detached: true });
      child.unref();
      if (child.pid === undefined) throw new Error('could not start glusterd (unshare)');
      // glusterd -N stays in the foreground: its exit means it could not start (its port taken by another glusterd…).
      child.once('exit', (code, signal) => (exited = `glusterd exited (${signal ?? `code ${code}`}) before answering; see ${join(stateDir, 'log', 'glusterd.log')}`));
      pid = child.pid;
    }
    const glusterd = new Glusterd(pid, stateDir);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await glusterd.cli('pool', 'list');
        return glusterd;
      } catch (error) {
        if (exited !== undefined) throw new Error(exited);
        if (Date.now() > deadline) throw new Error(`glusterd did not answer within ${timeoutMs} ms: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  }

  /** Run `gluster --mode=script <args>` against this glusterd; resolves to its output, rejects with its message. */
  async cli(...args: string[]): Promise<string> {
    try {
      const { stdout } = await run('nsenter', ['-t', String(this.pid), '-m', 'gluster', '--mode=script', ...args], { timeout: 120_000 });
      return stdout;
    } catch (error) {
      const e = error as { stderr?: string; stdout?: string; message: string };
      throw new Error(`gluster ${args.join(' ')}: ${(e.stderr || e.stdout || e.message).trim()}`);
    }
  }

  async volumes(): Promise<GlusterVolume[]> {
    return parseVolumeInfo(await this.cli('volume', 'info'));
  }

  /**
   * A volume's trusted client volfile, which carries its `auth.login` credentials (storage/trusted-volfiles.ts), as
   * glusterd wrote it in its state directory; undefined while glusterd has not written it.
   */
  async trustedClientVolfile(volume: string): Promise<string | undefined> {
    if (!/^[A-Za-z0-9_.-]+$/.test(volume)) return undefined;
    return readFile(join(this.stateDir, 'lib', 'vols', volume, trustedVolfileName(volume)), 'utf8').catch(() => undefined);
  }

  /** The pool's members' host names/addresses (this host is `localhost`). */
  async pool(): Promise<string[]> {
    return (await this.cli('pool', 'list'))
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/)[1])
      .filter((h): h is string => h !== undefined && h !== '');
  }

  /** Stop glusterd and the brick and self-heal processes it started (their pid files under its run dir). */
  async stop(): Promise<void> {
    for (const pid of [this.pid, ...childPids(join(this.stateDir, 'run', 'gluster'))]) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone already
      }
    }
  }
}

/**
 * The shell script run in glusterd's private mount namespace (pure): its state directories and its management TLS
 * identity (`<state dir>/ssl`, links to GLUSTERD_TLS_DIR's files) bound in place, then glusterd in the foreground.
 */
export function glusterdScript(stateDir: string, pidFile: string): string {
  return [
    `mount --bind ${q(join(stateDir, 'lib'))} /var/lib/glusterd`,
    `mount --bind ${q(join(stateDir, 'run'))} /run`,
    `mount --bind ${q(join(stateDir, 'log'))} /var/log/glusterfs`,
    `mount --bind ${q(join(stateDir, 'ssl'))} ${MANAGEMENT_SSL_DIR}`,
    `exec glusterd -N -p ${q(pidFile)} --log-file=${q(join(stateDir, 'log', 'glusterd.log'))}`,
  ].join(' && ');
}

/** `gluster volume info`'s text → each volume's name and whether it is started (pure). */
export function parseVolumeInfo(text: string): GlusterVolume[] {
  const volumes: GlusterVolume[] = [];
  let name: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(Volume Name|Status):\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === 'Volume Name') name = m[2]!;
    else if (name !== undefined) {
      volumes.push({ name, started: m[2] === 'Started' });
      name = undefined;
    }
  }
  return volumes;
}

function isGlusterd(pid: number): boolean {
  try {
    // A glusterd killed with its `berth storage` stays a zombie until something reaps it, its comm still
    // `glusterd` but its namespaces gone: only a live one (state not Z or X) can be used again.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'glusterd' && state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The pids in `*.pid` files under `dir` (bricks: vols/<volume>/*.pid; self-heal: shd/<volume>/*.pid). */
function childPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 3 || !existsSync(d)) return;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path, depth + 1);
      else if (entry.name.endsWith('.pid')) {
        const pid = Number(readFileSync(path, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 1) out.push(pid);
      }
    }
  };
  walk(dir, 0);
  return out;
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
