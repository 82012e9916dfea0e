import { CreateClusterCommand, DescribeClustersCommand, ECSClient, ListTaskDefinitionsCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { minimalTaskDefinition } from '../../src/testing/task-definition-samples.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

const client = (s: BerthServerProcess) =>
  new ECSClient({ endpoint: s.url, region: 'us-east-1', credentials: { ...s.keys }, maxAttempts: 1 });

describe('state survives kill -9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-durable-'));
  const dataDir = join(dir, 'data');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged write, the credentials, and revision numbering', async () => {
    const first = await startBerthServer(dataDir);
    const ecs = client(first);
    await ecs.send(new CreateClusterCommand({ clusterName: 'durable' }));
    // Many concurrent writes; every one acknowledged before the kill must be there after it.
    const acked = await Promise.all(Array.from({ length: 40 }, () => ecs.send(new RegisterTaskDefinitionCommand(minimalTaskDefinition('durable')))));
    ecs.destroy();
    expect(await first.kill('SIGKILL')).toBeNull();

    const second = await startBerthServer(dataDir);
    try {
      expect(second.keys.accessKeyId).toBe(first.keys.accessKeyId);
      expect(second.keys.secretAccessKey).toBe(first.keys.secretAccessKey);
      expect(second.stderr()).toContain('(profile berth)');
      const again = client(second);
      const { clusters } = await again.send(new DescribeClustersCommand({ clusters: ['durable'] }));
      expect(clusters?.[0]?.status).toBe('ACTIVE');
      const listed = await again.send(new ListTaskDefinitionsCommand({ familyPrefix: 'durable' }));
      expect(listed.taskDefinitionArns?.sort()).toEqual(acked.map((r) => r.taskDefinition!.taskDefinitionArn!).sort());
      const next = await again.send(new RegisterTaskDefinitionCommand(minimalTaskDefinition('durable')));
      expect(next.taskDefinition?.revision).toBe(41);
      again.destroy();
    } finally {
      await second.kill();
    }
  });

  it('refuses to start a second server on a data directory in use', async () => {
    const running = await startBerthServer(dataDir);
    try {
      await expect(startBerthServer(dataDir)).rejects.toThrow(/in use by another process/);
    } finally {
      await running.kill();
    }
  });
});
