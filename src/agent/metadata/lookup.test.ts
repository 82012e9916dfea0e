import { describe, expect, it } from 'vitest';
import { runningTask, tokenFor } from '../testing/task-states.js';
import { findRequester as find, hostAddressChecker, redactToken } from './lookup.js';

/** The simulated host's own addresses. */
const HOST = new Set(['169.254.170.2', '10.0.0.9']);
const findRequester = (...args: [Parameters<typeof find>[0], string, string | undefined]) => find(...args, (a) => HOST.has(a));

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

  it("lets an awsvpc task's containers use their tokens from the task's address, and no other task's", () => {
    const vpc = runningTask('eeee', { networkMode: 'awsvpc' });
    const all = [...tasks, vpc];
    const vpcIp = vpc.taskNetwork!.ipv4Address!;
    expect(findRequester(all, token(vpc), vpcIp)?.task.arn).toBe(vpc.arn);
    expect(findRequester(all, token(bridgeA), vpcIp)).toBeUndefined();
    expect(findRequester(all, token(vpc), ip(bridgeA))).toBeUndefined();
    expect(findRequester(all, token(vpc), '169.254.170.2')).toBeUndefined();
  });

  it('finds a host-mode container from the host address (only the token tells host-mode tasks apart)', () => {
    expect(findRequester(tasks, token(hostC), '169.254.170.2')?.task.arn).toBe(hostC.arn);
  });

  it("refuses any token to an address that is neither the host's nor a container's (a neighbour routing 169.254.170.2 here)", () => {
    expect(findRequester(tasks, token(hostC), '192.168.1.50')).toBeUndefined();
    expect(findRequester(tasks, token(bridgeA), '192.168.1.50')).toBeUndefined();
  });

  it("knows the host's addresses from its interfaces, re-read after a while", () => {
    let now = 0;
    let addresses = ['127.0.0.1'];
    const isHost = hostAddressChecker(() => ({ lo: addresses.map((address) => ({ address }) as never) }), 1_000, () => now);
    expect(isHost('127.0.0.1')).toBe(true);
    addresses = ['127.0.0.1', '169.254.170.2'];
    expect(isHost('169.254.170.2')).toBe(false);
    now = 1_000;
    expect(isHost('169.254.170.2')).toBe(true);
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
