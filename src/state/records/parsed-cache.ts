import type { Entry } from '../../store/store.js';
import type { Parse } from './codec.js';

/**
 * Parsed records by key and mod revision: a value stored at one mod revision never changes, so a record read
 * again unchanged is not parsed again. For hot reads of large records (DescribeTaskDefinition parses a task
 * definition of kilobytes on every call otherwise). Bounded; the oldest entry goes first.
 *
 * Every caller gets the same object, so it is deeply frozen: a caller that tried to change it would change
 * what all others read (it throws instead), and the response serializer may write a frozen object once and
 * reuse the text (shape-serializer.ts).
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
    const value = deepFreeze(this.parse(entry.value, entry.key));
    this.items.delete(entry.key);
    this.items.set(entry.key, { modRevision: entry.modRevision, value });
    if (this.items.size > this.capacity) this.items.delete(this.items.keys().next().value!);
    return value;
  }
}

/** `value` with every object and array reachable from it frozen. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
