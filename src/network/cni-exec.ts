import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { directSpawn, type SpawnFn } from '../process/spawn-helper.js';
import { parseFailure, parseResult, pluginEnv, type CniCommand, type CniResult, type InvocationTarget } from './cni-protocol.js';
import { CniPluginError } from './errors.js';

/** Where plugin binaries are looked up (also passed to them as CNI_PATH), and how long one may run. */
export interface PluginExecOptions {
  readonly pluginDirs: readonly string[];
  readonly timeoutMs: number;
  /** How plugins are started: Node's spawn by default, or a spawn helper's (src/process/spawn-helper.ts). */
  readonly spawn?: SpawnFn;
}

/** Runs one plugin invocation; returns the parsed result for ADD and nothing for DEL and CHECK. */
export type PluginExec = (type: string, command: CniCommand, target: InvocationTarget, stdin: string) => Promise<CniResult | undefined>;

/** A PluginExec that runs the real binaries: CNI variables in the environment, the config on stdin. */
export function pluginExec(options: PluginExecOptions): PluginExec {
  return async (type, command, target, stdin) => {
    const binary = await findPlugin(type, options.pluginDirs, command);
    const { stdout, stderr, exit } = await run(options.spawn ?? directSpawn, binary, pluginEnv(command, target, options.pluginDirs), stdin, options.timeoutMs);
    if (exit !== undefined) throw parseFailure(type, command, exit, stdout, stderr);
    return command === 'ADD' ? parseResult(type, command, stdout) : undefined;
  };
}

async function findPlugin(type: string, dirs: readonly string[], command: CniCommand): Promise<string> {
  for (const dir of dirs) {
    const path = join(dir, type);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  throw new CniPluginError(type, command, undefined, `no executable plugin named "${type}" in ${dirs.join(', ')}`, undefined);
}

/** Run `binary`; `exit` is undefined on success, else a description of how it ended. */
function run(
  spawn: SpawnFn,
  binary: string,
  env: Record<string, string>,
  stdin: string,
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string; exit: string | undefined }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    // A plugin that exits without reading its config closes the pipe under us; its exit status tells why.
    child.stdin!.on('error', () => {});
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new CniPluginError(binary, env.CNI_COMMAND!, undefined, `could not be started: ${error.message}`, undefined, { cause: error }));
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      const exit = timedOut
        ? `killed after ${timeoutMs} ms without finishing`
        : code === 0
          ? undefined
          : signal
            ? `killed by ${signal}`
            : `exited with status ${code}`;
      resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), exit });
    };
    // Normally wait for 'close' (all output read); a plugin killed for time may have left a child holding
    // its pipes open, so then its own exit is enough.
    child.once('close', finish);
    child.once('exit', (code, signal) => {
      if (timedOut) finish(code, signal);
    });
    child.stdin!.end(stdin);
  });
}
