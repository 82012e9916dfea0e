import * as cw from '@aws-sdk/client-cloudwatch';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Decoder, Encoder } from 'cbor-x';
import { request } from 'undici';
import { awsCli } from './aws-cli.js';
import type { BerthServerProcess } from './berth-server.js';

/**
 * One CloudWatch client per protocol berth serves, behind one shape so the same cases run through each: the AWS
 * CLI v2 (Query protocol), the SDK for JavaScript v3 (JSON 1.0), and hand-signed JSON 1.0 and Smithy RPC v2 CBOR
 * requests. Inputs are written with Dates; outputs come back with timestamps as epoch seconds, errors as the
 * Query code the client saw (and, on the wire, what named it).
 */
export type Answer = { readonly ok: true; readonly output: any } | { readonly ok: false; readonly code: string; readonly message: string; readonly status?: number; readonly wireType?: string };

export interface CloudWatchClient {
  readonly name: 'cli-query' | 'sdk-json' | 'json-1.0' | 'rpcv2-cbor';
  call(action: string, input: object): Promise<Answer>;
  close(): void;
}

const TARGET = 'GraniteServiceVersion20100801';

/** Dates (and ISO strings the CLI prints) → epoch seconds, recursively. */
export function normalize(value: unknown, key = ''): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (typeof value === 'string' && /Timestamp/.test(key) && /^\d{4}-\d\d-\d\dT/.test(value)) return Date.parse(value) / 1000;
  if (Array.isArray(value)) return value.map((v) => normalize(v, key));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([k]) => k !== '$metadata').map(([k, v]) => [k, normalize(v, k)]));
  return value;
}

function mapDates(value: unknown, f: (d: Date) => unknown): unknown {
  if (value instanceof Date) return f(value);
  if (Array.isArray(value)) return value.map((v) => mapDates(v, f));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapDates(v, f)]));
  return value;
}

const kebab = (action: string) => action.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

export function cliClient(server: BerthServerProcess, region: string): CloudWatchClient {
  return {
    name: 'cli-query',
    async call(action, input) {
      const json = JSON.stringify(mapDates(input, (d) => d.toISOString()));
      const r = await awsCli(server.url, server.credentialsFile, ['cloudwatch', kebab(action), '--no-paginate', '--cli-input-json', json], region);
      if (r.code === 0) return { ok: true, output: normalize(r.json ?? {}) };
      const m = /An error occurred \(([^)]+)\) when calling the \w+ operation[^:]*: (.*)/s.exec(r.stderr);
      return { ok: false, code: m?.[1] ?? `cli exit ${r.code}: ${r.stderr}`, message: m?.[2]?.trim() ?? r.stderr };
    },
    close() {},
  };
}

export function sdkClient(server: BerthServerProcess, region: string): CloudWatchClient {
  const client = new cw.CloudWatchClient({ endpoint: server.url, region, credentials: server.keys, maxAttempts: 1 });
  return {
    name: 'sdk-json',
    async call(action, input) {
      const Command = (cw as unknown as Record<string, new (i: object) => cw.PutMetricDataCommand>)[`${action}Command`]!;
      try {
        return { ok: true, output: normalize(await client.send(new Command(input))) };
      } catch (error) {
        const e = error as { name: string; message: string; Code?: string; $metadata?: { httpStatusCode?: number } };
        return { ok: false, code: e.Code ?? e.name, message: e.message, ...(e.$metadata?.httpStatusCode ? { status: e.$metadata.httpStatusCode } : {}) };
      }
    },
    close: () => client.destroy(),
  };
}

async function signed(server: BerthServerProcess, region: string, path: string, headers: Record<string, string>, body: Buffer) {
  const url = new URL(server.url);
  const signer = new SignatureV4({ credentials: server.keys, region, service: 'monitoring', sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
  const req = await signer.sign(new HttpRequest({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, headers: { host: url.host, ...headers }, body }));
  const { host: _host, ...sendable } = req.headers;
  const res = await request(`${server.url}${path}`, { method: 'POST', headers: sendable, body });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

function errorOf(status: number, headers: Record<string, string | string[] | undefined>, body: { __type?: string; message?: string }): Answer {
  const queryError = String(headers['x-amzn-query-error'] ?? '');
  return { ok: false, status, code: queryError.split(';')[0] || String(body.__type), message: String(body.message), ...(body.__type ? { wireType: body.__type } : {}) };
}

export function jsonClient(server: BerthServerProcess, region: string): CloudWatchClient {
  return {
    name: 'json-1.0',
    async call(action, input) {
      const body = Buffer.from(JSON.stringify(mapDates(input, (d) => d.getTime() / 1000)));
      const res = await signed(server, region, '/', { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `${TARGET}.${action}` }, body);
      if (res.headers['content-type'] !== 'application/x-amz-json-1.0') throw new Error(`content-type ${String(res.headers['content-type'])}`);
      const parsed = res.body.length ? JSON.parse(res.body.toString('utf8')) : {};
      return res.status === 200 ? { ok: true, output: parsed } : errorOf(res.status, res.headers, parsed);
    },
    close() {},
  };
}

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export function cborClient(server: BerthServerProcess, region: string): CloudWatchClient {
  return {
    name: 'rpcv2-cbor',
    async call(action, input) {
      const body = Buffer.from(encoder.encode(input));
      const res = await signed(
        server,
        region,
        `/service/${TARGET}/operation/${action}`,
        { 'content-type': 'application/cbor', accept: 'application/cbor', 'smithy-protocol': 'rpc-v2-cbor' },
        body,
      );
      if (res.headers['smithy-protocol'] !== 'rpc-v2-cbor') throw new Error(`smithy-protocol ${String(res.headers['smithy-protocol'])}`);
      const parsed = res.body.length ? decoder.decode(res.body) : {};
      return res.status === 200 ? { ok: true, output: normalize(parsed) } : errorOf(res.status, res.headers, parsed);
    },
    close() {},
  };
}
