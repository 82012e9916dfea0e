import { describe, expect, it } from 'vitest';
import type { TargetRecord } from '../state/records/elb.js';
import { liveAddresses, NODE_REPORT_REFRESH_MS, NODE_STALE_MS, servingNodes, summed, withServingNode } from './serving-nodes.js';

const T0 = 1_700_000_000_000;
const target: TargetRecord = { id: '10.0.0.5', port: 80, registeredAt: T0, state: 'initial' };

describe('serving nodes', () => {
  it('reads the older single-node form', () => {
    expect(servingNodes({ servedBy: { node: 'a', address: '192.0.2.1', reportedAt: T0 } })).toEqual({ a: { address: '192.0.2.1', reportedAt: T0 } });
  });

  it('shows every live node once and drops a silent one after NODE_STALE_MS', () => {
    let nodes = withServingNode({}, 'a', '192.0.2.1', T0)!;
    nodes = withServingNode({ servedBy: nodes }, 'b', '192.0.2.2', T0 + 1000)!;
    expect(liveAddresses({ servedBy: nodes }, T0 + 2000)).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(liveAddresses({ servedBy: nodes }, T0 + NODE_STALE_MS + 500)).toEqual(['192.0.2.2']);
    // A report from b after a has gone drops a's entry from the record.
    expect(Object.keys(withServingNode({ servedBy: nodes }, 'b', '192.0.2.2', T0 + NODE_STALE_MS + 5000)!)).toEqual(['b']);
  });

  it('writes a heartbeat only when it is due', () => {
    const nodes = withServingNode({}, 'a', '192.0.2.1', T0)!;
    expect(withServingNode({ servedBy: nodes }, 'a', '192.0.2.1', T0 + 1000)).toBeUndefined();
    expect(withServingNode({ servedBy: nodes }, 'a', '192.0.2.9', T0 + 1000)).toEqual({ a: { address: '192.0.2.9', reportedAt: T0 + 1000 } });
    expect(withServingNode({ servedBy: nodes }, 'a', '192.0.2.1', T0 + NODE_REPORT_REFRESH_MS)).toEqual({ a: { address: '192.0.2.1', reportedAt: T0 + NODE_REPORT_REFRESH_MS } });
  });
});

describe('summed target health', () => {
  it('is healthy while any live node says so, unhealthy when all do', () => {
    const both = summed(target, { a: { state: 'healthy', at: T0 }, b: { state: 'unhealthy', reason: 'Target.Timeout', at: T0 + 1 } }, T0 + 2);
    expect(both).toMatchObject({ state: 'healthy', reportedBy: 'a' });
    expect(both.reason).toBeUndefined();
    const none = summed(target, { a: { state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', at: T0 }, b: { state: 'unhealthy', reason: 'Target.Timeout', at: T0 + 1 } }, T0 + 2);
    expect(none).toMatchObject({ state: 'unhealthy', reason: 'Target.Timeout', reportedBy: 'b' });
  });

  it("stops counting a silent node's verdict, and keeps the last state when no node is left", () => {
    const verdicts = { a: { state: 'healthy', at: T0 }, b: { state: 'unhealthy', reason: 'Target.Timeout', at: T0 + 20_000 } } as const;
    expect(summed(target, verdicts, T0 + NODE_STALE_MS + 1)).toMatchObject({ state: 'unhealthy', reportedBy: 'b', verdicts: { b: verdicts.b } });
    const last = summed(target, { a: verdicts.a }, T0 + 1);
    const orphaned = summed(last, last.verdicts!, T0 + NODE_STALE_MS + 1);
    expect(orphaned.state).toBe('healthy');
    expect(orphaned.verdicts).toBeUndefined();
  });

  it('leaves a draining target alone', () => {
    const draining: TargetRecord = { ...target, state: 'draining', drainUntil: T0 + 5000 };
    expect(summed(draining, { a: { state: 'healthy', at: T0 } }, T0)).toBe(draining);
  });
});
