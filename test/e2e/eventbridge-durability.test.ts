import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, describe, expect, it } from 'vitest';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

const REGION = 'us-east-1';

/**
 * An event PutEvents acknowledged survives a kill -9 of the only server: the restarted server (same data directory)
 * routes it to the matching rule and attempts its target. The target's role does not exist, so every attempt fails
 * and is logged with the event's id, which is what this test looks for in the restarted server's log; no agent is
 * needed. (The first server may or may not have routed it before it died: either way the event or its delivery is
 * in the store, and only the restarted server is looked at.)
 */
describe('EventBridge durability', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-events-durable-'));
  let server: BerthServerProcess | undefined;

  afterAll(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an acknowledged event is delivered by the server restarted after a kill -9', async () => {
    server = await startBerthServer(join(dir, 'server'), ['--log-level', 'info']);
    let events = new EventBridgeClient({ endpoint: server.url, region: REGION, credentials: { ...server.keys }, maxAttempts: 1 });
    const account = '000000000000';
    await events.send(new PutRuleCommand({ Name: 'orders', EventPattern: '{"source":["shop"]}' }));
    const cluster = `arn:aws:ecs:${REGION}:${account}:cluster/default`;
    const put = await events.send(
      new PutTargetsCommand({ Rule: 'orders', Targets: [{ Id: 'run', Arn: cluster, RoleArn: `arn:aws:iam::${account}:role/missing`, EcsParameters: { TaskDefinitionArn: 'x:1' } }] }),
    );
    expect(put.FailedEntryCount).toBe(0);
    const answer = await events.send(new PutEventsCommand({ Entries: [{ Source: 'shop', DetailType: 'order placed', Detail: '{"id":7}' }] }));
    const eventId = answer.Entries![0]!.EventId!;
    expect(eventId).toBeDefined();
    expect(await server.kill('SIGKILL')).toBeNull();
    events.destroy();

    server = await startBerthServer(join(dir, 'server'), ['--log-level', 'info']);
    events = new EventBridgeClient({ endpoint: server.url, region: REGION, credentials: { ...server.keys }, maxAttempts: 1 });
    const deadline = Date.now() + 20_000;
    const attempted = () => server!.stdout().split('\n').some((line) => line.includes(eventId) && line.includes('event delivery failed'));
    while (Date.now() < deadline && !attempted()) await new Promise((r) => setTimeout(r, 200));
    expect(attempted(), server.stdout().slice(-3000)).toBe(true);
    events.destroy();
  }, 60_000);
});
