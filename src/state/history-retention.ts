import type { Op, Store } from '../store/store.js';
import { alarmKeys, inverted, scalingKeys, timeOfInvertedKey } from './scaling-keys.js';

/**
 * How long berth keeps what AWS keeps for a limited time: CloudWatch's alarm history 30 days ("Alarm history is
 * available for 30 days", DescribeAlarmHistory), Application Auto Scaling's scaling activities six weeks
 * ("you can view the scaling activities for the last six weeks", DescribeScalingActivities).
 */
export const HISTORY_RETENTION_MS = {
  alarmHistory: 30 * 86_400_000,
  scalingActivities: 42 * 86_400_000,
} as const;

/** Deletes per transaction (etcd caps operations per txn at 128 by default). */
const DELETES_PER_TXN = 100;
const PAGE = 500;

/**
 * Deletes the items under `root` older than `cutoffMs` — keys `<root><group>/<inverted ms>-<id>`, each group newest
 * first —, returns how many. A group's first old item says the rest of the group is old too, and a young item
 * jumps the read straight to the group's first key past the cutoff, so the pass reads what it deletes plus about
 * one key per group. Deletes are unconditional: an item past the cutoff is never written again, so a pass that
 * races a new item (younger, by construction) cannot remove it.
 */
export async function pruneOlderThan(store: Store, root: string, cutoffMs: number): Promise<number> {
  // Past every key of the cutoff's own millisecond ('-' < '.'): the first key of a group strictly older.
  const past = `${inverted(cutoffMs)}.`;
  let deleted = 0;
  let old: Op[] = [];
  const flush = async () => {
    if (old.length > 0) await store.txn([], old);
    deleted += old.length;
    old = [];
  };
  let after: string | undefined;
  for (;;) {
    const page = await store.range(root, { ...(after !== undefined ? { after } : {}), limit: PAGE });
    let jumped = false;
    for (const { key } of page.entries) {
      after = key;
      const at = timeOfInvertedKey(key);
      if (Number.isNaN(at)) continue;
      if (at < cutoffMs) {
        old.push({ type: 'delete', key });
        if (old.length >= DELETES_PER_TXN) await flush();
        continue;
      }
      // Young: skip the rest of its group's young items.
      const group = key.slice(0, key.lastIndexOf('/') + 1);
      if (`${group}${past}` > key) {
        after = `${group}${past}`;
        jumped = true;
        break;
      }
    }
    if (!jumped && !page.more) break;
  }
  await flush();
  return deleted;
}

/** One pass over both: alarm history beyond 30 days, scaling activities beyond six weeks. */
export async function pruneHistories(store: Store, nowMs: number): Promise<{ alarmHistory: number; scalingActivities: number }> {
  return {
    alarmHistory: await pruneOlderThan(store, alarmKeys.histories(), nowMs - HISTORY_RETENTION_MS.alarmHistory),
    scalingActivities: await pruneOlderThan(store, scalingKeys.activities(), nowMs - HISTORY_RETENTION_MS.scalingActivities),
  };
}
