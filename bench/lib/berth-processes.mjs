// Real `berth server` and `berth agent` processes for the benchmarks, from dist/ (`npm run build` first).
// BENCH_LOG_DIR: each process's output is written there (<command>-<data dir name>.log) when it exits.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { removeMasquerade } from '../../dist/network/masquerade.js';
import { removePortMapTable } from '../../dist/network/nft-port-map.js';

const main = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const children = [];

/** The node flags the CLI's shebang line gives `berth` (`#!/usr/bin/env -S node <flags>`), as one string. */
export const shebangNodeOptions = (cli = main) => /^#!\S*env -S node (.*)$/.exec(readFileSync(cli, 'utf8').split('\n', 1)[0])?.[1] ?? '';

/**
 * Start `berth <args>` (`cli`: another build's dist/cli/main.js) with the node flags of its shebang, as the
 * installed command runs, unless `nodeArgs` or NODE_OPTIONS in `env` say otherwise; `stop()` ends it
 * (SIGTERM, waited for); `until(pattern)` resolves with the match once its output shows it, rejects if it
 * exits first.
 */
export function startBerth(args, { env = {}, nodeArgs = [], cli = main } = {}) {
  const flags = nodeArgs.length > 0 || env.NODE_OPTIONS !== undefined ? nodeArgs : shebangNodeOptions(cli).split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...flags, cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const dataDir = args[args.indexOf('--data-dir') + 1];
  const logName = args.includes('--data-dir') && dataDir ? `${args[0]}-${basename(dataDir)}` : args[0];
  if (process.env.BENCH_LOG_DIR) child.on('exit', () => writeFileSync(join(process.env.BENCH_LOG_DIR, `${logName}.log`), out));
  return {
    child,
    /** Everything it printed so far. */
    output: () => out,
    stop: () => stopChild(child),
    until: (pattern) =>
      new Promise((resolve, reject) => {
        const timer = setInterval(() => {
          const m = pattern.exec(out);
          if (m) {
            clearInterval(timer);
            resolve(m);
          }
          if (child.exitCode !== null) {
            clearInterval(timer);
            reject(new Error(`berth ${args[0]} exited ${child.exitCode}: ${out}`));
          }
        }, 20);
      }),
  };
}

/** `berth server` on a free loopback port with its data in `dataDir`: its process, URL and root keys. */
export async function startServer(dataDir, { logLevel = 'warn', nodeArgs = [], cli = main } = {}) {
  const server = startBerth(['server', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--log-level', logLevel], { nodeArgs, cli });
  const [, url] = await server.until(/listening on (http:\/\/\S+)/);
  return { child: server.child, stop: server.stop, output: server.output, url, keys: credentialsOf(dataDir) };
}

/**
 * `berth agent` for `server` with its data in `dataDir` and its own bridge: images used as cached
 * (prefer-cached), stopped tasks cleaned up after 1 s; `env` adds to or overrides that.
 */
export function startAgent(server, dataDir, bridge, env = {}, cli = main) {
  return startBerth(['agent', '--endpoint', server.url, '--data-dir', dataDir, '--config', '/dev/null'], {
    cli,
    env: {
      AWS_ACCESS_KEY_ID: server.keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.keys.secretAccessKey,
      ECS_IMAGE_PULL_BEHAVIOR: 'prefer-cached',
      ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s',
      BERTH_BRIDGE_NAME: bridge.bridge,
      BERTH_BRIDGE_SUBNET: bridge.subnet,
      ...env,
    },
  });
}

/** The root key pair a server wrote to `<dataDir>/credentials`, as SDK credentials. */
export function credentialsOf(dataDir) {
  const creds = Object.fromEntries(
    readFileSync(join(dataDir, 'credentials'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => l.split('=').map((s) => s.trim())),
  );
  return { accessKeyId: creds.aws_access_key_id, secretAccessKey: creds.aws_secret_access_key };
}

/** SIGTERM every process started here, newest first, each waited for. */
export async function stopAll() {
  for (const c of children.splice(0).reverse()) await stopChild(c);
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** What an agent leaves on the host on purpose: its bridge, the bridge's masquerade rule and port map. */
export async function removeAgentBridge({ bridge, subnet }) {
  spawnSync('ip', ['link', 'delete', bridge]);
  await removeMasquerade({ bridge, subnet });
  await removePortMapTable({ bridge });
}
