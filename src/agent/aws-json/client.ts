import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { SigV4Signer } from '../../process/sigv4-signer.js';
import { isUnavailable } from '../endpoints.js';
import { requestBody, responseError, TimeoutError, type AwsServiceError, type Wire } from './wire.js';

/**
 * The agent's client for the control plane's JSON APIs (ECS, ECR, CloudWatch Logs, Secrets Manager, SSM):
 * one POST per call, SigV4-signed, retried and failed over between replicas.
 *
 * Why not the AWS SDK: each SDK client package holds megabytes of code and schemas resident in every agent
 * (ECS's alone ~14 MiB of heap and 7 MiB of mapped files), for the dozen calls the agent makes. This is the
 * thin part the agent needs: the signer is berth's own (process/sigv4-signer.ts, the canonical forms the server
 * verifies with, checked against the SDK's signer), the shapes are the SDK's types (type-only, nothing loaded).
 *
 * Retries as the SDK's standard mode does: a replica that did not answer, a 5xx, a 429 or a throttling
 * code is tried again (up to `maxAttempts` in all) after a jittered exponential delay; each attempt is
 * addressed to the replica `endpoints` names then, and one that did not answer is reported failed, so the
 * next attempt lands on another.
 */

/** An action's input and its output as the agent reads it. */
export interface Operation<I, O> {
  readonly input: I;
  readonly output: O;
}

/** An SDK input/output pair as an Operation, the output as it arrives on the wire. */
export type SdkOperation<I, O> = Operation<I, Wire<O>>;

/** How a JSON service is addressed: X-Amz-Target's prefix and the name requests are signed for. */
export interface JsonService<Ops = unknown> {
  /** Never set: names the service's actions' types, for `new AwsJsonClient(ECS, …)` to infer them. */
  readonly operations?: Ops;
  readonly targetPrefix: string;
  readonly signingName: string;
  readonly jsonVersion: '1.0' | '1.1';
}

/** The replicas (ControlPlaneEndpoints): asked before every attempt, told how it went. */
export interface CallEndpoints {
  current(): string;
  failed(endpoint: string): unknown;
  succeeded(endpoint: string): void;
}

/** Milliseconds to connect, and for a request's whole exchange. */
export interface Timeouts {
  readonly connectionTimeout: number;
  readonly requestTimeout: number;
}

export interface JsonClientOptions {
  readonly endpoints: CallEndpoints;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly maxAttempts: number;
  readonly timeouts: Timeouts;
  /** Waits between attempts (tests: instant). */
  readonly sleep?: (ms: number) => Promise<void>;
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);

/** Whether another attempt may succeed: the SDK's standard retry mode's transient and throttling errors. */
export function retryable(error: unknown): boolean {
  if (isUnavailable(error)) return true;
  const e = error as Partial<AwsServiceError>;
  return e.$metadata?.httpStatusCode === 429 || (typeof e.name === 'string' && THROTTLING.has(e.name));
}

/** The SDK's delay before attempt `n + 1`: full jitter over 100 ms × 2ⁿ (500 ms base when throttled), at most 20 s. */
export function retryDelayMs(attempt: number, error: unknown, random: () => number = Math.random): number {
  const base = THROTTLING.has((error as { name?: string }).name ?? '') ? 500 : 100;
  return Math.floor(random() * Math.min(20_000, base * 2 ** attempt));
}

export class AwsJsonClient<Ops extends { [A in keyof Ops]: Operation<unknown, unknown> }> {
  private readonly signer: SigV4Signer;
  private readonly http = new HttpAgent({ keepAlive: true });
  private https?: HttpsAgent;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly service: JsonService<Ops>,
    private readonly o: JsonClientOptions,
  ) {
    this.signer = new SigV4Signer({ credentials: o.credentials, region: o.region, service: service.signingName, contentSha256: true });
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Call `action`; a refusal throws an AwsServiceError named by its code, no answer a TimeoutError or the socket's error. */
  async send<A extends keyof Ops & string>(action: A, input: Ops[A]['input']): Promise<Ops[A]['output']> {
    const body = requestBody(input);
    for (let attempt = 1; ; attempt++) {
      const endpoint = this.o.endpoints.current();
      try {
        const output = await this.attempt(endpoint, action, body, attempt);
        this.o.endpoints.succeeded(endpoint);
        return output as Ops[A]['output'];
      } catch (error) {
        if (isUnavailable(error)) this.o.endpoints.failed(endpoint);
        else this.o.endpoints.succeeded(endpoint);
        if (attempt >= this.o.maxAttempts || !retryable(error)) throw error;
        await this.sleep(retryDelayMs(attempt - 1, error));
      }
    }
  }

  /** Close kept-alive connections. */
  destroy(): void {
    this.http.destroy();
    this.https?.destroy();
  }

  private async attempt(endpoint: string, action: string, body: string, attempt: number): Promise<unknown> {
    const url = new URL(endpoint);
    const signed = await this.signer.sign({
      method: 'POST',
      host: url.host,
      path: '/',
      headers: {
        'content-type': `application/x-amz-json-${this.service.jsonVersion}`,
        'x-amz-target': `${this.service.targetPrefix}.${action}`,
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    const { status, headers, text } = await this.exchange(url, { ...signed, host: url.host }, body);
    if (status < 200 || status >= 300) throw responseError(status, headers, text, attempt);
    return text ? JSON.parse(text) : {};
  }

  /** One HTTP exchange, bounded by the connection and request timeouts. */
  private exchange(url: URL, headers: Record<string, string>, body: string): Promise<{ status: number; headers: IncomingMessage['headers']; text: string }> {
    const secure = url.protocol === 'https:';
    const agent = secure ? (this.https ??= new HttpsAgent({ keepAlive: true })) : this.http;
    const { connectionTimeout, requestTimeout } = this.o.timeouts;
    return new Promise((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)({
        method: 'POST',
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || (secure ? 443 : 80),
        path: '/',
        headers,
        agent,
      });
      const fail = (error: Error) => {
        clearTimeout(connecting);
        clearTimeout(whole);
        req.destroy();
        reject(error);
      };
      const connecting = setTimeout(() => fail(new TimeoutError(`could not connect to ${url.host} within ${connectionTimeout} ms`)), connectionTimeout);
      const whole = setTimeout(() => fail(new TimeoutError(`no answer from ${url.host} within ${requestTimeout} ms`)), requestTimeout);
      req.on('socket', (socket) => {
        if (!socket.connecting) clearTimeout(connecting);
        else socket.once('connect', () => clearTimeout(connecting));
      });
      req.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(connecting);
          clearTimeout(whole);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(body);
    });
  }
}
