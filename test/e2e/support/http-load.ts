/**
 * A bounded HTTP load for the zero-downtime tests: `connections` keep-alive clients, each sending its next GET as
 * soon as the last answer arrived, paced to at most `ratePerSecond` requests in all. Every answer is counted by
 * status and by body (the test pages say which revision served them), every failed request by error code, so a
 * test asserts "zero non-2xx, zero connection errors" and "the share that reached the new revision".
 */
import http from 'node:http';

export interface LoadOptions {
  /** `http://host:port/path`. */
  readonly url: string;
  readonly connections?: number;
  /** Upper bound on requests per second over all connections (default 2,000). */
  readonly ratePerSecond?: number;
  /** Extra request headers (e.g. `host` for host-header rules). */
  readonly headers?: Record<string, string>;
  /** Maps a body to the key it is counted under in `bodies` (default: the trimmed body, cut at 60 characters). */
  readonly classify?: (body: string) => string;
}

export interface LoadResult {
  readonly requests: number;
  /** Answers by status code. */
  readonly statuses: Record<number, number>;
  /** Failed requests by error code (ECONNRESET, ECONNREFUSED, timeout, …). */
  readonly errors: Record<string, number>;
  /** 2xx answers by `classify(body)`. */
  readonly bodies: Record<string, number>;
  /** Answers that were not 2xx plus errors. */
  readonly failures: number;
}

/** A running load; `snapshot()` reads the counts so far, `stop()` ends it and resolves the final counts. */
export interface Load {
  snapshot(): LoadResult;
  /** Counts since the last `mark()` (or the start). */
  sinceMark(): LoadResult;
  mark(): void;
  stop(): Promise<LoadResult>;
}

interface Counts {
  requests: number;
  statuses: Record<number, number>;
  errors: Record<string, number>;
  bodies: Record<string, number>;
}

const empty = (): Counts => ({ requests: 0, statuses: {}, errors: {}, bodies: {} });
const bump = <K extends string | number>(m: Record<K, number>, k: K) => {
  m[k] = (m[k] ?? 0) + 1;
};
const result = (c: Counts): LoadResult => {
  const bad = Object.entries(c.statuses).filter(([s]) => Number(s) < 200 || Number(s) > 299);
  const failures = bad.reduce((n, [, v]) => n + v, 0) + Object.values(c.errors).reduce((n, v) => n + v, 0);
  return structuredClone({ ...c, failures });
};

/** Starts the load at once. */
export function startLoad(options: LoadOptions): Load {
  const url = new URL(options.url);
  const connections = options.connections ?? 8;
  const perConnectionGapMs = 1000 / ((options.ratePerSecond ?? 2000) / connections);
  const classify = options.classify ?? ((b: string) => b.trim().slice(0, 60));
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const total = empty();
  let sinceMark = empty();
  let running = true;

  const one = () =>
    new Promise<void>((resolve) => {
      const record = (f: (c: Counts) => void) => {
        f(total);
        f(sinceMark);
      };
      const req = http.get(
        { host: url.hostname, port: url.port, path: url.pathname + url.search, agent, headers: options.headers, timeout: 5000 },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => {
            record((c) => {
              c.requests++;
              bump(c.statuses, res.statusCode ?? 0);
              if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) bump(c.bodies, classify(body));
            });
            resolve();
          });
          res.on('error', (e: NodeJS.ErrnoException) => {
            record((c) => {
              c.requests++;
              bump(c.errors, e.code ?? e.message);
            });
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
      req.on('error', (e: NodeJS.ErrnoException) => {
        record((c) => {
          c.requests++;
          bump(c.errors, e.code ?? e.message);
        });
        resolve();
      });
    });

  const loop = async () => {
    while (running) {
      const started = performance.now();
      await one();
      const wait = perConnectionGapMs - (performance.now() - started);
      if (wait > 0 && running) await new Promise((r) => setTimeout(r, wait));
    }
  };
  const loops = Array.from({ length: connections }, loop);

  return {
    snapshot: () => result(total),
    sinceMark: () => result(sinceMark),
    mark: () => {
      sinceMark = empty();
    },
    stop: async () => {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return result(total);
    },
  };
}
