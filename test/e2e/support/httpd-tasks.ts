/**
 * busybox httpd tasks for load balancing tests. Each answers `<SVC> <uuid>` on /, /a/, /v/ and /s/ (SVC from its
 * environment, the uuid drawn at start: which task answered a balanced request), `ok` on /health.html, and removes
 * (`/cgi-bin/sick`) or restores (`/cgi-bin/well`) its health page when asked directly, so a test decides when a
 * target fails its health check. Plus an HTTP GET that never pools connections and a sampler of answers in time.
 */
import { Agent, request } from 'node:http';

/** The task's program: the pages, the CGI switches for its health page, then httpd on port 80. */
export const HTTPD_SETUP = `#!/bin/sh
id=$(cat /proc/sys/kernel/random/uuid)
mkdir -p /www/cgi-bin /www/a /www/v /www/s
echo "$SVC $id" > /www/index.html
for d in a v s; do cp /www/index.html /www/$d/index.html; done
echo ok > /www/health.html
printf '#!/bin/sh\\nrm -f /www/health.html\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\nsick\\\\n"\\n' > /www/cgi-bin/sick
printf '#!/bin/sh\\necho ok > /www/health.html\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\nwell\\\\n"\\n' > /www/cgi-bin/well
chmod +x /www/cgi-bin/sick /www/cgi-bin/well
exec httpd -f -p 80 -h /www
`;

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly error?: string;
}

/** No keep-alive: each request is its own connection (an NLB balances connections, not requests). */
export const unpooled = new Agent({ keepAlive: false });

export function httpGet(host: string, port: number, path = '/', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, headers, agent: unpooled }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      res.on('error', (e) => resolve({ status: 0, body, error: e.message }));
    });
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, body: '', error: e.message }));
    req.end();
  });
}

export interface Sample extends Answer {
  readonly at: number;
}

/** Requests one after another through the load balancer until stopped, each with the time it was answered. */
export function sampler(port: number, path: string): { samples: Sample[]; stop(): Promise<void> } {
  const samples: Sample[] = [];
  let stopped = false;
  const run = (async () => {
    while (!stopped) {
      const a = await httpGet('127.0.0.1', port, path);
      samples.push({ ...a, at: Date.now() });
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await run;
    },
  };
}

