import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

export interface CountingProxy {
  /** `127.0.0.1:PORT`, to use as a registry host in image names. */
  readonly host: string;
  /** Every request passed on, in arrival order. */
  readonly requests: { method: string; path: string }[];
  /** Requests for blobs: `digest → count`. */
  blobGets(): Map<string, number>;
  stop(): Promise<void>;
}

/**
 * A plain HTTP proxy on loopback in front of `target` (`host:port`) that records each request, so tests
 * can see what a client asked a real registry for (how many times each blob was downloaded, …).
 */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const [targetHost, targetPort] = target.split(':');
  const requests: CountingProxy['requests'] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/' });
    const upstream = request(
      { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: { ...req.headers, host: target } },
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
        const digest = r.method === 'GET' ? /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(r.path)?.[1] : undefined;
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
