import type { FastifyBaseLogger } from 'fastify';
import { keys } from '../../state/keys.js';
import type { PresenceRecord } from '../../state/records/presence.js';
import { keepLease, systemTimers, withDeadline, type KeptLease, type Timers } from '../../store/lease-keeper.js';
import { LeaseNotFoundError, type Store } from '../../store/store.js';

export interface PresenceOptions {
  readonly store: Store;
  readonly replicaId: string;
  /** This replica's listener as other replicas reach it (`http://host:port`), once it listens. */
  readonly url?: () => string | undefined;
  readonly log: FastifyBaseLogger;
  /** The replica's presence lease TTL (default 5 s): how long after a replica dies its agents still look connected. */
  readonly ttlMs?: number;
  /** After a failed put or grant, try again this long later (default 1 s). */
  readonly retryMs?: number;
  readonly timers?: Timers;
}

interface Held {
  readonly cluster: string;
  readonly instanceId: string;
  readonly session: string;
  readonly since: number;
  /** The presence key's mod revision after our put; undefined until it is written. */
  modRevision?: number;
  /** The put in flight (withdraw waits for it). */
  writing?: Promise<void>;
}

/**
 * This replica's agent sessions, published in the store as `presence/<cluster>/<instanceId>` keys attached to
 * one lease the replica keeps alive. Liveness thereby survives the replica: if it dies, its lease expires and
 * every key of its sessions goes with it; a replica starting touches nobody else's. The leader's instance
 * monitor turns these keys into `agentConnected`.
 *
 * A session's key is deleted on close only if it is still the one this session wrote (compare on its mod
 * revision), so an agent that already reconnected elsewhere stays present. If the lease is lost (the replica
 * was cut off from the store for longer than the TTL), a new one is granted and every open session is put again.
 */
export class SessionPresence {
  private readonly held = new Map<string, Held>();
  private readonly ttlMs: number;
  private readonly retryMs: number;
  private readonly timers: Timers;
  private lease?: KeptLease;
  /** The lease being (re)granted; puts wait for it. */
  private granting?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: PresenceOptions) {
    this.ttlMs = options.ttlMs ?? 5_000;
    this.retryMs = options.retryMs ?? 1_000;
    this.timers = options.timers ?? systemTimers;
  }

  /** Grant the replica's lease (fails if the store cannot be reached). */
  async start(): Promise<void> {
    this.lease = await this.grant();
  }

  /** Publish that `session` of this replica holds the instance's agent now. */
  announce(cluster: string, instanceId: string, session: string): Promise<void> {
    const previous = this.held.get(`${cluster}/${instanceId}`);
    // After the previous session's put still in flight, if any: its revision must not land after ours.
    const entry: Held = { cluster, instanceId, session, since: this.timers.now(), ...(previous?.writing ? { writing: previous.writing } : {}) };
    this.held.set(`${cluster}/${instanceId}`, entry);
    return this.write(entry);
  }

  /** The session closed: delete its key, unless another session (here or elsewhere) has replaced it. */
  async withdraw(cluster: string, instanceId: string, session: string): Promise<void> {
    const id = `${cluster}/${instanceId}`;
    const entry = this.held.get(id);
    if (entry?.session !== session) return;
    this.held.delete(id);
    await entry.writing;
    if (entry.modRevision === undefined) return;
    const key = keys.presence(cluster, instanceId);
    // Retried until it is done, someone replaced the key (the compare fails: nothing to do), a new session for
    // the instance came here, or this replica stops: a key left behind would show the agent connected for as
    // long as this replica keeps its lease.
    for (;;) {
      try {
        await this.options.store.txn([{ key, modRevision: entry.modRevision }], [{ type: 'delete', key }]);
        return;
      } catch (err) {
        if (this.stopped || this.held.has(id)) return;
        this.options.log.warn({ err, instance: instanceId }, 'could not withdraw an agent session; retrying');
        await new Promise<void>((resolve) => this.timers.setTimeout(resolve, this.retryMs));
      }
    }
  }

  /** Revoke the lease: every session of this replica stops being present at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    const lease = this.lease;
    this.lease = undefined;
    if (!lease) return;
    lease.stop();
    await withDeadline(this.options.store.revokeLease(lease.id), this.ttlMs, this.timers).catch(() => {});
  }

  private async grant(): Promise<KeptLease> {
    return keepLease(this.options.store, this.ttlMs, {
      timers: this.timers,
      onLost: (reason) => this.renew(reason),
      onError: (err) => this.options.log.warn({ err }, 'presence keepalive failed'),
    });
  }

  /** The lease is gone (or about to be): take a new one and put every open session again. */
  private renew(reason: string): void {
    if (this.stopped) return;
    this.options.log.warn({ reason, sessions: this.held.size }, 'presence lease lost; granting a new one');
    this.lease = undefined;
    const attempt = async (): Promise<void> => {
      if (this.stopped) return;
      try {
        const lease = await this.grant();
        if (this.stopped) {
          // stop() came while this grant was under way and found no lease to end: end this one here.
          lease.stop();
          await withDeadline(this.options.store.revokeLease(lease.id), this.ttlMs, this.timers).catch(() => {});
          return;
        }
        this.lease = lease;
      } catch (err) {
        this.options.log.warn({ err }, 'could not grant a presence lease; retrying');
        await new Promise<void>((resolve) => this.timers.setTimeout(resolve, this.retryMs));
        return attempt();
      }
    };
    this.granting = attempt().finally(() => (this.granting = undefined));
    void this.granting.then(() => {
      for (const entry of this.held.values()) void this.write(entry);
    });
  }

  /** Put the session's key with the current lease, retrying until it is written or the session is gone. */
  private write(entry: Held): Promise<void> {
    const run = async (): Promise<void> => {
      for (;;) {
        if (this.stopped || this.held.get(`${entry.cluster}/${entry.instanceId}`) !== entry) return;
        await this.granting;
        const lease = this.lease;
        try {
          if (!lease) throw new Error('no presence lease');
          const url = this.options.url?.();
          const value = JSON.stringify({ replica: this.options.replicaId, session: entry.session, since: entry.since, ...(url ? { url } : {}) } satisfies PresenceRecord);
          const key = keys.presence(entry.cluster, entry.instanceId);
          const { revision } = await this.options.store.txn([], [{ type: 'put', key, value, lease: lease.id }]);
          entry.modRevision = revision;
          return;
        } catch (err) {
          // A lost lease is renewed by its keeper (which puts every session again); anything else: try again.
          if (err instanceof LeaseNotFoundError) return;
          this.options.log.warn({ err, instance: entry.instanceId }, 'could not publish an agent session; retrying');
          await new Promise<void>((resolve) => this.timers.setTimeout(resolve, this.retryMs));
        }
      }
    };
    const writing = (entry.writing ?? Promise.resolve()).then(run);
    entry.writing = writing;
    return writing;
  }
}
