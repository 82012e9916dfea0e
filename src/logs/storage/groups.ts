import type { Store } from '../../store/store.js';
import { transact } from '../../store/transact.js';
import { logKeys } from './keys.js';
import { rangePages } from '../../store/range-pages.js';
import { newId, parseGroupRecord, parseStreamRecord, type GroupRecord } from './records.js';

export interface GroupListing {
  readonly prefix?: string | undefined;
  /** Case-insensitive substring (DescribeLogGroups' logGroupNamePattern). */
  readonly pattern?: string | undefined;
  readonly logGroupClass?: string | undefined;
  /** Only names after this one (the page token). */
  readonly after?: string | undefined;
  readonly limit: number;
}

const PAGE = 500;

/** Log groups in the Store (`logs/groups/<name>`). */
export class LogGroups {
  constructor(private readonly store: Store) {}

  /** Create a group; false when one of that name exists. */
  async create(name: string, createdMs: number, logGroupClass: string, tags: Readonly<Record<string, string>>): Promise<boolean> {
    const record: GroupRecord = { id: newId(), name, createdMs, retentionDays: null, logGroupClass, tags };
    const { succeeded } = await this.store.txn([{ key: logKeys.group(name), modRevision: 0 }], [{ type: 'put', key: logKeys.group(name), value: JSON.stringify(record) }]);
    return succeeded;
  }

  async get(name: string): Promise<GroupRecord | undefined> {
    const entry = await this.store.get(logKeys.group(name));
    return entry && parseGroupRecord(entry.value);
  }

  /** Groups in name order, filtered, a page at a time. */
  async list(listing: GroupListing): Promise<GroupRecord[]> {
    const prefix = logKeys.groups + (listing.prefix ?? '');
    const pattern = listing.pattern?.toLowerCase();
    const out: GroupRecord[] = [];
    let after = listing.after === undefined ? undefined : logKeys.group(listing.after);
    for (;;) {
      const page = await this.store.range(prefix, { limit: PAGE, ...(after !== undefined ? { after } : {}) });
      for (const e of page.entries) {
        const g = parseGroupRecord(e.value);
        if (pattern !== undefined && !g.name.toLowerCase().includes(pattern)) continue;
        if (listing.logGroupClass && g.logGroupClass !== listing.logGroupClass) continue;
        out.push(g);
        if (out.length === listing.limit) return out;
      }
      if (!page.more) return out;
      after = page.entries.at(-1)!.key;
    }
  }

  /** Every group (the sweep). */
  all(): Promise<GroupRecord[]> {
    return this.list({ limit: Number.MAX_SAFE_INTEGER });
  }

  /** Set or clear the retention of this group (by id: a group of the same name created since is not touched). */
  async setRetention(group: GroupRecord, days: number | null): Promise<boolean> {
    return transact(this.store, async (tx) => {
      const entry = await tx.get(logKeys.group(group.name));
      const current = entry && parseGroupRecord(entry.value);
      if (current?.id !== group.id) return false;
      tx.putJson(logKeys.group(group.name), { ...current, retentionDays: days });
      return true;
    });
  }

  /**
   * Delete the group now: its streams become unreachable at once (they are keyed by the group's id) and the
   * sweep purges them and their chunks, starting from the purge record written in the same transaction.
   */
  async delete(group: GroupRecord, nowMs: number): Promise<boolean> {
    return transact(this.store, async (tx) => {
      const entry = await tx.get(logKeys.group(group.name));
      if (!entry || parseGroupRecord(entry.value).id !== group.id) return false;
      tx.delete(logKeys.group(group.name));
      tx.putJson(logKeys.groupPurge(group.id), { groupId: group.id, name: group.name, deletedMs: nowMs });
      return true;
    });
  }

  /** UTF-8 bytes of the messages kept in the group's streams. */
  async storedBytes(group: GroupRecord): Promise<number> {
    let total = 0;
    for await (const page of rangePages(this.store, logKeys.streamsOf(group.id), PAGE)) {
      for (const e of page) total += parseStreamRecord(e.value).storedBytes;
    }
    return total;
  }
}
