import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { DNS_SERVER_HEADER, parseFrame, type AcsFrame, type AcsTask, type ExecStartMessage, type IAMRoleCredentialsMessage } from '../model/acs.js';
import { background } from '../process/background.js';
import { SigV4Signer } from '../process/sigv4-signer.js';

/** Where to open the session: the control plane's replicas (ControlPlaneEndpoints). */
export interface SessionEndpoints {
  current(): string;
  failed(endpoint: string): void;
  succeeded(endpoint: string): void;
}

export interface SessionClientOptions {
  /**
   * The replicas to open the session on: each attempt asks for the current one, and a replica that cannot
   * be reached, refuses with a 5xx, drops an open session or falls silent is reported as failed, so the
   * next attempt goes to another. (berth's DiscoverPollEndpoint answers with the address it was asked at,
   * so the list is the set of poll endpoints; pinning one answer would keep the agent on a dead replica.)
   */
  readonly endpoints: SessionEndpoints;
  readonly clusterArn: string;
  readonly containerInstanceArn: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  readonly agentVersion: string;
  readonly log: Logger;
  /**
   * Called with every PayloadMessage's tasks; the payload is acknowledged once it has returned (and its
   * promise fulfilled: the tasks are saved). A failure leaves it unacknowledged, so the control plane resends it.
   */
  readonly onPayload: (tasks: AcsTask[]) => void | Promise<void>;
  /** New credentials of a task's role (IAMRoleCredentialsMessage); acknowledged once taken. */
  readonly onCredentials?: (message: IAMRoleCredentialsMessage) => void;
  /** An ECS Exec session to open (exec/exec-sessions.ts). */
  readonly onExecStart?: (message: ExecStartMessage) => void;
  /** The control plane refused the session for good (the instance was deregistered). */
  readonly onFatal: (message: string) => void;
  /**
   * Each session's upgrade response names the replica's DNS server (`host:port`, model/acs.ts DNS_SERVER_HEADER), or
   * none; told with the endpoint's host, which stands for an unspecified address.
   */
  readonly onDnsServer?: (address: string | undefined, endpointHost: string) => void;
  /** The session is (re)established: resend what the control plane must not miss. */
  readonly onOpen?: () => void;
  /** Reconnect once nothing arrived for this long (ECS agent: about a minute). */
  readonly silenceMs?: number;
  readonly pingMs?: number;
  readonly backoff?: { readonly minMs: number; readonly maxMs: number };
  /** How long opening a session may take before the replica counts as failed (default 5 s). */
  readonly handshakeTimeoutMs?: number;
}

/**
 * The agent's end of the session (ECS ACS-style): a WebSocket whose upgrade request is SigV4-signed,
 * acknowledging payloads and heartbeats, pinging, and reconnecting with jittered exponential backoff
 * (250 ms up to 2 min, as the ECS agent does) whenever the connection drops or falls silent — to the
 * next replica when the one it was on failed, so a dead replica costs one short backoff, not a minute.
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
  /** The replica the session is open on (or being opened on). */
  endpoint?: string;

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

  /**
   * The agent moved off `endpoint` (an API call found it unavailable): when the session is on it, drop the
   * session now and reconnect to the current replica, instead of waiting for it to fall silent.
   */
  leave(endpoint: string): void {
    const ws = this.ws;
    if (this.stopped || !ws || this.endpoint !== endpoint || ws.readyState === WebSocket.CLOSED) return;
    this.o.log.warn({ endpoint }, 'leaving the replica the session is on');
    ws.terminate();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const endpoint = this.o.endpoints.current();
    this.endpoint = endpoint;
    const url = new URL('ws', endpoint.endsWith('/') ? endpoint : `${endpoint}/`);
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
    if (this.stopped) return;
    const ws = new WebSocket(url, { headers, handshakeTimeout: this.o.handshakeTimeoutMs ?? 5_000 });
    this.ws = ws;
    // Whether the replica answered about this session itself (a 4xx: another replica would say the same).
    let refused = false;
    ws.on('upgrade', (res) => {
      const dns = res.headers[DNS_SERVER_HEADER];
      this.o.onDnsServer?.(typeof dns === 'string' ? dns : undefined, new URL(endpoint).hostname);
    });
    ws.on('open', () => {
      this.connected = true;
      this.attempt = 0;
      this.lastFrameAt = Date.now();
      this.o.endpoints.succeeded(endpoint);
      this.o.log.info({ endpoint }, 'session with the control plane established');
      this.o.onOpen?.();
    });
    ws.on('message', (data) => this.receive(ws, data.toString()));
    ws.on('pong', () => (this.lastFrameAt = Date.now()));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        // A refusal for lack of ecs:Poll is the operator's to fix (the agent keeps retrying, so a policy change heals it).
        if (body.includes('AccessDeniedException')) {
          this.o.log.error({ endpoint, status: res.statusCode, body }, "control plane refused the session: AccessDeniedException (the agent's credentials need ecs:Poll)");
        } else this.o.log.warn({ endpoint, status: res.statusCode, body }, 'control plane refused the session');
        refused = (res.statusCode ?? 500) < 500;
        if (body.includes('InactiveInstanceException')) this.o.onFatal('the container instance was deregistered');
        ws.terminate();
      });
    });
    ws.on('error', (err) => this.o.log.warn({ endpoint, err: err.message }, 'session error'));
    ws.on('close', (code) => {
      if (this.ws !== ws) return;
      this.connected = false;
      // The control plane replaced this session with a newer one of the same instance: not the replica's fault.
      if (!this.stopped && !refused && code !== 4000) this.o.endpoints.failed(endpoint);
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
        void background(this.o.log, 'handling a payload (left unacknowledged)', async () => {
          await this.o.onPayload(m.tasks);
          this.send(ws, {
            type: 'AckRequest',
            message: { cluster: this.o.clusterArn, containerInstance: this.o.containerInstanceArn, messageId: m.messageId },
          });
        });
        break;
      }
      case 'IAMRoleCredentialsMessage': {
        const m = frame.message;
        const c = m.roleCredentials as Partial<IAMRoleCredentialsMessage['roleCredentials']> | undefined;
        if (typeof m.taskArn !== 'string' || typeof c?.expiration !== 'string' || typeof c.accessKeyId !== 'string' || typeof c.credentialsId !== 'string') {
          this.o.log.warn({ messageId: m.messageId }, 'malformed IAMRoleCredentialsMessage ignored');
          break;
        }
        this.o.onCredentials?.(m);
        this.send(ws, {
          type: 'IAMRoleCredentialsAckRequest',
          message: { messageId: m.messageId, expiration: m.roleCredentials.expiration, credentialsId: m.roleCredentials.credentialsId },
        });
        break;
      }
      case 'ExecStartMessage': {
        const m = frame.message;
        if (typeof m.sessionId !== 'string' || typeof m.token !== 'string' || !Array.isArray(m.command) || typeof m.taskArn !== 'string') {
          this.o.log.warn({ messageId: m.messageId }, 'malformed ExecStartMessage ignored');
          break;
        }
        this.o.onExecStart?.(m);
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
    return new SigV4Signer({ credentials: this.o.credentials, region: this.o.region, service: 'ecs' }).sign({ method: 'GET', host: url.host, path: url.pathname, query });
  }
}
