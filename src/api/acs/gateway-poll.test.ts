import { CreateClusterCommand, DescribeContainerInstancesCommand, RegisterContainerInstanceCommand } from '@aws-sdk/client-ecs';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { managedPolicyByArn, parsePolicyDocument } from '../../model/iam/index.js';
import { startApiFixture, TEST_ACCOUNT, TEST_KEYS, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { StaticCredentials } from '../auth/credentials.js';
import { MemoryPolicySource } from '../authz/policy-source.js';
import { SESSION_PATH } from './gateway.js';

/**
 * The session upgrade is authorized as ecs:Poll on the container instance with ecs:cluster (iam-actions.ts): an
 * agent signing with an IAM user's keys opens its session only when that user's policies allow it, and a refusal
 * is answered as the APIs answer it, before the store is read and without a session.
 */
const AGENT = `arn:aws:iam::${TEST_ACCOUNT}:user/agent`;
const AGENT_KEYS = { accessKeyId: 'AKIAAGENTAGENTAGENT1', secretAccessKey: 'agent-secret-0123456789abcdefghijklmnopq' } as const;
const ecsArn = (r: string) => `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:${r}`;
const policy = (...statements: object[]) => parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'identity');
const INSTANCE_ROLE = managedPolicyByArn('arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role')!;

let api: ApiFixture;
const policies = new MemoryPolicySource();
let prodInstance: string;

beforeAll(async () => {
  api = await startApiFixture({
    credentials: new StaticCredentials({ ...AGENT_KEYS, principal: { type: 'User', arn: AGENT, accountId: TEST_ACCOUNT, userName: 'agent', userId: 'AIDAAGENT' } }),
    policySource: policies,
  });
  await api.ecs.send(new CreateClusterCommand({ clusterName: 'prod' }));
  const { containerInstance } = await api.ecs.send(
    new RegisterContainerInstanceCommand({ cluster: 'prod', totalResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
        { name: 'MEMORY', type: 'INTEGER', integerValue: 1024 },
      ] }),
  );
  prodInstance = containerInstance!.containerInstanceArn!;
});
afterAll(() => api.stop());

function give(...statements: object[]) {
  policies.set(AGENT, statements.length > 0 ? [policy(...statements)] : []);
  api.server.authorizer.invalidate(AGENT);
}

type Outcome = { opened: true } | { opened: false; status: number; body: { __type: string; message: string } };

/** Open a session as the agent does (SigV4 on the upgrade); whether it opened, or the refusal. */
async function upgrade(containerInstanceArn: string, keys: { accessKeyId: string; secretAccessKey: string } = AGENT_KEYS): Promise<Outcome> {
  const url = new URL(SESSION_PATH, api.server.url);
  const query = { clusterArn: containerInstanceArn.replace(/container-instance\/([^/]+)\/.*$/, 'cluster/$1'), containerInstanceArn, seqNum: '1' };
  const signer = new SignatureV4({ credentials: keys, region: TEST_REGION, service: 'ecs', sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
  const signed = await signer.sign(
    new HttpRequest({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers: { host: url.host } }),
  );
  const { host: _host, ...headers } = signed.headers;
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const ws = new WebSocket(url.toString().replace(/^http/, 'ws'), { headers });
  return new Promise((resolve) => {
    ws.on('open', () => {
      ws.close();
      resolve({ opened: true });
    });
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ opened: false, status: res.statusCode!, body: JSON.parse(text) }));
    });
  });
}

const denied = (resource: string) => ({
  opened: false,
  status: 400,
  body: {
    __type: 'AccessDeniedException',
    message: `User: ${AGENT} is not authorized to perform: ecs:Poll on resource: ${resource} because no identity-based policy allows the ecs:Poll action`,
  },
});

describe('the session upgrade is ecs:Poll on the container instance', () => {
  it('refuses a user without ecs:Poll in ECS’s words (400 AccessDeniedException) and opens no session', async () => {
    give({ Effect: 'Allow', Action: 'ecs:RegisterContainerInstance', Resource: '*' });
    expect(await upgrade(prodInstance)).toEqual(denied(prodInstance));
    const { containerInstances } = await api.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'prod', containerInstances: [prodInstance] }));
    expect(containerInstances?.[0]?.agentConnected).toBe(false);
  });

  it('refuses before looking for the instance: an unauthorized caller learns nothing of which instances exist', async () => {
    give();
    const unknown = ecsArn('container-instance/prod/00000000000000000000000000000000');
    expect(await upgrade(unknown)).toEqual(denied(unknown));
  });

  it('opens under AmazonEC2ContainerServiceforEC2Role (ecs:Poll on *)', async () => {
    policies.set(AGENT, [parsePolicyDocument(INSTANCE_ROLE.document, 'identity')]);
    api.server.authorizer.invalidate(AGENT);
    expect(await upgrade(prodInstance)).toEqual({ opened: true });
  });

  it('honours ecs:cluster: a policy for another cluster’s instances refuses, one for this cluster opens', async () => {
    give({ Effect: 'Allow', Action: 'ecs:Poll', Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': ecsArn('cluster/dev') } } });
    expect(await upgrade(prodInstance)).toEqual(denied(prodInstance));
    give({ Effect: 'Allow', Action: 'ecs:Poll', Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': ecsArn('cluster/prod') } } });
    expect(await upgrade(prodInstance)).toEqual({ opened: true });
  });

  it('matches the resource: container-instance/<cluster>/* allows that cluster’s instances only', async () => {
    give({ Effect: 'Allow', Action: 'ecs:Poll', Resource: ecsArn('container-instance/dev/*') });
    expect(await upgrade(prodInstance)).toEqual(denied(prodInstance));
    give({ Effect: 'Allow', Action: 'ecs:Poll', Resource: ecsArn('container-instance/prod/*') });
    expect(await upgrade(prodInstance)).toEqual({ opened: true });
  });

  it('an explicit Deny wins over the managed policy’s Allow', async () => {
    policies.set(AGENT, [
      parsePolicyDocument(INSTANCE_ROLE.document, 'identity'),
      policy({ Effect: 'Deny', Action: 'ecs:Poll', Resource: '*' }),
    ]);
    api.server.authorizer.invalidate(AGENT);
    const outcome = await upgrade(prodInstance);
    expect(outcome).toMatchObject({ opened: false, status: 400, body: { __type: 'AccessDeniedException' } });
    expect(outcome.opened === false && outcome.body.message).toBe(
      `User: ${AGENT} is not authorized to perform: ecs:Poll on resource: ${prodInstance} with an explicit deny in an identity-based policy`,
    );
  });

  it('the root key pair stays all-powerful', async () => {
    give();
    expect(await upgrade(prodInstance, TEST_KEYS)).toEqual({ opened: true });
  });

  it('a container instance ARN of another account is refused as unknown before authorization', async () => {
    const foreign = `arn:aws:ecs:${TEST_REGION}:999999999999:container-instance/prod/abc`;
    expect(await upgrade(foreign)).toEqual({
      opened: false,
      status: 400,
      body: { __type: 'InvalidParameterException', message: 'Unknown container instance: register it first.' },
    });
  });
});
