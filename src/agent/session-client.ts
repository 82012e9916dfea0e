import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { parseFrame, type AcsFrame, type AcsTask } from '../model/acs.js';

export interface SessionClientOptions {
  /** The endpoint DiscoverPollEndpoint returned (`http://host:port/`). */
  readonly endpoint: string;
  readonly clusterArn: string;
  readonly containerInstanceArn: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  readonly agentVersion: string;
  readonly log: Logger;
  /** Called with every PayloadMessage's tasks; the payload is acknowledged once it returns. */
  readonly onPayload: (tasks: AcsTask[]) => void;
  /** The control plane refused the session for good (the instance was deregistered). */
  readonly onFatal: (message: string) => void;
  /** The session is (re)established: resend what the control plane must not miss. */
  readonly onOpen?: () => void;
  /** Reconnect once nothing arrived for this long (ECS agent: about a minute). */
  readonly silenceMs?: number;
  readonly pingMs?: number;
  readonly backoff?: { readonly minMs: number; readonly maxMs: number };
}

/**
 * The agent's end of the session (ECS ACS-style): a WebSocket whose upgrade request is SigV4-signed,
 * acknowledging payloads and heartbeats, pinging, and reconnecting with jittered exponential backoff
 * (250 ms up to 2 min, as the ECS agent does) whenever the connection drops or falls silent.
 */
export class SessionClient {
  private ws?: WebSocket;
  private stopped = false;
  private attempt = 0;
  private seqNum = 0;
  private lastFrameAt = 0;
  private timer?: NodeJS.Timeout;
  private reconnectTimer?: NodeJS.Timeout;
  connected = false;

  constructor(private readonly o: SessionClientOptions) {}

  start(): void {
    void this.connect();
    this.timer = setInterval(() => this.tick(), Math.min(this.o.pingMs ?? 10_000, 5_000));
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.reconnectTimer);
    this.ws?.close(1000, 'agent stopping');
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const url = new URL('ws', this.o.endpoint.endsWith('/') ? this.o.endpoint : `${this.o.endpoint}/`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = {
      clusterArn: this.o.clusterArn,
      containerInstanceArn: this.o.containerInstanceArn,
      seqNum: String(this.seqNum),
      protocolVersion: '2',
      agentVersion: this.o.agentVersion,
    };
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    let headers: Record<string, string>;
    try {
      headers = await this.sign(url, query);
    } catch (err) {
      this.o.log.error({ err }, 'could not sign the session request');
      this.scheduleReconnect();
      return;
    }
    const ws = new WebSocket(url, { headers, handshakeTimeout: 15_000 });
    this.ws = ws;
    ws.on('open', () => {
      this.connected = true;
      this.attempt = 0;
      this.lastFrameAt = Date.now();
      this.o.log.info('session with the control plane established');
      this.o.onOpen?.();
    });
    ws.on('message', (data) => this.receive(ws, data.toString()));
    ws.on('pong', () => (this.lastFrameAt = Date.now()));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        this.o.log.warn({ status: res.statusCode, body }, 'control plane refused the session');
        if (body.includes('InactiveInstanceException')) this.o.onFatal('the container instance was deregistered');
        ws.terminate();
      });
    });
    ws.on('error', (err) => this.o.log.warn({ err: err.message }, 'session error'));
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.connected = false;
      this.scheduleReconnect();
    });
  }

  private receive(ws: WebSocket, data: string): void {
    this.lastFrameAt = Date.now();
    const frame = parseFrame(data);
    if (!frame) return;
    switch (frame.type) {
      case 'PayloadMessage': {
        const m = frame.message;
        this.seqNum = Math.max(this.seqNum, m.seqNum);
        try {
          this.o.onPayload(m.tasks);
        } catch (err) {
          this.o.log.error({ err }, 'could not handle a payload; not acknowledging it');
          return;
        }
        this.send(ws, {
          type: 'AckRequest',
          message: { cluster: this.o.clusterArn, containerInstance: this.o.containerInstanceArn, messageId: m.messageId },
        });
        break;
      }
      case 'HeartbeatMessage':
        this.send(ws, { type: 'HeartbeatAckRequest', message: { messageId: frame.message.messageId } });
        break;
      case 'ErrorMessage':
        this.o.log.warn({ error: frame.message }, 'control plane reported an error on the session');
        break;
      default:
        break;
    }
  }

  private tick(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastFrameAt > (this.o.silenceMs ?? 60_000)) {
      this.o.log.warn('control plane went silent; reconnecting');
      ws.terminate();
      return;
    }
    ws.ping();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const { minMs, maxMs } = this.o.backoff ?? { minMs: 250, maxMs: 120_000 };
    const delay = Math.min(maxMs, minMs * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt++;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  /** Send a frame now if the session is up (dropped otherwise: onOpen resends what matters). */
  sendFrame(frame: AcsFrame): void {
    if (this.ws) this.send(this.ws, frame);
  }

  private send(ws: WebSocket, frame: AcsFrame): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  }

  /** SigV4 headers for the upgrade request (a GET with the session parameters in the query). */
  private async sign(url: URL, query: Record<string, string>): Promise<Record<string, string>> {
    const signer = new SignatureV4({
      credentials: this.o.credentials,
      region: this.o.region,
      service: 'ecs',
      sha256: Hash.bind(null, 'sha256'),
      applyChecksum: false,
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: 'GET',
        protocol: 'http:',
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        headers: { host: url.host },
      }),
    );
    const { host: _host, ...headers } = signed.headers;
    return headers;
  }
}
