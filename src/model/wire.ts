/**
 * An AWS SDK type as it travels in the JSON protocol and as berth stores it: timestamps are epoch
 * seconds (numbers) rather than Date objects. (Mapped types keep arrays and tuples as they are.)
 */
export type Wire<T> = T extends Date ? number : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;
