import type Database from 'better-sqlite3';

type Value = number | string | Buffer | null;

/**
 * An upsert of many rows in few statements: rows gathered `chunk` at a time into one multi-row
 * `INSERT … ON CONFLICT DO UPDATE`, the rest one by one. A group commit writes a few hundred rows; one statement
 * per row cost a round of binding, stepping and resetting each (better-sqlite3's crossing from JavaScript included).
 */
export class BatchedUpsert {
  private readonly one: Database.Statement<[readonly Value[]]>;
  private readonly many: Database.Statement<[readonly Value[]]>;
  private params: Value[] = [];
  private readonly width: number;

  /** `update` is the SET clause (e.g. `stats = excluded.stats`); without `key` and `update`, a plain insert. */
  constructor(db: Database.Database, table: string, columns: readonly string[], key?: readonly string[], update?: string, private readonly chunk = 64) {
    this.width = columns.length;
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    const onConflict = key && update ? ` ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${update}` : '';
    const sql = (n: number) => `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: n }, () => tuple).join(', ')}${onConflict}`;
    this.one = db.prepare<[readonly Value[]]>(sql(1));
    this.many = db.prepare<[readonly Value[]]>(sql(chunk));
  }

  /** One row, its values in the columns' order; written by now or by {@link finish}. No two rows of a batch may share a key. */
  add(...values: Value[]): void {
    for (const v of values) this.params.push(v);
    if (this.params.length === this.chunk * this.width) {
      const params = this.params;
      this.params = [];
      this.many.run(params);
    }
  }

  /** Writes the rows added since the last full chunk (inside the same transaction as {@link add}). */
  finish(): void {
    const params = this.params;
    this.params = [];
    for (let i = 0; i < params.length; i += this.width) this.one.run(params.slice(i, i + this.width));
  }

  /** Forgets rows not written (their transaction failed). */
  reset(): void {
    this.params = [];
  }
}
