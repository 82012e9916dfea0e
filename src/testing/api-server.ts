import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { pino } from 'pino';
import { startServer, type RunningServer, type ServerConfig } from '../server/server.js';

export const TEST_KEYS = { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'test-secret-key-0123456789abcdefghijklmn' } as const;
export const TEST_REGION = 'us-east-1';
export const TEST_ACCOUNT = '123456789012';

export interface ApiFixture {
  readonly server: RunningServer;
  readonly ecs: ECSClient;
  readonly ecr: ECRClient;
  readonly logs: CloudWatchLogsClient;
  /** Send a raw request, signed with the test keys unless `sign` is false; returns status, headers and parsed body. */
  raw(options: RawRequest): Promise<RawResponse>;
  stop(): Promise<void>;
}

export interface RawRequest {
  readonly target?: string;
  readonly body?: string | Buffer;
  readonly sign?: boolean;
  readonly keys?: { accessKeyId: string; secretAccessKey: string };
  readonly service?: string;
  readonly region?: string;
  readonly signingDate?: Date;
  readonly headers?: Record<string, string>;
  /** Change the request after it was signed (to break the signature). */
  readonly tamper?: (req: { headers: Record<string, string>; body: string | Buffer }) => void;
  readonly method?: string;
  readonly path?: string;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

/** A server on a loopback port with an in-memory store (unless overridden), and clients for it. */
export async function startApiFixture(overrides: Partial<ServerConfig> = {}): Promise<ApiFixture> {
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    store: 'memory',
    region: TEST_REGION,
    accountId: TEST_ACCOUNT,
    rootKeys: TEST_KEYS,
    logger: pino({ level: process.env.BERTH_TEST_LOG ?? 'silent' }),
    checkResponses: true,
    ...overrides,
  });
  const ecs = new ECSClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_KEYS, maxAttempts: 1 });
  const ecr = new ECRClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_KEYS, maxAttempts: 1 });
  const logs = new CloudWatchLogsClient({ endpoint: server.url, region: TEST_REGION, credentials: TEST_KEYS, maxAttempts: 1 });
  return {
    server,
    ecs,
    ecr,
    logs,
    raw: (options) => rawRequest(server.url, options),
    async stop() {
      ecs.destroy();
      ecr.destroy();
      logs.destroy();
      await server.stop();
    },
  };
}

export async function rawRequest(baseUrl: string, options: RawRequest): Promise<RawResponse> {
  const url = new URL(options.path ?? '/', baseUrl);
  const body = options.body ?? '{}';
  let headers: Record<string, string> = {
    host: url.host,
    'content-type': 'application/x-amz-json-1.1',
    ...(options.target ? { 'x-amz-target': options.target } : {}),
    ...options.headers,
  };
  if (options.sign !== false) {
    const signer = new SignatureV4({
      credentials: options.keys ?? TEST_KEYS,
      region: options.region ?? TEST_REGION,
      service: options.service ?? 'ecs',
      sha256: Hash.bind(null, 'sha256'),
      applyChecksum: false,
    });
    const signed = await signer.sign(
      new HttpRequest({ method: options.method ?? 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, headers, body }),
      options.signingDate ? { signingDate: options.signingDate } : {},
    );
    headers = signed.headers;
  }
  const req = { headers, body };
  options.tamper?.(req);
  const { host: _host, ...sendable } = req.headers;
  const res = await fetch(url, { method: options.method ?? 'POST', headers: sendable, ...(options.method === 'GET' ? {} : { body: req.body }) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // leave as text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}
