// Replays a pool of ready-made HTTP requests with wrk (C, epoll; Debian: `apt-get install -y wrk`), so that
// on a 2-core machine the load generator costs little next to the server it measures. The requests are
// built (and signed) before the run; a SigV4 signature stays valid for ±5 minutes, longer than a run.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Lua long-bracket literal: no escaping needed as long as the text holds no `]==]`. */
const lua = (s) => {
  if (s.includes(']==]')) throw new Error('request text holds ]==]');
  return `[==[${s}]==]`;
};

function script(requests) {
  const entries = requests.map(
    (r) =>
      `  wrk.format(${lua(r.method)}, ${lua(r.path)}, {${Object.entries(r.headers)
        .map(([k, v]) => `[ ${lua(k)} ] = ${lua(v)}`)
        .join(', ')}}, ${lua(r.body)})`,
  );
  return `local requests = {
${entries.join(',\n')}
}
local i = 0
request = function()
  i = i + 1
  return requests[(i % #requests) + 1]
end
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format('WRK_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;
}

/**
 * Run wrk against `url` for `seconds` with `connections` keep-alive connections on `threads` threads,
 * cycling through `requests` ({ method, path, headers, body }). Resolves with requests/s and latency
 * percentiles (a response slower than 30 s counts as failed); rejects when any response was not 2xx/3xx or a socket failed, so that a refused signature
 * never passes for speed.
 */
export async function runWrk({ url, requests, connections, seconds, threads = 1 }) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-wrk-'));
  try {
    const file = join(dir, 'requests.lua');
    writeFileSync(file, script(requests));
    const out = await new Promise((resolve, reject) => {
      const child = spawn('wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '30s', '-s', file, url], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.stderr.on('data', (d) => (text += d));
      child.on('error', (e) => reject(e.code === 'ENOENT' ? new Error('wrk is not installed (apt-get install -y wrk)') : e));
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
    });
    const line = /WRK_RESULT (\{.*\})/.exec(out);
    if (!line) throw new Error(`no result from wrk: ${out}`);
    const r = JSON.parse(line[1]);
    const failed = r.status + r.connect + r.read + r.write + r.timeout;
    if (failed > 0) throw new Error(`wrk against ${url}: ${failed} failed requests (${line[1]})`);
    const ms = (us) => Number((us / 1000).toFixed(2));
    return { requests: r.requests, rps: Math.round(r.requests / (r.duration_us / 1e6)), p50_ms: ms(r.p50_us), p90_ms: ms(r.p90_us), p99_ms: ms(r.p99_us) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
