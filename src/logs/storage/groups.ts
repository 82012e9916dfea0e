import type Database from 'better-sqlite3';

/** A log group as stored; `storedBytes` is summed over its streams on read. */
export interface GroupRow {
  readonly id: number;
  readonly name: string;
  readonly createdMs: number;
  readonly retentionDays: number | null;
  readonly logGroupClass: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly storedBytes: number;
}

interface RawGroup {
  id: number;
  name: string;
  created_ms: number;
  retention_days: number | null;
  log_group_class: string;
  tags: string;
  stored_bytes: number;
}

const toGroup = (r: RawGroup): GroupRow => ({
  id: r.id,
  name: r.name,
  createdMs: r.created_ms,
  retentionDays: r.retention_days,
  logGroupClass: r.log_group_class,
  tags: JSON.parse(r.tags) as Record<string, string>,
  storedBytes: r.stored_bytes,
});

const SELECT = `SELECT g.*, (SELECT coalesce(sum(s.stored_bytes), 0) FROM log_streams s WHERE s.group_id = g.id) AS stored_bytes
  FROM log_groups g`;

/** Every character a name can hold sorts below this one, so `[prefix, prefix + TOP)` is a prefix range. */
export const TOP = '\u{10FFFF}';

export interface GroupListing {
  readonly prefix?: string | undefined;
  /** Case-insensitive substring (DescribeLogGroups' logGroupNamePattern). */
  readonly pattern?: string | undefined;
  readonly logGroupClass?: string | undefined;
  /** Only names after this one (the page token). */
  readonly after?: string | undefined;
  readonly limit: number;
}

export class GroupTable {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      insert: db.prepare<[string, number, string, string]>(
        'INSERT INTO log_groups (name, created_ms, retention_days, log_group_class, tags) VALUES (?, ?, NULL, ?, ?) ON CONFLICT (name) DO NOTHING',
      ),
      byName: db.prepare<[string], RawGroup>(`${SELECT} WHERE g.name = ?`),
      list: db.prepare<{ lo: string; after: string; hi: string; pattern: string; cls: string; limit: number }, RawGroup>(
        `${SELECT} WHERE g.name >= @lo AND g.name > @after AND g.name < @hi AND instr(lower(g.name), lower(@pattern)) > 0
           AND (@cls = '' OR g.log_group_class = @cls)
         ORDER BY g.name LIMIT @limit`,
      ),
      withRetention: db.prepare<[], { id: number; retention_days: number }>(
        'SELECT id, retention_days FROM log_groups WHERE retention_days IS NOT NULL',
      ),
      setRetention: db.prepare<[number | null, number]>('UPDATE log_groups SET retention_days = ? WHERE id = ?'),
      delete: db.prepare<[number]>('DELETE FROM log_groups WHERE id = ?'),
    };
  }

  /** Create a group; false when one of that name exists. */
  create(name: string, createdMs: number, logGroupClass: string, tags: Readonly<Record<string, string>>): boolean {
    return this.stmt.insert.run(name, createdMs, logGroupClass, JSON.stringify(tags)).changes === 1;
  }

  get(name: string): GroupRow | undefined {
    const row = this.stmt.byName.get(name);
    return row && toGroup(row);
  }

  /** Groups in name order. */
  list(listing: GroupListing): GroupRow[] {
    const lo = listing.prefix ?? '';
    return this.stmt.list
      .all({
        lo,
        after: listing.after ?? '',
        hi: lo + TOP,
        pattern: listing.pattern ?? '',
        cls: listing.logGroupClass ?? '',
        limit: listing.limit,
      })
      .map(toGroup);
  }

  /** Groups with a retention policy: id → days. */
  retentions(): { id: number; retentionDays: number }[] {
    return this.stmt.withRetention.all().map((r) => ({ id: r.id, retentionDays: r.retention_days }));
  }

  setRetention(id: number, days: number | null): void {
    this.stmt.setRetention.run(days, id);
  }

  /** Remove the group row; the caller dooms its streams in the same transaction. */
  delete(id: number): void {
    this.stmt.delete.run(id);
  }
}
