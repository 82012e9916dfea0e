import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ControlPlaneEndpoints, isUnavailable, startIndex } from './endpoints.js';

const A = 'http://10.0.0.1:7400';
const B = 'http://10.0.0.2:7400';
const C = 'http://10.0.0.3:7400';

/** A seed whose agent starts on list entry `index` of `n`. */
function seedFor(index: number, n: number): string {
  for (let i = 0; ; i++) if (startIndex(`host-${i}`, n) === index) return `host-${i}`;
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('choosing a control plane replica', () => {
  it('spreads agents over the replicas, each always starting on the same one', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3_000; i++) {
      const endpoints = new ControlPlaneEndpoints([A, B, C], { seed: `ip-10-1-${i}:/var/lib/berth/agent` });
      counts[endpoints.all.indexOf(endpoints.current())]!++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(900);
    const seed = 'ip-10-1-7:/var/lib/berth/agent';
    expect(new ControlPlaneEndpoints([A, B, C], { seed }).current()).toBe(new ControlPlaneEndpoints([A, B, C], { seed }).current());
  });

  it('moves to the next replica when the current one fails, and tells who moved where', () => {
    const moves: string[] = [];
    const endpoints = new ControlPlaneEndpoints([A, B, C], { seed: seedFor(0, 3), onMove: (from, to) => moves.push(`${from} → ${to}`) });
    expect(endpoints.current()).toBe(A);
    expect(endpoints.failed(A)).toBe(B);
    expect(endpoints.current()).toBe(B);
    expect(moves).toEqual([`${A} → ${B}`]);
  });

  it('ignores late failures of a replica it already left (requests that were in flight to it)', () => {
    const endpoints = new ControlPlaneEndpoints([A, B, C], { seed: seedFor(0, 3) });
    endpoints.failed(A);
    endpoints.failed(A);
    endpoints.failed(A);
    expect(endpoints.current()).toBe(B);
  });

  it('passes over replicas that failed recently, for as long as downForMs', () => {
    const endpoints = new ControlPlaneEndpoints([A, B, C], { seed: seedFor(1, 3), downForMs: 30_000 });
    expect(endpoints.current()).toBe(B);
    endpoints.failed(C); // a call that still went to C (say, the session) failed
    expect(endpoints.failed(B)).toBe(A); // C is skipped
    vi.advanceTimersByTime(30_000);
    expect(endpoints.failed(A)).toBe(B); // B's failure has expired, and B comes first after A
  });

  it('keeps walking the list when every replica has failed, never stuck on one', () => {
    const endpoints = new ControlPlaneEndpoints([A, B, C], { seed: seedFor(0, 3) });
    const seen = [endpoints.current()];
    for (let i = 0; i < 6; i++) seen.push(endpoints.failed(endpoints.current()));
    expect(seen).toEqual([A, B, C, A, B, C, A]);
  });

  it('treats a replica that answered again as healthy', () => {
    const endpoints = new ControlPlaneEndpoints([A, B, C], { seed: seedFor(0, 3) });
    endpoints.failed(C);
    endpoints.succeeded(C);
    endpoints.failed(A);
    expect(endpoints.failed(B)).toBe(C);
  });

  it('stays on the only endpoint there is', () => {
    const endpoints = new ControlPlaneEndpoints([A], { seed: 'x' });
    expect(endpoints.failed(A)).toBe(A);
    expect(endpoints.current()).toBe(A);
  });
});

describe('which failures mean the replica is unavailable', () => {
  const sdkError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
  it.each([
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true],
    ['connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), true],
    ['a wrapped network error', new Error('fetch failed', { cause: Object.assign(new Error('x'), { code: 'EHOSTUNREACH' }) }), true],
    ['503 (the replica lost its store)', sdkError('ServiceUnavailableException', 503), true],
    ['500', sdkError('ServerException', 500), true],
    ['400 (about the request: every replica says the same)', sdkError('InvalidParameterException', 400), false],
    ['403', sdkError('UnrecognizedClientException', 403), false],
    ['anything else', new Error('boom'), false],
  ])('%s', (_what, error, expected) => expect(isUnavailable(error)).toBe(expected));
});
