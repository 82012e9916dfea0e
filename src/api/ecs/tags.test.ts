import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
  ListTagsForResourceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeAgentDir, startFakeAgent, untilConnected, type FakeAgent } from '../../testing/fake-agents.js';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';
import { minimalTaskDefinition } from '../../testing/task-definition-samples.js';

const base = `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}`;
let api: ApiFixture;
let agent: FakeAgent;
const arns = { task: '', instance: '' };
beforeAll(async () => {
  api = await startApiFixture();
  await api.ecs.send(new CreateClusterCommand({ clusterName: 'tags', tags: [{ key: 'a', value: '1' }] }));
  await api.ecs.send(new RegisterTaskDefinitionCommand(minimalTaskDefinition('tagged')));
  agent = await startFakeAgent(api.server.url, { cluster: 'tags' });
  arns.instance = agent.running.containerInstanceArn;
  await untilConnected(api.ecs, [agent], 'tags');
  const { tasks } = await api.ecs.send(new RunTaskCommand({ cluster: 'tags', taskDefinition: 'tagged', tags: [{ key: 'a', value: '1' }] }));
  arns.task = tasks![0]!.taskArn!;
});
afterAll(async () => {
  await agent.stop();
  removeAgentDir(agent);
  await api.stop();
});

const listTags = (resourceArn: string) => api.ecs.send(new ListTagsForResourceCommand({ resourceArn })).then((r) => r.tags);

describe.each([
  ['cluster', () => `${base}:cluster/tags`, [{ key: 'a', value: '1' }]],
  ['task definition', () => `${base}:task-definition/tagged:1`, []],
  ['task', () => arns.task, [{ key: 'a', value: '1' }]],
  ['container instance', () => arns.instance, []],
])('tags on a %s', (_kind, arnOf, initial) => {
  let arn: string;
  beforeAll(() => {
    arn = arnOf();
  });

  it('adds, overwrites, lists and removes tags', async () => {
    expect(await listTags(arn)).toEqual(initial);
    await api.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'env', value: 'prod' }, { key: 'owner', value: 'me' }] }));
    await api.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'env', value: 'dev' }] }));
    expect(await listTags(arn)).toEqual([...initial, { key: 'env', value: 'dev' }, { key: 'owner', value: 'me' }]);
    await api.ecs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['owner', 'not-there'] }));
    expect(await listTags(arn)).toEqual([...initial, { key: 'env', value: 'dev' }]);
    await api.ecs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['env'] }));
  });

  it('refuses to go past 50 tags, and keeps the tags it had', async () => {
    const tags = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    await api.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: tags.slice(0, 49 - initial.length) }));
    const e = await failure(api.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'x1', value: '' }, { key: 'x2', value: '' }] })));
    expect(e.name).toBe('InvalidParameterException');
    expect(e.message).toMatch(/at most 50 tags/);
    expect(await listTags(arn)).toHaveLength(49);
    await api.ecs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: tags.map((t) => t.key) }));
    expect(await listTags(arn)).toEqual(initial);
  });

  it('refuses reserved and invalid tags', async () => {
    expect((await failure(api.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'AWS:x', value: '' }] })))).name).toBe(
      'InvalidParameterException',
    );
    const longKey = await failure(api.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'k'.repeat(129), value: '' }] })));
    expect(longKey.message).toMatch(/tags\[0\]\.key/);
    const badChar = await failure(api.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'semi;colon', value: '' }] })));
    expect(badChar.name).toBe('InvalidParameterException');
  });
});

describe('tagging errors', () => {
  it('answers for malformed, unsupported, foreign and unknown ARNs', async () => {
    const malformed = await failure(listTags('not-an-arn'));
    expect(malformed).toMatchObject({ name: 'InvalidParameterException' });
    const foreign = await failure(listTags(`arn:aws:ecs:eu-west-1:${TEST_ACCOUNT}:cluster/tags`));
    expect(foreign.name).toBe('ResourceNotFoundException');
    const missingCluster = await failure(listTags(`${base}:cluster/ghost`));
    expect(missingCluster.name).toBe('ClusterNotFoundException');
    const missingTd = await failure(listTags(`${base}:task-definition/tagged:9`));
    expect(missingTd.name).toBe('ClientException');
    const noRevision = await failure(listTags(`${base}:task-definition/tagged`));
    expect(noRevision.name).toBe('ResourceNotFoundException');
    const missingTask = await failure(listTags(`${base}:task/tags/${'0'.repeat(32)}`));
    expect(missingTask).toMatchObject({ name: 'InvalidParameterException', message: 'The referenced task was not found.' });
  });

  // Found by fuzzing: the resource type was looked up in a plain object, and these are members of every object.
  it.each(['constructor', 'toString', 'hasOwnProperty', 'valueOf'])("refuses a '%s' resource type as unsupported, with every tagging action", async (type) => {
    const resourceArn = `${base}:${type}/tags`;
    const message = `Tagging '${type}' resources is not supported.`;
    expect(await failure(listTags(resourceArn))).toMatchObject({ name: 'InvalidParameterException', message });
    const tag = await failure(api.ecs.send(new TagResourceCommand({ resourceArn, tags: [{ key: 'k', value: 'v' }] })));
    expect(tag).toMatchObject({ name: 'InvalidParameterException', message });
    const untag = await failure(api.ecs.send(new UntagResourceCommand({ resourceArn, tagKeys: ['k'] })));
    expect(untag).toMatchObject({ name: 'InvalidParameterException', message });
  });

  it('no longer tags a deleted cluster', async () => {
    await api.ecs.send(new CreateClusterCommand({ clusterName: 'doomed' }));
    await api.ecs.send(new DeleteClusterCommand({ cluster: 'doomed' }));
    const e = await failure(api.ecs.send(new TagResourceCommand({ resourceArn: `${base}:cluster/doomed`, tags: [{ key: 'k', value: 'v' }] })));
    expect(e.name).toBe('ClusterNotFoundException');
    const { clusters } = await api.ecs.send(new DescribeClustersCommand({ clusters: ['doomed'], include: ['TAGS'] }));
    expect(clusters?.[0]?.tags).toEqual([]);
  });
});
