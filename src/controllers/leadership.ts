/**
 * Leader election over the Store's leases, etcd-style: every replica campaigns for one key; the replica whose
 * put created it (attached to its lease) leads until the key goes. Everything that must run once per cluster —
 * controllers, reapers, periodic jobs — runs on the leader only, writing through a {@link FencedStore} tied to
 * the key's revision at election, so that a deposed leader can never write even before it notices.
 *
 * ```
 *            key absent: grant lease, put if absent
 *  following ─────────────────────────────────────▶ leading ── keepalives fail until (sent + TTL − margin),
 *      ▲  key present: watch it (and re-read every TTL)     │    or the lease is gone, or the key changed
 *      └──────────────────── stepped down ◀─────────────────┘    → close the fence, stop the duties, revoke
 *                (after a lost lease: wait one TTL first, so a healthy replica wins)
 * ```
 *
 * The leader knows the latest moment its lease could still be valid: the time it SENT the last successful
 * keepalive (or the grant) plus the TTL the store returned — the store restarted the countdown no earlier than
 * that. It steps down `marginMs` before that moment, whatever the state of the keepalive in flight; the fence
 * refuses its writes from then on, so no write of it is sent after its lease may have ended.
 */
import type { Logger } from 'pino';
import { FencedStore } from '../store/fenced.js';
import { keepGranted, systemTimers, withDeadline, type KeptLease, type Timers } from '../store/lease-keeper.js';
import { CompactedError, type Entry, type Store, type Watch } from '../store/store.js';

export type { Timers } from '../store/lease-keeper.js';

/** What a replica has while it leads. */
export interface LeaderTerm {
  /** Writes through it compare the leader key's revision: refused with FencedOffError once deposed. */
  readonly store: Store;
  /** The leader key's mod revision at election (the fence). */
  readonly revision: number;
  readonly replicaId: string;
  /**
   * Whether the term surely still holds now: the fence is open and the clock is before the lease's last known
   * validity minus the margin. Checked by writes outside the store (the queue log) before they count, since no
   * store compares a revision for them; a deadline not yet noticed by the step-down timer (a stalled event loop)
   * already answers false here (docs/queues.md).
   */
  readonly holds: () => boolean;
}

/** What the leader runs for its term: stopped when it steps down. */
export interface Duties {
  stop(): Promise<void>;
}

export interface LeadershipOptions {
  readonly store: Store;
  readonly replicaId: string;
  readonly log: Logger;
  /** Start the leader's duties (controllers) for a term. */
  readonly lead: (term: LeaderTerm) => Promise<Duties> | Duties;
  /** The key campaigned for (default `leader`). */
  readonly key?: string;
  /** The leader lease's TTL (default 5 s). */
  readonly ttlMs?: number;
  /** Between keepalives (default TTL/3). */
  readonly keepAliveMs?: number;
  /** Step down this long before the lease could end (default TTL/5): room for a slow clock. */
  readonly marginMs?: number;
  /** After a failed campaign or read, wait this long (default TTL/5). */
  readonly retryMs?: number;
  readonly timers?: Timers;
}

export const LEADER_KEY = 'leader';

export interface Leadership {
  /** `leader` exactly while this replica's fence holds and its duties run (or start). */
  role(): 'leader' | 'follower';
  /** The current term while leading (its fenced store), else undefined. */
  term(): LeaderTerm | undefined;
  /** Stop campaigning; a leader stops its duties and revokes its lease, so another replica takes over at once. */
  stop(): Promise<void>;
}

interface Lead {
  readonly lease: { id: string; ttlMs: number; sentAt: number };
  readonly fence: FencedStore;
  term?: LeaderTerm;
}

/** Campaign for leadership until stopped (see the file's comment). */
export function startLeadership(options: LeadershipOptions): Leadership {
  const { store, log, replicaId } = options;
  const key = options.key ?? LEADER_KEY;
  const ttlMs = options.ttlMs ?? 5_000;
  const keepAliveMs = options.keepAliveMs ?? Math.floor(ttlMs / 3);
  const marginMs = options.marginMs ?? Math.floor(ttlMs / 5);
  const retryMs = options.retryMs ?? Math.floor(ttlMs / 5);
  const timers = options.timers ?? systemTimers;
  let stopped = false;
  let leading: Lead | undefined;
  /** Wakes whatever the loop is waiting for (a sleep, a watch, a term) when stop() is called. */
  let wake: (() => void) | undefined;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = timers.setTimeout(done, ms);
      function done() {
        timers.clearTimeout(t);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  /** Resolves when the key may be free: it changed, the watch failed, or one TTL passed (re-read then). */
  const untilVacant = (seen: Entry) =>
    new Promise<void>((resolve) => {
      let watch: Watch | undefined;
      const t = timers.setTimeout(done, ttlMs);
      function done() {
        timers.clearTimeout(t);
        watch?.close();
        wake = undefined;
        resolve();
      }
      wake = done;
      const watchFrom = (fromRevision: number) => {
        watch = store.watch(key, { fromRevision }, {
          onEvents: (events) => {
            if (events.some((e) => (e.type === 'delete' ? e.key === key : e.entry.key === key))) done();
          },
          onError: (error) => {
            if (!(error instanceof CompactedError)) return done();
            // A long term outlives the history after its election (keepalives never touch the key): look at
            // the key now, and watch again from the compaction on — re-campaigning at once would only meet
            // the same compaction again, in a tight loop.
            store.get(key).then(
              (now) => (now?.modRevision === seen.modRevision ? watchFrom(error.compactRevision + 1) : done()),
              () => done(),
            );
          },
        });
      };
      watchFrom(seen.modRevision + 1);
    });

  /** Take the key if it is free (a new term); otherwise the holder's entry, to watch. */
  async function campaign(): Promise<Lead | Entry> {
    const holder = await store.get(key);
    if (holder) return holder;
    const sentAt = timers.now();
    const lease = await store.grantLease(ttlMs);
    const value = JSON.stringify({ replica: replicaId, since: sentAt });
    const result = await store.txn([{ key, modRevision: 0 }], [{ type: 'put', key, value, lease: lease.id }]).catch(async (error: unknown) => {
      await store.revokeLease(lease.id).catch(() => {});
      throw error;
    });
    if (!result.succeeded) {
      await store.revokeLease(lease.id).catch(() => {});
      return (await store.get(key)) ?? campaign();
    }
    return { lease: { ...lease, sentAt }, fence: new FencedStore(store, key, result.revision) };
  }

  /** Lead until the term ends; resolves once the duties have stopped, with why the term ended. */
  async function serve(lead: Lead): Promise<string | undefined> {
    let why: string | undefined;
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    let kept: KeptLease | undefined;
    const stepDown = (reason: string) => {
      if (why !== undefined) return;
      why = reason;
      // The fence closes first and at once: nothing this leader sends from now on is written.
      void lead.fence.close();
      kept?.stop();
      end();
    };
    wake = () => stepDown('stopping');
    // A write that finds the fence lost ends the term even if the watch of the key has died meanwhile.
    lead.fence.onLost(() => stepDown('the leader key changed'));
    kept = keepGranted(store, lead.lease, {
      timers,
      keepAliveMs,
      marginMs,
      onLost: stepDown,
      onError: (err) => log.warn({ err }, 'leader keepalive failed; stepping down unless one succeeds in time'),
    });
    const watch = store.watch(key, { fromRevision: lead.fence.heldRevision + 1 }, {
      onEvents: (events) => {
        if (events.some((e) => (e.type === 'delete' ? e.key === key : e.entry.key === key))) stepDown('the leader key changed');
      },
      // Keepalives and the fence still guard the term; the watch only makes a lost key noticed sooner.
      onError: (err) => log.warn({ err }, 'leader key watch ended'),
    });
    leading = lead;
    log.info({ replica: replicaId, revision: lead.fence.heldRevision }, 'leading');
    let duties: Duties | undefined;
    try {
      lead.term = {
        store: lead.fence,
        revision: lead.fence.heldRevision,
        replicaId,
        holds: () => lead.fence.holds && kept !== undefined && timers.now() < kept.validUntil() - marginMs,
      };
      duties = await options.lead(lead.term);
      if (why === undefined) await ended;
    } catch (error) {
      log.error({ err: error }, 'could not start the leader duties; stepping down');
      stepDown('duties failed to start');
    } finally {
      leading = undefined;
      wake = undefined;
      watch.close();
      await duties?.stop().catch((err: unknown) => log.error({ err }, 'leader duties did not stop cleanly'));
      log.info({ replica: replicaId, reason: why }, 'stepped down');
      // Let another replica take over now rather than when the lease expires (best effort: the store may be
      // the very thing that is unreachable).
      await withDeadline(store.revokeLease(lead.lease.id), ttlMs, timers).catch(() => {});
    }
    return why;
  }

  const loop = async () => {
    while (!stopped) {
      try {
        const outcome = await campaign();
        if (stopped) {
          if ('fence' in outcome) await store.revokeLease(outcome.lease.id).catch(() => {});
          break;
        }
        if ('fence' in outcome) {
          const why = await serve(outcome);
          // A replica that could not keep its lease is likely the unhealthy one: let the others campaign first
          // (if it is alone, it tries again after a TTL, about when its old lease would have expired anyway).
          if (why !== 'stopping' && why !== 'the leader key changed' && !stopped) await wait(ttlMs);
        } else await untilVacant(outcome);
      } catch (error) {
        if (stopped) break;
        log.warn({ err: error }, 'leader election: store unavailable; retrying');
        await wait(retryMs);
      }
    }
  };
  const running = loop();

  return {
    role: () => (leading?.fence.holds ? 'leader' : 'follower'),
    term: () => (leading?.fence.holds ? leading.term : undefined),
    async stop() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}
