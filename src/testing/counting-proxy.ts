import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

export interface CountingProxy {
  /** `127.0.0.1:PORT`, to use as a registry host in image names. */
  readonly host: string;
  /** Every request received, in arrival order, with its Authorization header if it had one. */
  readonly requests: { method: string; path: string; authorization?: string }[];
  /** Blob GETs received: `digest → count`. */
  blobGets(): Map<string, number>;
  stop(): Promise<void>;
}

export interface CountingProxyOptions {
  /** Answer blob GETs with a 307 to this `host:port` (as registries on object storage do) instead of proxying. */
  readonly redirectBlobsTo?: string;
  /** Demand these Basic credentials (401 with a Basic challenge otherwise) before proxying anything. */
  readonly basicAuth?: { username: string; password: string };
}

const BLOB_PATH = /\/blobs\/(sha256:[0-9a-f]{64})$/;

/**
 * A plain HTTP proxy on loopback in front of `target` (`host:port`) that records each request, so tests
 * can see what a client asked a real registry for (how many times each blob was downloaded, with which
 * credentials); optionally it redirects blob downloads elsewhere or demands Basic authentication.
 */
export async function startCountingProxy(target: string, options: CountingProxyOptions = {}): Promise<CountingProxy> {
  const [targetHost, targetPort] = target.split(':');
  const requests: CountingProxy['requests'] = [];
  const expected = options.basicAuth && `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const { authorization } = req.headers;
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', ...(authorization ? { authorization } : {}) });
    if (expected && authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="berth-test-proxy"', 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    }
    if (options.redirectBlobsTo && req.method === 'GET' && BLOB_PATH.test(req.url ?? '')) {
      res.writeHead(307, { location: `http://${options.redirectBlobsTo}${req.url}` });
      return void res.end();
    }
    const { authorization: _, ...headers } = req.headers;
    const upstream = request(
      { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: { ...(expected ? headers : req.headers), host: target } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    host: `127.0.0.1:${port}`,
    requests,
    blobGets() {
      const counts = new Map<string, number>();
      for (const r of requests) {
        const digest = r.method === 'GET' ? BLOB_PATH.exec(r.path)?.[1] : undefined;
        if (digest) counts.set(digest, (counts.get(digest) ?? 0) + 1);
      }
      return counts;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
