import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { ListClustersCommand } from '@aws-sdk/client-ecs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../testing/api-server.js';
import { failure } from '../testing/failure.js';
import { startLogSweep } from './retention-sweep.js';

const arn = (name: string) => `arn:aws:logs:${TEST_REGION}:${TEST_ACCOUNT}:log-group:${name}`;

let api: ApiFixture;
beforeAll(async () => {
  api = await startApiFixture();
});
afterAll(() => api.stop());

const groupsWithPrefix = async (prefix: string) =>
  (await api.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix }))).logGroups!.map((g) => g.logGroupName);

describe('CreateLogGroup and DescribeLogGroups', () => {
  it('creates a group and describes it as CloudWatch Logs does', async () => {
    const before = Date.now();
    await api.logs.send(new CreateLogGroupCommand({ logGroupName: '/app/web', tags: { team: 'core' } }));
    const { logGroups } = await api.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/app/web' }));
    expect(logGroups).toEqual([
      {
        logGroupName: '/app/web',
        creationTime: expect.any(Number),
        metricFilterCount: 0,
        arn: `${arn('/app/web')}:*`,
        logGroupArn: arn('/app/web'),
        storedBytes: 0,
        logGroupClass: 'STANDARD',
      },
    ]);
    expect(logGroups![0]!.creationTime).toBeGreaterThanOrEqual(before);
    expect(logGroups![0]!.creationTime).toBeLessThanOrEqual(Date.now());
  });

  it('refuses a second group of the same name', async () => {
    await api.logs.send(new CreateLogGroupCommand({ logGroupName: 'dup' }));
    const e = await failure(api.logs.send(new CreateLogGroupCommand({ logGroupName: 'dup' })));
    expect(e).toMatchObject({ name: 'ResourceAlreadyExistsException', status: 400 });
  });

  it('validates names and refuses what it does not implement, creating nothing', async () => {
    const bad = ['', 'has space', 'colon:', 'x'.repeat(513), 'aws/reserved'];
    for (const logGroupName of bad) {
      const e = await failure(api.logs.send(new CreateLogGroupCommand({ logGroupName })));
      expect(e.name, logGroupName).toBe('InvalidParameterException');
    }
    const kms = await failure(api.logs.send(new CreateLogGroupCommand({ logGroupName: 'kms', kmsKeyId: 'arn:aws:kms:x' })));
    expect(kms).toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(/KMS/) });
    expect(await groupsWithPrefix('kms')).toEqual([]);
    expect(await groupsWithPrefix('aws')).toEqual([]);
    // 512 characters of every allowed kind are fine.
    const longest = `._-/#${'A'.repeat(500)}az09999`;
    await api.logs.send(new CreateLogGroupCommand({ logGroupName: longest }));
    expect(await groupsWithPrefix('._-/#')).toEqual([longest]);
  });

  it('pages in name order, filters by prefix or case-insensitive pattern, and looks up identifiers', async () => {
    const names = ['p/a', 'p/b', 'p/c', 'p/d', 'p/e'];
    for (const logGroupName of [...names].reverse()) await api.logs.send(new CreateLogGroupCommand({ logGroupName }));
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await api.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'p/', limit: 2, nextToken }));
      expect(page.logGroups!.length).toBeLessThanOrEqual(2);
      seen.push(...page.logGroups!.map((g) => g.logGroupName!));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(seen).toEqual(names);

    const pattern = await api.logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: 'P/C' }));
    expect(pattern.logGroups!.map((g) => g.logGroupName)).toEqual(['p/c']);
    const byId = await api.logs.send(new DescribeLogGroupsCommand({ logGroupIdentifiers: [arn('p/e'), 'p/a', 'nope', arn('p/b')] }));
    expect(byId.logGroups!.map((g) => g.logGroupName)).toEqual(['p/a', 'p/b', 'p/e']);
  });

  it('refuses contradictory or malformed listings', async () => {
    const both = await failure(api.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'a', logGroupNamePattern: 'b' })));
    expect(both.name).toBe('InvalidParameterException');
    const limit = await failure(api.logs.send(new DescribeLogGroupsCommand({ limit: 51 })));
    expect(limit.name).toBe('InvalidParameterException');
    const token = await failure(api.logs.send(new DescribeLogGroupsCommand({ nextToken: 'garbage' })));
    expect(token).toMatchObject({ name: 'InvalidParameterException', message: 'The specified nextToken is invalid.' });
  });
});

describe('retention policies', () => {
  it('sets, shows and removes a retention policy', async () => {
    await api.logs.send(new CreateLogGroupCommand({ logGroupName: 'ret' }));
    await api.logs.send(new PutRetentionPolicyCommand({ logGroupName: 'ret', retentionInDays: 7 }));
    expect((await api.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'ret' }))).logGroups![0]!.retentionInDays).toBe(7);
    await api.logs.send(new DeleteRetentionPolicyCommand({ logGroupName: 'ret' }));
    expect((await api.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'ret' }))).logGroups![0]!.retentionInDays).toBeUndefined();
  });

  it('accepts only CloudWatch Logs’ periods and existing groups', async () => {
    await api.logs.send(new CreateLogGroupCommand({ logGroupName: 'ret2' }));
    const days = await failure(api.logs.send(new PutRetentionPolicyCommand({ logGroupName: 'ret2', retentionInDays: 2 })));
    expect(days).toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('retentionInDays') });
    expect((await api.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'ret2' }))).logGroups![0]!.retentionInDays).toBeUndefined();
    for (const send of [
      () => api.logs.send(new PutRetentionPolicyCommand({ logGroupName: 'ghost', retentionInDays: 1 })),
      () => api.logs.send(new DeleteRetentionPolicyCommand({ logGroupName: 'ghost' })),
    ]) {
      expect(await failure(send())).toMatchObject({ name: 'ResourceNotFoundException', message: 'The specified log group does not exist.' });
    }
  });
});

describe('DeleteLogGroup', () => {
  it('removes the group with its streams; a new group of that name starts empty', async () => {
    await api.logs.send(new CreateLogGroupCommand({ logGroupName: 'gone' }));
    await api.logs.send(new CreateLogStreamCommand({ logGroupName: 'gone', logStreamName: 's' }));
    await api.logs.send(new PutLogEventsCommand({ logGroupName: 'gone', logStreamName: 's', logEvents: [{ timestamp: Date.now(), message: 'm' }] }));
    expect((await api.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'gone' }))).logGroups![0]!.storedBytes).toBe(1);
    await api.logs.send(new DeleteLogGroupCommand({ logGroupName: 'gone' }));
    expect(await groupsWithPrefix('gone')).toEqual([]);
    expect(await failure(api.logs.send(new DeleteLogGroupCommand({ logGroupName: 'gone' })))).toMatchObject({ name: 'ResourceNotFoundException' });
    await api.logs.send(new CreateLogGroupCommand({ logGroupName: 'gone' }));
    expect((await api.logs.send(new DescribeLogStreamsCommand({ logGroupName: 'gone' }))).logStreams).toEqual([]);
    // The sweep purges the deleted stream's events (and only once).
    const sweep = startLogSweep({ store: api.server.logs.store, dir: api.server.logs.dir, now: Date.now, log: pino({ level: 'silent' }) });
    try {
      expect((await sweep.runOnce()).purged).toBeGreaterThanOrEqual(1);
      expect((await sweep.runOnce()).purged).toBe(0);
    } finally {
      await sweep.stop();
    }
  });
});

describe('signing', () => {
  it('accepts credentials scoped to logs for Logs and to ecs for ECS, and not crossed', async () => {
    await api.ecs.send(new ListClustersCommand({}));
    const crossed = await api.raw({ target: 'Logs_20140328.DescribeLogGroups', service: 'ecs' });
    expect(crossed.status).toBe(403);
    expect(crossed.body).toMatchObject({ __type: 'InvalidSignatureException', message: expect.stringContaining("'logs'") });
    const ok = await api.raw({ target: 'Logs_20140328.DescribeLogGroups', service: 'logs' });
    expect(ok.status).toBe(200);
    const unsupported = await api.raw({ target: 'Logs_20140328.PutMetricFilter', service: 'logs', body: JSON.stringify({ logGroupName: 'a', filterName: 'f', filterPattern: '', metricTransformations: [{ metricName: 'm', metricNamespace: 'n', metricValue: '1' }] }) });
    expect(unsupported.body).toMatchObject({ __type: 'UnsupportedFeatureException' });
  });
});
