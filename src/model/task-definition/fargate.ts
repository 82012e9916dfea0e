import { clientError } from '../errors.js';

/** Fargate's valid task sizes: for each CPU value, the memory values (MiB) it can be paired with. */
const fargateMemoryByCpu: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, steps(1024, 4096, 1024)],
  [1024, steps(2048, 8192, 1024)],
  [2048, steps(4096, 16384, 1024)],
  [4096, steps(8192, 30720, 1024)],
  [8192, steps(16384, 61440, 4096)],
  [16384, steps(32768, 122880, 8192)],
]);

function steps(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

export function isFargateSize(cpu: number, memory: number): boolean {
  return fargateMemoryByCpu.get(cpu)?.includes(memory) ?? false;
}

export function checkFargateSize(cpu: number, memory: number): void {
  if (!isFargateSize(cpu, memory)) {
    throw clientError(`No Fargate configuration exists for given values: ${cpu} CPU, ${memory} memory.`);
  }
}

export const FARGATE_MAX_STOP_TIMEOUT = 120;
