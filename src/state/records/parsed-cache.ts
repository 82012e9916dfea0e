import type { Entry } from '../../store/store.js';
import type { Parse } from './codec.js';

/**
 * Parsed records by key and mod revision: a value stored at one mod revision never changes, so a record read
 * again unchanged is not parsed again. For hot reads of large records (DescribeTaskDefinition parses a task
 * definition of kilobytes on every call otherwise). Bounded; the oldest entry goes first.
 */
export class ParsedCache<T> {
  private readonly items = new Map<string, { modRevision: number; value: T }>();

  constructor(
    private readonly parse: Parse<T>,
    private readonly capacity = 1_000,
  ) {}

  /** The entry's record, parsed once per mod revision. */
  read(entry: Entry): T {
    const hit = this.items.get(entry.key);
    if (hit && hit.modRevision === entry.modRevision) return hit.value;
    const value = this.parse(entry.value, entry.key);
    this.items.delete(entry.key);
    this.items.set(entry.key, { modRevision: entry.modRevision, value });
    if (this.items.size > this.capacity) this.items.delete(this.items.keys().next().value!);
    return value;
  }
}
