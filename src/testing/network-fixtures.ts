/**
 * Helpers for tests that use real network namespaces, bridges and iptables. Other test runs share this
 * machine, so every name and subnet a test makes is unique, and tests delete what they made.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** 8 lowercase characters, unique enough to name bridges (≤ 15 chars), namespaces and CNI networks. */
export const uniqueTag = () => randomBytes(5).toString('hex').slice(0, 8);

/** Run a command; resolves with stdout, rejects with its stderr in the message (or after `timeoutMs`). */
export async function sh(file: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  try {
    return (await run(file, args, { maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs, killSignal: 'SIGKILL' })).stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

/** A 10.x.y.0/24 (x ≥ 200) that no route on this host overlaps, so a test bridge can use it. */
export async function freeSubnet24(): Promise<string> {
  const routes = await sh('ip', ['-4', '-o', 'route', 'show', 'table', 'all']);
  const ranges = routes
    .split('\n')
    .flatMap((l) => l.split(' ').slice(0, 2))
    .map((t) => /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?$/.exec(t))
    .filter((m) => m !== null)
    .map((m) => {
      const start = ipv4ToNumber(m[1]!);
      const size = 2 ** (32 - Number(m[2] ?? 32));
      return [start - (start % size), start - (start % size) + size - 1] as const;
    });
  for (let attempt = 0; attempt < 100; attempt++) {
    const [a, b] = randomBytes(2);
    const start = ipv4ToNumber(`10.${200 + (a! % 50)}.${b}.0`);
    if (!ranges.some(([s, e]) => s <= start + 255 && start <= e)) return `10.${200 + (a! % 50)}.${b}.0/24`;
  }
  throw new Error('no free 10.x.y.0/24 subnet found');
}

const ipv4ToNumber = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** One of this host's own non-loopback IPv4 addresses (the default route's source if there is one). */
export async function hostAddress(exclude: readonly string[] = []): Promise<string> {
  try {
    const src = /\bsrc (\S+)/.exec(await sh('ip', ['-4', 'route', 'get', '1.1.1.1']))?.[1];
    if (src) return src;
  } catch {
    // no default route: fall back to any interface address
  }
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (exclude.includes(name)) continue;
    const a = addrs?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  throw new Error('this host has no non-loopback IPv4 address');
}

/** Poll `check` until it returns a value other than undefined/false, or fail after `timeoutMs` with its last error. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** GET `url` and return the body; fails on a non-2xx status or after `timeoutMs`. */
export async function httpGet(url: string, timeoutMs = 2_000): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.text();
}

/** A process started inside a network namespace with `ip netns exec`. */
export interface NetnsProcess {
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Start `args` inside namespace `netns` (by name); stop() kills it and waits for it to exit. */
export function startInNetns(netns: string, args: readonly string[]): NetnsProcess {
  const child = spawn('ip', ['netns', 'exec', netns, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  return {
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * busybox httpd serving `dir` on `port` inside `netns`. (Clients: Debian's static `busybox wget` crashes
 * with `-T`, so bound its time with the caller's timeout instead.)
 */
export const startHttpd = (netns: string, port: number, dir: string) =>
  startInNetns(netns, ['busybox', 'httpd', '-f', '-p', String(port), '-h', dir]);

/** A UDP server inside `netns` that answers every datagram with `<reply>:<datagram>`. */
export const startUdpEcho = (netns: string, port: number, reply: string) =>
  startInNetns(netns, [
    process.execPath,
    '-e',
    `const s=require('node:dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(${JSON.stringify(reply)}+':'+m,r.port,r.address));s.bind(${port});`,
  ]);

/** Send `message` to host:port over UDP and resolve with the first answer; rejects after `timeoutMs`. */
export function udpAsk(host: string, port: number, message: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no UDP answer from ${host}:${port}`));
    }, timeoutMs);
    socket.once('message', (m) => {
      clearTimeout(timer);
      socket.close();
      resolve(m.toString());
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      socket.close();
      reject(e);
    });
    socket.send(message, port, host);
  });
}

/** The lines of `iptables-save` (every table) that mention any of `needles`. */
export async function iptablesLines(needles: readonly string[]): Promise<string[]> {
  const text = await sh('iptables-save', []);
  return text.split('\n').filter((l) => needles.some((n) => l.includes(n)));
}
