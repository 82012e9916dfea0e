/**
 * A log-bucketed histogram (the DDSketch idea) for percentiles: a value v > 0 counts in bucket ⌈log_γ v⌉ with
 * γ = (1 + α)/(1 − α), α = 1 %; negative values mirror it, zero has its own bucket. The representative of a bucket
 * is within α of every value in it, so a percentile read from the sketch is within 1 % (relative) of the value at
 * that rank, whatever the distribution, and sketches merge exactly (add counts): a 1-hour roll-up's percentile is
 * as accurate as a minute's. CloudWatch's own values lie in ±[8.5e-109, 1.2e108], i.e. ±~12,500 buckets at most; a
 * typical metric (latencies over three decades) uses a few hundred.
 */
export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LN_GAMMA = Math.log(GAMMA);
/** Keys are ordered like values: negatives below 0 (zero's key) below positives. */
const OFFSET = 200_000;

/** The bucket key of `v` (finite). */
export function keyOf(v: number): number {
  if (v === 0) return 0;
  const k = Math.ceil(Math.log(Math.abs(v)) / LN_GAMMA);
  return v > 0 ? OFFSET + k : -(OFFSET + k);
}

/** A value within α of every value of bucket `key`. */
export function valueOf(key: number): number {
  if (key === 0) return 0;
  const k = Math.abs(key) - OFFSET;
  const v = (2 * Math.pow(GAMMA, k)) / (GAMMA + 1);
  return key > 0 ? v : -v;
}

/** Counts by bucket key. */
export type Sketch = Map<number, number>;

export function addTo(sketch: Sketch, v: number, count: number): void {
  addKey(sketch, keyOf(v), count);
}

export function addKey(sketch: Sketch, key: number, count: number): void {
  sketch.set(key, (sketch.get(key) ?? 0) + count);
}

export function mergeInto(into: Sketch, from: ReadonlyMap<number, number>): void {
  for (const [key, count] of from) into.set(key, (into.get(key) ?? 0) + count);
}

/**
 * The `p`th percentile (0-100): the representative of the bucket holding the value of rank ⌈p/100 × n⌉, clamped to
 * [min, max] (which are exact); undefined for an empty sketch.
 */
export function percentile(sketch: ReadonlyMap<number, number>, p: number, min: number, max: number): number | undefined {
  let total = 0;
  for (const count of sketch.values()) total += count;
  if (total <= 0) return undefined;
  if (p <= 0) return min;
  if (p >= 100) return max;
  const rank = Math.max((p / 100) * total, Number.MIN_VALUE);
  const keys = [...sketch.keys()].sort((a, b) => a - b);
  let seen = 0;
  for (const key of keys) {
    seen += sketch.get(key)!;
    if (seen >= rank - 1e-9) return Math.min(max, Math.max(min, valueOf(key)));
  }
  return max;
}

/** One sketch as bytes: `(key, count) × n`, float64 (counts may be fractional: PutMetricData's Counts are doubles). */
export function encodeSketch(sketch: ReadonlyMap<number, number>): Buffer {
  const out = new Float64Array(sketch.size * 2);
  let i = 0;
  for (const [key, count] of sketch) {
    out[i++] = key;
    out[i++] = count;
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** Adds the sketch in `bytes` to `into`. */
export function decodeSketch(bytes: Uint8Array, into: Sketch = new Map()): Sketch {
  const values = float64View(bytes);
  for (let i = 0; i + 1 < values.length; i += 2) into.set(values[i]!, (into.get(values[i]!) ?? 0) + values[i + 1]!);
  return into;
}

/** A Float64Array over `bytes`, copied when SQLite's buffer is not 8-byte aligned. */
export function float64View(bytes: Uint8Array): Float64Array {
  if (bytes.byteOffset % 8 === 0) return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  return new Float64Array(new Uint8Array(bytes).buffer);
}
