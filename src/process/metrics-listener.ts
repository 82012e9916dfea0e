import { createServer, type Server } from 'node:http';
import { EXPOSITION_CONTENT_TYPE, type MetricsRegistry } from './prometheus.js';

/** A listener answering `GET /metrics` with a registry's exposition (`--metrics-listen`). */
export interface MetricsListener {
  /** The port actually bound (the one asked for, or the kernel's pick for 0). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serve `registry` at `GET /metrics` on `host:port`: an address of its own, so the API's listener (SigV4,
 * the AWS error shapes) stays as it is and operators can keep the scrape port off the public network.
 * Unsigned, as Prometheus scrapes. Anything else answers 404.
 */
export async function serveMetrics(registry: MetricsRegistry, host: string, port: number, onError: (error: unknown) => void): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: scrape GET /metrics\n');
      return;
    }
    registry.render().then(
      (text) => res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) }).end(req.method === 'HEAD' ? undefined : text),
      (error: unknown) => {
        onError(error);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('collecting metrics failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
