/** A source of numbers in [0, 1), like Math.random. */
export type Random = () => number;

/**
 * A small seeded generator (the SplitMix32 mixing steps over a Weyl sequence): placement draws only a few
 * numbers per task and needs them reproducible for a seed, not cryptographic.
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  };
}

/** A generator from a seed, or the given one. */
export function randomFrom(seedOrRandom: number | Random): Random {
  return typeof seedOrRandom === 'number' ? seededRandom(seedOrRandom) : seedOrRandom;
}
