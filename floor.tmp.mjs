import { createServer } from 'node:http';
import { runWrk } from './bench/lib/wrk.mjs';
import { cpuSeconds } from './bench/lib/process-cpu.mjs';
import { fork } from 'node:child_process';
if (process.argv[2] === 'serve') {
  const body = JSON.stringify({ taskDefinition: { x: 'y'.repeat(1400) } });
  const s = createServer((req, res) => { const c = []; req.on('data', (d) => c.push(d)); req.on('end', () => { setImmediate(() => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(body), 'x-amzn-RequestId': crypto.randomUUID() }).end(body)); }); });
  s.keepAliveTimeout = 72000;
  s.listen(0, '127.0.0.1', () => process.send(s.address().port));
  process.on('SIGTERM', () => process.exit(0));
} else {
  const child = fork(new URL(import.meta.url).pathname, ['serve'], { execArgv: process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/floorprof'] : [] });
  const port = await new Promise((r) => child.once('message', r));
  const url = `http://127.0.0.1:${port}`;
  const requests = Array.from({ length: 64 }, (_, i) => ({ method: 'POST', path: '/', headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'X.DescribeTaskDefinition', 'x-amz-date': '20261206T120000Z', authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/20261206/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=' + 'a'.repeat(64) }, body: JSON.stringify({ taskDefinition: `bench-${i % 16}` }) }));
  for (let r = 0; r < 2; r++) {
    const before = cpuSeconds(child.pid);
    const res = await runWrk({ url, requests, connections: 32, seconds: 5, threads: 1 });
    console.log(JSON.stringify({ rps: res.rps, cpu_us: Math.round(((cpuSeconds(child.pid) - before) * 1e6) / res.requests) }));
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}
