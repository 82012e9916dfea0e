import { describe, expect, it } from 'vitest';
import { runningTask, tokenFor } from '../testing/task-states.js';
import { findRequester, redactToken } from './lookup.js';

describe('who is asking', () => {
  const bridgeA = runningTask('aaaa');
  const bridgeB = runningTask('bbbb');
  const hostC = runningTask('cccc', { networkMode: 'host' });
  const tasks = [bridgeA, bridgeB, hostC];
  const ip = (t: typeof bridgeA) => t.containers[0]!.ipv4Address!;
  const token = (t: typeof bridgeA) => t.containers[0]!.metadataToken!;

  it('finds a bridge-mode container by its token, asked from its own address', () => {
    const found = findRequester(tasks, token(bridgeA), ip(bridgeA));
    expect(found?.task.arn).toBe(bridgeA.arn);
    expect(found?.container.name).toBe('app');
    // IPv4-mapped IPv6 addresses (a dual-stack listener) are the same address.
    expect(findRequester(tasks, token(bridgeA), `::ffff:${ip(bridgeA)}`)?.task.arn).toBe(bridgeA.arn);
  });

  it("refuses another task's token, from a container with an address of its own", () => {
    expect(findRequester(tasks, token(bridgeB), ip(bridgeA))).toBeUndefined();
    expect(findRequester(tasks, token(hostC), ip(bridgeA))).toBeUndefined();
  });

  it("refuses a bridge-mode container's token from anywhere but its task (the host, a host-mode container)", () => {
    expect(findRequester(tasks, token(bridgeA), '169.254.170.2')).toBeUndefined();
    expect(findRequester(tasks, token(bridgeA), '10.0.0.9')).toBeUndefined();
  });

  it('lets a container use the token of another container of its own task', () => {
    const two = runningTask('dddd', { containers: [{ name: 'web' }, { name: 'sidecar' }].map((c) => ({ ...c, image: 'x', environment: {}, overrides: '{}', containerArn: '' })) });
    const all = [...tasks, two];
    expect(findRequester(all, two.containers[1]!.metadataToken!, two.containers[0]!.ipv4Address)?.container.name).toBe('sidecar');
  });

  it('finds a host-mode container from the host address (only the token tells host-mode tasks apart)', () => {
    expect(findRequester(tasks, token(hostC), '169.254.170.2')?.task.arn).toBe(hostC.arn);
  });

  it('does not hold a detached address against its next owner', () => {
    // Task A stopped and its network is gone; a new task got the same address from the pool.
    const stopped = runningTask('eeee', { state: () => ({ known: 'STOPPED', networkId: undefined }) });
    const reused = runningTask('ffff', { state: () => ({ ipv4Address: stopped.containers[0]!.ipv4Address! }) });
    expect(findRequester([stopped, reused], token(reused), ip(reused))?.task.arn).toBe(reused.arn);
    // …and the stopped container's token is no use from that address any more.
    expect(findRequester([stopped, reused], token(stopped), ip(reused))).toBeUndefined();
  });

  it('knows no unknown or malformed token', () => {
    expect(findRequester(tasks, tokenFor('nobody'), ip(bridgeA))).toBeUndefined();
    expect(findRequester(tasks, 'short', ip(bridgeA))).toBeUndefined();
    expect(findRequester(tasks, token(bridgeA).toUpperCase(), ip(bridgeA))).toBeUndefined();
  });

  it('shows only a token prefix in logs', () => {
    expect(redactToken(token(bridgeA))).toBe(`${token(bridgeA).slice(0, 4)}…`);
  });
});
