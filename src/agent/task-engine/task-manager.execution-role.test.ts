import { describe, expect, it } from 'vitest';
import { ARN, container, id, setupTimed, task } from '../testing/task-fixtures.js';
import type { EngineDeps } from './deps.js';
import { RegistryAuthUnavailableError } from '../registry-auth.js';
import { SecretsUnavailableError } from '../secrets.js';

/** What the task manager does with a task's execution role: registry auth, repositoryCredentials, secretOptions. */

type Mutable = { -readonly [K in keyof EngineDeps]: EngineDeps[K] };
const REFUSED = 'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 1 time(s): AccessDeniedException: no';

describe('pulls as the task', () => {
  it("asks registryAuth for the pulled image's host with the task's arn", async () => {
    const w = setupTimed();
    w.images.add('reg.example:5000/app:1');
    const asked: string[] = [];
    (w.deps as Mutable).registryAuth = async (host, arn) => {
      asked.push(`${host} ${arn}`);
      return { username: 'AWS', password: 'token' };
    };
    await w.engine.handlePayload([task([container('web', { image: 'reg.example:5000/app:1' })])]);
    await w.settle();
    expect(w.state().known).toBe('RUNNING');
    expect(asked).toEqual([`reg.example:5000 ${ARN}`]);
    expect(w.images.auths).toEqual([{ username: 'AWS', password: 'token' }]);
  });

  it("a refused registry token stops the task with its own reason, even with the image cached (no fallback)", async () => {
    const w = setupTimed();
    w.images.add('reg.example:5000/app:1');
    await w.images.pull('reg.example:5000/app:1'); // cached: the default pull behaviour would fall back to it
    (w.deps as Mutable).registryAuth = async () => {
      throw new RegistryAuthUnavailableError(REFUSED);
    };
    await w.engine.handlePayload([task([container('web', { image: 'reg.example:5000/app:1' })])]);
    await w.settle();
    expect(w.state()).toMatchObject({ known: 'STOPPED', stopReason: REFUSED });
    expect(w.state().containers[0]?.reason).toBe(REFUSED);
    expect(w.runtime.containers.size).toBe(0);
  });

  it('repositoryCredentials: the secret is fetched for the task and used for the registry; a failure stops the task', async () => {
    const w = setupTimed();
    w.images.add('private.example/app:1');
    const asked: string[] = [];
    (w.deps as Mutable).registryAuth = async () => {
      throw new Error('registryAuth must not be asked when the container has repositoryCredentials');
    };
    (w.deps as Mutable).repositoryCredentials = async (arn, parameter) => {
      asked.push(`${arn} ${parameter}`);
      if (parameter === 'missing') throw new SecretsUnavailableError('ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: gone');
      return { username: 'u', password: 'p' };
    };
    await w.engine.handlePayload([task([container('web', { image: 'private.example/app:1', repositoryCredentials: { credentialsParameter: 'reg-creds' } })])]);
    await w.settle();
    expect(w.state().known).toBe('RUNNING');
    expect(asked).toEqual([`${ARN} reg-creds`]);
    expect(w.images.auths).toEqual([{ username: 'u', password: 'p' }]);
    expect(JSON.stringify(w.saved.get(ARN))).not.toContain('"p"');

    const v = setupTimed();
    v.images.add('private.example/app:1');
    (v.deps as Mutable).repositoryCredentials = w.deps.repositoryCredentials;
    await v.engine.handlePayload([task([container('web', { image: 'private.example/app:1', repositoryCredentials: { credentialsParameter: 'missing' } })])]);
    await v.settle();
    expect(v.state()).toMatchObject({
      known: 'STOPPED',
      stopReason: 'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: gone',
    });
    expect(v.images.pulls).toBe(0);
  });

  it('a registry DENIED is reported in ECS words', async () => {
    const w = setupTimed();
    w.images.pull = async () => {
      const denied = Object.assign(new Error('manifest "1": reg.example answered 403: DENIED: User: arn:aws:sts::1:assumed-role/x/y is not authorized to perform: ecr:BatchGetImage'), { code: 'DENIED', status: 403 });
      throw new Error('failed to pull reg.example/app:1: …', { cause: denied });
    };
    await w.engine.handlePayload([task([container('web', { image: 'reg.example/app:1' })])]);
    await w.settle();
    expect(w.state().stopReason).toBe(
      "CannotPullContainerError: pull access denied for reg.example/app, repository does not exist or may require 'docker login': denied: User: arn:aws:sts::1:assumed-role/x/y is not authorized to perform: ecr:BatchGetImage",
    );
  });
});

describe('logConfiguration.secretOptions', () => {
  it('resolved with the secrets before the container is made; values go nowhere; a failure stops the task', async () => {
    const w = setupTimed();
    const asked: string[] = [];
    (w.deps as Mutable).resolveSecrets = async (_arn, secrets) => {
      asked.push(...secrets.map((s) => s.valueFrom!));
      if (secrets.some((s) => s.valueFrom === '/missing')) throw new SecretsUnavailableError('ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: invalid parameters: /missing');
      return Object.fromEntries(secrets.map((s) => [s.name!, 'opt-value']));
    };
    const logConfiguration = { logDriver: 'awslogs' as const, options: { 'awslogs-group': 'g' }, secretOptions: [{ name: 'token', valueFrom: '/log-token' }] };
    await w.engine.handlePayload([task([container('web', { logConfiguration })])]);
    await w.settle();
    expect(w.state().known).toBe('RUNNING');
    expect(asked).toEqual(['/log-token']);
    expect(JSON.stringify(w.runtime.containers.get(id('web'))!.spec)).not.toContain('opt-value');

    const v = setupTimed();
    (v.deps as Mutable).resolveSecrets = w.deps.resolveSecrets;
    await v.engine.handlePayload([task([container('web', { logConfiguration: { ...logConfiguration, secretOptions: [{ name: 'token', valueFrom: '/missing' }] } })])]);
    await v.settle();
    expect(v.state()).toMatchObject({ known: 'STOPPED', stopReason: expect.stringContaining('invalid parameters: /missing') });
    expect(v.runtime.containers.size).toBe(0);
  });
});
