import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, type ApiFixture } from '../../testing/api-server.js';
import { minimalTaskDefinition } from '../../testing/task-definition-samples.js';

const ECS = 'AmazonEC2ContainerServiceV20141113';
let api: ApiFixture;
beforeAll(async () => {
  api = await startApiFixture();
});
afterAll(() => api.stop());

const call = (action: string, body: unknown) =>
  api.raw({ target: `${ECS}.${action}`, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) });

describe('the AWS JSON 1.1 protocol', () => {
  it('answers with the JSON 1.1 content type, a request id, and epoch-second timestamps', async () => {
    const res = await call('RegisterTaskDefinition', minimalTaskDefinition('wire'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    const at = res.body.taskDefinition.registeredAt;
    expect(typeof at).toBe('number');
    expect(Math.abs(at - Date.now() / 1000)).toBeLessThan(10);
  });

  it.each([
    ['malformed JSON', 'RegisterTaskDefinition', '{"family":', 'SerializationException', /not valid JSON/],
    ['a JSON array', 'ListClusters', '[]', 'SerializationException', /must be a JSON object/],
    ['a string where a string list belongs', 'DescribeClusters', { clusters: 'default' }, 'SerializationException', "Invalid type for parameter 'clusters': expected array, got string."],
    ['a number where a string belongs', 'RegisterTaskDefinition', { ...minimalTaskDefinition('x'), family: 5 }, 'SerializationException', "Invalid type for parameter 'family': expected string, got integer."],
    ['a string where an integer belongs, deep inside', 'RegisterTaskDefinition', minimalTaskDefinition('x', { containerDefinitions: [{ name: 'a', image: 'b', memory: '64' as unknown as number }] }), 'SerializationException', "Invalid type for parameter 'containerDefinitions[0].memory': expected integer, got string."],
    ['a fractional integer', 'ListClusters', { maxResults: 1.5 }, 'SerializationException', /'maxResults': expected integer, got number/],
    ['a missing required member', 'RegisterTaskDefinition', { family: 'x' }, 'InvalidParameterException', "Missing required parameter 'containerDefinitions'."],
    ['a missing required member, deep inside', 'RegisterTaskDefinition', minimalTaskDefinition('x', { containerDefinitions: [{ name: 'a', image: 'b', memory: 64, healthCheck: { interval: 5 } as never }] }), 'InvalidParameterException', "Missing required parameter 'containerDefinitions[0].healthCheck.command'."],
    ['an unknown enum value', 'DescribeClusters', { include: ['TAGS', 'EVERYTHING'] }, 'InvalidParameterException', `Invalid value "EVERYTHING" for parameter 'include[1]'. Valid values: ATTACHMENTS, CONFIGURATIONS, SETTINGS, STATISTICS, TAGS.`],
    ['an integer out of range', 'CreateCluster', { clusterName: 'x', defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1001 }] }, 'InvalidParameterException', "Invalid parameter 'defaultCapacityProviderStrategy[0].weight': value 1001 must be <= 1000."],
  ])('answers %s with 400 %s naming the field', async (_label, action, body, type, message) => {
    const res = await call(action, body);
    expect(res.status).toBe(400);
    expect(res.body.__type).toBe(type);
    if (typeof message === 'string') expect(res.body.message).toBe(message);
    else expect(res.body.message).toMatch(message);
  });

  it('answers an unknown action and a missing target with UnknownOperationException', async () => {
    const unknown = await call('LaunchRocket', {});
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ __type: 'UnknownOperationException', message: 'Unknown operation LaunchRocket.' });
    const inherited = await call('constructor', {});
    expect(inherited.body.__type).toBe('UnknownOperationException');
    const none = await api.raw({});
    expect(none.status).toBe(400);
    expect(none.body.__type).toBe('UnknownOperationException');
  });

  it('answers an action of the model berth does not implement yet with UnsupportedFeatureException', async () => {
    // ECS dispatches nearly every action of its model (docs/ecs-conformance.md); ECR still leaves some out.
    const res = await api.raw({ target: 'AmazonEC2ContainerRegistry_V20150921.StartImageScan', service: 'ecr', body: JSON.stringify({ repositoryName: 'r', imageId: { imageTag: 't' } }) });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ __type: 'UnsupportedFeatureException', message: 'berth does not support the StartImageScan action yet.' });
  });

  it('drops members the model does not know and treats null as absent', async () => {
    const res = await call('RegisterTaskDefinition', { ...minimalTaskDefinition('extra'), surprise: { deep: 1 }, taskRoleArn: null });
    expect(res.status).toBe(200);
    expect(res.body.taskDefinition).not.toHaveProperty('surprise');
    expect(res.body.taskDefinition).not.toHaveProperty('taskRoleArn');
  });

  it('answers an oversized body with 413 and writes nothing', async () => {
    const before = await api.server.store.revision();
    const big = JSON.stringify({ ...minimalTaskDefinition('huge'), padding: 'x'.repeat(2 * 1024 * 1024) });
    const res = await call('RegisterTaskDefinition', big);
    expect(res.status).toBe(413);
    expect(res.body.__type).toBe('RequestEntityTooLargeException');
    expect(await api.server.store.revision()).toBe(before);
  });

  it('refuses a body declared too large from its Content-Length, unsigned, before a byte of it arrives', async () => {
    const url = new URL(api.server.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      // The server answers and closes without waiting for the 5 MB it was promised.
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write(`POST / HTTP/1.1\r\nhost: ${url.host}\r\nx-amz-target: ${ECS}.RegisterTaskDefinition\r\ncontent-length: 5000000\r\n\r\n`);
      setTimeout(() => reject(new Error(`no answer; got ${JSON.stringify(text)}`)), 5_000).unref();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/connection: close/i);
    expect(answer).toContain('"__type":"RequestEntityTooLargeException"');
  });

  it('answers a body that is not valid UTF-8 with SerializationException, instead of replacing the bytes', async () => {
    const body = Buffer.concat([Buffer.from('{"clusterName":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const before = await api.server.store.revision();
    const res = await call('CreateCluster', body as unknown as string);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ __type: 'SerializationException', message: 'The request body is not valid UTF-8.' });
    expect(await api.server.store.revision()).toBe(before);
  });

  it('answers unknown routes with 404 in the same shape, with a request id', async () => {
    const res = await api.raw({ method: 'GET', path: '/nowhere', sign: false });
    expect(res.status).toBe(404);
    expect(res.body.__type).toBe('UnknownOperationException');
    expect(res.headers.get('x-amzn-requestid')).toBeTruthy();
  });

  it('changes nothing in the store for any refused request', async () => {
    const before = await api.server.store.revision();
    await call('RegisterTaskDefinition', '{"family":');
    await call('RegisterTaskDefinition', { family: 'x' });
    await call('RegisterTaskDefinition', minimalTaskDefinition('x', { networkMode: 'awsvpc', containerDefinitions: [{ name: 'a', image: 'b', memory: 64, portMappings: [{ containerPort: 80, hostPort: 81 }] }] }));
    await call('CreateCluster', { clusterName: 'bad name' });
    await api.raw({ target: `${ECS}.CreateCluster`, sign: false });
    expect(await api.server.store.revision()).toBe(before);
  });
});
