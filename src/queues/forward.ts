import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { ATTESTATION_HEADERS } from '../api/auth/forwarded-client.js';
import { clientAddressOf, recordClientAddress } from '../api/client-address.js';
import type { Store } from '../store/store.js';

/**
 * SQS on every replica: the queues are held by one process (the leader with etcd, queues/queue-owner.ts), so a
 * replica that does not hold them passes each SQS request on to the one that does, as it came (method, path,
 * headers including Host, body), and its answer back as it went. The owner verifies the signature and serves it:
 * the Host the client signed and the queue URLs it answers name the replica the client called. The owner's
 * address is in the store (`queues/owner`, written by the leader when it opens the queues), trusted only while its
 * revision is the leader key's, so a request is never passed to a deposed leader that has not cleaned up.
 *
 *   request ──held here──▶ served here
 *      └──not held──▶ owner known (≤ cacheMs old) ──▶ passed on ──▶ its answer
 *                       └─ none, or it could not be reached ──▶ served here: ServiceUnavailable (503), retried by the SDKs
 *
 * A request already passed on once (`x-berth-forwarded`) is served where it arrives, never passed again.
 *
 * The request passed on carries the client's address, attested by this replica's signature with the root key pair
 * (api/auth/forwarded-client.ts); the owner serves it with that address as aws:SourceIp once the attestation
 * verifies, and with its peer's (this replica's) otherwise.
 */
export const QUEUE_OWNER_KEY = 'queues/owner';
const FORWARDED = 'x-berth-forwarded';

/** What the leader writes under {@link QUEUE_OWNER_KEY} when it opens the queues. */
export interface QueueOwnerRecord {
  /** `http://host:port` of its listener. */
  readonly url: string;
  readonly replica: string;
  /** The leader key's revision of its term. */
  readonly revision: number;
}

/** An SQS request: JSON 1.0 `AmazonSQS.*`, or a Query request signed for `sqs`. */
export function isSqsRequest(req: IncomingMessage): boolean {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target.startsWith('AmazonSQS.');
  const authorization = req.headers.authorization;
  return typeof authorization === 'string' && authorization.includes('/sqs/aws4_request');
}

export interface QueueForwarderOptions {
  readonly store: Store;
  /** The leader key, whose revision the owner record must carry. */
  readonly leaderKey: string;
  /** Whether this process holds the queues now. */
  readonly held: () => boolean;
  readonly replicaId: string;
  readonly onError: (error: unknown, owner: string) => void;
  /** How long an owner read from the store is used (default 1 s). */
  readonly cacheMs?: number;
  /** Attests the client's address on a request passed on, and verifies such an attestation on one received. */
  readonly attestation?: ClientAddressAttestation;
}

export interface ClientAddressAttestation {
  /** Headers proving the request with `headers` came from `address` (they replace any of the same names). */
  sign(address: string, headers: IncomingHttpHeaders): Promise<Record<string, string>>;
  /** The address a received request's attestation proves, or undefined (none, or it does not verify). */
  verify(headers: IncomingHttpHeaders): Promise<string | undefined>;
}

export class QueueForwarder {
  private readonly agent = new Agent({ keepAlive: true });
  private cached: { owner: QueueOwnerRecord | undefined; at: number } | undefined;

  constructor(private readonly options: QueueForwarderOptions) {}

  /**
   * Passes an SQS request on, or has `serveHere` serve it (this process holds the queues; or it does not and knows
   * no owner to pass it to: then the answer is ServiceUnavailable, 503, which the SDKs retry).
   */
  handle(req: IncomingMessage, res: ServerResponse, serveHere: (req: IncomingMessage, res: ServerResponse) => void): void {
    if (req.headers[FORWARDED] !== undefined) return this.serveForwarded(req, res, serveHere);
    if (this.options.held()) return serveHere(req, res);
    this.owner().then(
      (owner) => (owner && owner.replica !== this.options.replicaId ? this.pass(owner, req, res) : serveHere(req, res)),
      () => serveHere(req, res),
    );
  }

  close(): void {
    this.agent.destroy();
  }

  private async owner(): Promise<QueueOwnerRecord | undefined> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < (this.options.cacheMs ?? 1_000)) return this.cached.owner;
    const [leader, entry] = await Promise.all([this.options.store.get(this.options.leaderKey), this.options.store.get(QUEUE_OWNER_KEY)]);
    const record = entry ? (JSON.parse(entry.value) as QueueOwnerRecord) : undefined;
    const owner = leader && record && record.revision === leader.modRevision ? record : undefined;
    this.cached = { owner, at: now };
    return owner;
  }

  /** A request another replica passed on: served here, as from the client its attestation names if it verifies. */
  private serveForwarded(req: IncomingMessage, res: ServerResponse, serveHere: (req: IncomingMessage, res: ServerResponse) => void): void {
    const attestation = this.options.attestation;
    if (!attestation) return serveHere(req, res);
    attestation.verify(req.headers).then(
      (address) => {
        if (address !== undefined) recordClientAddress(req, address);
        serveHere(req, res);
      },
      () => serveHere(req, res),
    );
  }

  private pass(owner: QueueOwnerRecord, req: IncomingMessage, res: ServerResponse): void {
    const address = clientAddressOf(req);
    const attestation = this.options.attestation;
    if (!attestation || address === undefined) return this.send(owner, req, res, {});
    attestation.sign(address, req.headers).then(
      (headers) => this.send(owner, req, res, headers),
      (error: unknown) => {
        this.options.onError(error, owner.url);
        this.send(owner, req, res, {});
      },
    );
  }

  private send(owner: QueueOwnerRecord, req: IncomingMessage, res: ServerResponse, attested: Record<string, string>): void {
    const target = new URL(owner.url);
    const out = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...endToEnd(req.headers), ...attested, [FORWARDED]: this.options.replicaId }, agent: this.agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        answer.pipe(res);
      },
    );
    out.on('error', (error) => {
      this.cached = undefined;
      this.options.onError(error, owner.url);
      if (res.headersSent) return void res.destroy();
      // The body was (partly) sent on: it cannot be served here. The SDKs retry a 503.
      res.writeHead(503, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'ServiceUnavailable;Receiver', connection: 'close' });
      res.end(JSON.stringify({ __type: 'com.amazonaws.sqs#ServiceUnavailable', message: 'The replica holding the queues could not be reached; retry the request.' }));
    });
    // A client gone before the answer (a long poll given up): the request passed on goes too.
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    req.pipe(out);
  }
}

/** Headers without the hop-by-hop ones (RFC 9110 7.6.1): each connection has its own. */
function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding' || name === 'proxy-connection' || name === 'upgrade') continue;
    // A client's own attestation headers are never passed on as if this replica had made them.
    if ((ATTESTATION_HEADERS as readonly string[]).includes(name)) continue;
    out[name] = value;
  }
  return out;
}
