/**
 * Model-driven fuzzing of every API the built `berth server` serves (one per model under models/; the JSON
 * protocol's and the Query protocol's, IAM and STS, whose inputs go as form bodies and answers come as XML):
 * inputs generated from each operation's input shape, then mutated (wrong types, missing and extra members,
 * odd and huge strings, nulls, broken JSON, invalid UTF-8) and sent signed; and well-formed requests with
 * garbled authentication. No answer may be a 5xx, no error may be logged, and the server must still serve
 * afterwards. Seeded: BERTH_FUZZ_SEED=<n> replays a run (the seed is printed with any failure), and
 * BERTH_FUZZ_SCALE multiplies the number of requests (1 by default, ~4,000 requests in CI).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import { CreateSecretCommand, RestoreSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CreateClusterCommand, ECSClient, ListClustersCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { CreateGroupCommand, CreatePolicyCommand, CreateRoleCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceModel } from '../../src/api/protocol/service-model.js';
import { queryString, restJsonRequestOf } from '../../src/testing/rest-json-request.js';
import { ModelArbitraries } from '../../src/testing/model-arbitraries.js';
import { encodeQueryForm } from '../../src/testing/query-form-encode.js';
import { authMutation, inputMutation, ODD_STRINGS, mutateAuth, mutateInput, type AuthMutation, type InputMutation } from '../../src/testing/request-mutations.js';
import { REPO_ROOT, startBerthServer, type BerthServerProcess } from './support/berth-server.js';

const SEED = Number(process.env.BERTH_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SCALE = Number(process.env.BERTH_FUZZ_SCALE ?? 1);
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

/** An API the server serves: one model file under models/. */
interface Api {
  readonly file: string;
  readonly model: ServiceModel;
  readonly protocol: 'json' | 'query' | 'rest-json';
  /** JSON: the X-Amz-Target prefix; Query and REST-JSON (which have none): the signing name, to name targets in reports. */
  readonly targetPrefix: string;
  readonly signingName: string;
  readonly operations: readonly string[];
  readonly arbitraries: ModelArbitraries;
}

interface Answer {
  readonly status: number;
  readonly text: string;
}

const AUTH_ERRORS = new Set([
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'InvalidSignatureException',
  'UnrecognizedClientException',
  // The Query protocol's names for them.
  'MissingAuthenticationToken',
  'IncompleteSignature',
  'SignatureDoesNotMatch',
  'InvalidClientTokenId',
]);
const xml = new XMLParser();

describe('fuzzing every JSON API of the built server from its models', () => {
  let dir: string;
  let server: BerthServerProcess;
  let pool: Pool;
  let apis: Api[];
  const sent = new Map<string, number>();
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-fuzz-'));
    // The memory store leaves the data directory alone, but the root credentials are generated in it.
    mkdirSync(join(dir, 'data'));
    server = await startBerthServer(join(dir, 'data'), ['--store', 'memory', '--account-id', ACCOUNT, '--region', REGION]);
    pool = new Pool(server.url, { connections: 2, pipelining: 1 });
    await seedResources();
    const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
    const knownStrings = [
      'fuzz',
      'default',
      'fuzz:1',
      arn('ecs', 'cluster/fuzz'),
      arn('ecs', 'task-definition/fuzz:1'),
      arn('ecs', 'container-instance/fuzz/0123456789abcdef0123456789abcdef'),
      arn('ecs', 'task/fuzz/0123456789abcdef0123456789abcdef'),
      arn('ecs', 'service/fuzz/fuzz'),
      arn('ecr', 'repository/fuzz'),
      arn('logs', 'log-group:fuzz'),
      arn('logs', 'log-group:fuzz:*'),
      // A partial secret ARN (no random suffix) finds the secret 'fuzz'; parameters by name and ARN.
      arn('secretsmanager', 'secret:fuzz'),
      '/fuzz/fuzz',
      arn('ssm', 'parameter/fuzz/fuzz'),
      `arn:aws:iam::${ACCOUNT}:user/fuzz`,
      `arn:aws:iam::${ACCOUNT}:role/fuzz`,
      `arn:aws:iam::${ACCOUNT}:policy/fuzz`,
      'arn:aws:iam::aws:policy/AdministratorAccess',
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
      ACCOUNT,
    ];
    // ARNs of every service berth serves, with odd resource types and names: where lookups keyed by them hide.
    const oddSegments = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', ''];
    const oddArns = ['ecs', 'ecr', 'logs'].flatMap((service) =>
      ['cluster', 'task', 'repository', 'log-group', ...oddSegments].flatMap((type) =>
        ['fuzz', 'fuzz/fuzz', 'constructor', '__proto__'].map((name) => arn(service, `${type}${service === 'logs' ? ':' : '/'}${name}`)),
      ),
    );
    apis = readdirSync(join(REPO_ROOT, 'models'))
      // Service models only (name-version.json), not their examples files beside them.
      .filter((f) => /^[a-z0-9-]+-\d{4}-\d{2}-\d{2}\.json$/.test(f))
      .map((file) => {
        const model = JSON.parse(readFileSync(join(REPO_ROOT, 'models', file), 'utf8')) as ServiceModel;
        const protocol = model.metadata.protocol === 'query' || model.metadata.protocol === 'rest-json' ? model.metadata.protocol : ('json' as const);
        return {
          file,
          model,
          protocol,
          targetPrefix: protocol === 'json' ? model.metadata.targetPrefix! : (model.metadata.signingName ?? model.metadata.endpointPrefix),
          signingName: model.metadata.signingName ?? model.metadata.endpointPrefix,
          operations: Object.keys(model.operations).sort(),
          arbitraries: new ModelArbitraries(model, { knownStrings, oddStrings: [ODD_STRINGS, oddArns] }),
        };
      });
  });

  afterAll(async () => {
    // The server first: a request stuck in the pool must not keep it running (close() would wait for it).
    await server?.kill();
    await pool?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Resources the generated names and ARNs can find, so that requests reach past "not found"; again before each
   * property, since the fuzzing deletes what it finds (creating what exists is refused, and that is fine).
   */
  async function seedResources(): Promise<void> {
    const clients = { region: REGION, endpoint: server.url, credentials: server.keys, maxAttempts: 1 };
    const ecs = new ECSClient(clients);
    const ecr = new ECRClient(clients);
    const logs = new CloudWatchLogsClient(clients);
    const attempt = (p: Promise<unknown>) => p.catch(() => undefined);
    await attempt(ecs.send(new CreateClusterCommand({ clusterName: 'fuzz' })));
    await attempt(ecs.send(new RegisterTaskDefinitionCommand({ family: 'fuzz', containerDefinitions: [{ name: 'fuzz', image: 'busybox', memory: 64 }] })));
    await attempt(ecr.send(new CreateRepositoryCommand({ repositoryName: 'fuzz' })));
    await attempt(logs.send(new CreateLogGroupCommand({ logGroupName: 'fuzz' })));
    await attempt(logs.send(new CreateLogStreamCommand({ logGroupName: 'fuzz', logStreamName: 'fuzz' })));
    const secrets = new SecretsManagerClient(clients);
    const ssm = new SSMClient(clients);
    await attempt(secrets.send(new RestoreSecretCommand({ SecretId: 'fuzz' })));
    await attempt(secrets.send(new CreateSecretCommand({ Name: 'fuzz', SecretString: 'fuzz' })));
    for (const Name of ['fuzz', '/fuzz/fuzz']) await attempt(ssm.send(new PutParameterCommand({ Name, Value: 'fuzz', Type: 'SecureString' })));
    const iam = new IAMClient(clients);
    const document = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }] });
    await attempt(iam.send(new CreateUserCommand({ UserName: 'fuzz' })));
    await attempt(iam.send(new CreateGroupCommand({ GroupName: 'fuzz' })));
    await attempt(iam.send(new CreateRoleCommand({ RoleName: 'fuzz', AssumeRolePolicyDocument: trust })));
    await attempt(iam.send(new CreatePolicyCommand({ PolicyName: 'fuzz', PolicyDocument: document })));
    for (const c of [ecs, ecr, logs, secrets, ssm, iam]) c.destroy();
  }

  async function send(api: Api, operation: string, body: string | Buffer, auth?: AuthMutation): Promise<Answer> {
    const url = new URL(server.url);
    const signer = new SignatureV4({ credentials: server.keys, region: REGION, service: api.signingName, sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
    // REST-JSON: the method, path and query come from the input's bound members (a body that is no JSON keeps the
    // operation's path with placeholder labels); GET and DELETE carry no body, as the SDKs send them.
    let method = 'POST';
    let path = '/';
    let query: Record<string, string | string[]> = {};
    if (api.protocol === 'rest-json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString());
      } catch {
        parsed = undefined;
      }
      const rest = restJsonRequestOf(api.model, operation, parsed ?? {});
      ({ method, path, query } = rest);
      body = method === 'GET' || method === 'DELETE' ? '' : parsed === undefined ? body : rest.body;
    }
    const signed = await signer.sign(
      new HttpRequest({
        method,
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path,
        query,
        headers:
          api.protocol === 'query'
            ? { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }
            : api.protocol === 'rest-json'
              ? { host: url.host, 'content-type': 'application/json' }
              : { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${api.targetPrefix}.${operation}` },
        body,
      }),
    );
    const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
    if (auth) mutateAuth(headers, auth);
    const { host: _host, ...sendable } = headers;
    sent.set(`${api.targetPrefix}.${operation}`, (sent.get(`${api.targetPrefix}.${operation}`) ?? 0) + 1);
    const search = queryString(query);
    const res = await pool.request({ path: search ? `${path}?${search}` : path, method: method as 'POST', headers: sendable, body: body === '' ? null : body, headersTimeout: 30_000, bodyTimeout: 30_000 });
    const text = await res.body.text();
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    return { status: res.statusCode, text };
  }

  /** What every answer must be: not a server fault, and, when an error, the AWS error shape of its protocol. */
  function check(answer: Answer, what: string, protocol: Api['protocol'] = 'json'): { __type?: string } {
    const context = `${what} → ${answer.status} ${answer.text.slice(0, 300)}`;
    if (answer.status >= 500) throw new Error(`server fault: ${context}`);
    // What Node's HTTP parser refuses (headers over its limit) is answered before the request's protocol is known:
    // in the JSON error shape for every API (api/client-errors.ts).
    if (protocol === 'query' && answer.status >= 400 && answer.text.startsWith('{"__type":')) protocol = 'json';
    if (protocol === 'query') {
      let parsed: { ErrorResponse?: { Error?: { Code?: unknown; Type?: unknown } } } & Record<string, unknown>;
      try {
        parsed = xml.parse(answer.text, true) as typeof parsed;
      } catch {
        throw new Error(`answer is not XML: ${context}`);
      }
      if (answer.status < 400) return {};
      const error = parsed.ErrorResponse?.Error;
      if (typeof error?.Code !== 'string' || error.Type !== 'Sender') throw new Error(`error without ErrorResponse/Error/Code: ${context}`);
      return { __type: error.Code };
    }
    let body: { __type?: string };
    try {
      body = JSON.parse(answer.text) as { __type?: string };
    } catch {
      throw new Error(`answer is not JSON: ${context}`);
    }
    if (answer.status >= 400 && typeof body.__type !== 'string') throw new Error(`error without __type: ${context}`);
    return body;
  }

  /** Run a property with the run's seed; a failure names the seed that replays it. */
  async function assertWithSeed<T>(arb: fc.Arbitrary<T>, predicate: (t: T) => Promise<void>, numRuns: number): Promise<void> {
    try {
      await fc.assert(fc.asyncProperty(arb, predicate), { seed: SEED, numRuns: Math.max(1, Math.round(numRuns * SCALE)), endOnFailure: false, interruptAfterTimeLimit: 120_000 });
    } catch (error) {
      throw new Error(`API fuzzing failed; replay with BERTH_FUZZ_SEED=${SEED}\n${(error as Error).message}`, { cause: error });
    }
  }

  /** Operations that answered something other than UnsupportedFeatureException (found by the first property). */
  const implemented = new Set<string>();
  /**
   * A target (`<prefix>.<Action>`) and its input: the counterexample fast-check prints names the operation,
   * not the model it comes from.
   */
  const targetAndInput = (only?: Set<string>) =>
    fc
      .constantFrom(...apis.flatMap((api) => api.operations.map((op) => `${api.targetPrefix}.${op}`)).filter((target) => !only || only.has(target)))
      .chain((target) => fc.tuple(fc.constant(target), apiOf(target).arbitraries.input(operationOf(target))));
  const apiOf = (target: string) => apis.find((api) => target.startsWith(`${api.targetPrefix}.`))!;
  const operationOf = (target: string) => target.slice(target.lastIndexOf('.') + 1);
  /** The body of a request with `input`: JSON, or for a Query API the form the SDKs write. */
  const bodyOf = (api: Api, operation: string, input: unknown): string =>
    api.protocol === 'query'
      ? encodeQueryForm(api.model, api.model.operations[operation]!.input?.shape, operation, api.model.metadata.apiVersion!, input)
      : JSON.stringify(input);
  /** A mutated body: for a Query API the mutated value as a form, or the raw body after the Action. */
  const mutatedBodyOf = (api: Api, operation: string, input: unknown, mutations: readonly InputMutation[]): string | Buffer => {
    const body = mutateInput(input, mutations);
    if (api.protocol !== 'query') return body;
    if (mutations.some((m) => m.kind === 'body')) {
      return Buffer.concat([Buffer.from(`Action=${operation}&Version=${api.model.metadata.apiVersion}&`), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
    }
    return bodyOf(api, operation, JSON.parse(body.toString()));
  };

  it('answers inputs generated from every operation of every model without a server fault', async () => {
    await seedResources();
    let authFailures = 0;
    const property = (api: Api, operation: string) => async (input: unknown) => {
      const body = check(await send(api, operation, bodyOf(api, operation, input)), `${api.targetPrefix}.${operation} ${JSON.stringify(input).slice(0, 500)}`, api.protocol);
      if (body.__type === 'UnknownOperationException' || body.__type === 'InvalidAction') throw new Error(`${api.targetPrefix}.${operation} is in ${api.file} but not served`);
      if (body.__type !== undefined && AUTH_ERRORS.has(body.__type)) authFailures++;
      if (body.__type !== 'UnsupportedFeatureException') implemented.add(`${api.targetPrefix}.${operation}`);
    };
    for (const api of apis) {
      for (const operation of api.operations) {
        // One request finds whether berth implements the operation (an unimplemented one answers before
        // reading the input); the implemented ones get many.
        await assertWithSeed(api.arbitraries.input(operation), property(api, operation), 1);
        if (implemented.has(`${api.targetPrefix}.${operation}`)) await assertWithSeed(api.arbitraries.input(operation), property(api, operation), 16);
      }
    }
    // Correctly signed, so never refused for authentication: otherwise the fuzzing would not reach the operations.
    expect(authFailures).toBe(0);
    expect(implemented.size).toBeGreaterThan(50);
  });

  it('answers mutated inputs and broken bodies without a server fault', async () => {
    await seedResources();
    await assertWithSeed(
      fc.tuple(targetAndInput(implemented), fc.array(inputMutation, { minLength: 1, maxLength: 3 })),
      async ([[target, input], mutations]) => {
        const api = apiOf(target);
        const body = mutatedBodyOf(api, operationOf(target), input, mutations);
        check(await send(api, operationOf(target), body), `${target} ${String(body).slice(0, 300)}`, api.protocol);
      },
      1_500,
    );
  });

  it('answers garbled authentication without a server fault', async () => {
    await seedResources();
    await assertWithSeed(
      fc.tuple(targetAndInput(), authMutation),
      async ([[target, input], auth]) => {
        const api = apiOf(target);
        const answer = await send(api, operationOf(target), bodyOf(api, operationOf(target), input), auth).catch((error: Error) => {
          // undici refuses to send some headers (an invalid name or value): nothing reached the server.
          if (/invalid .*header|header.*invalid/i.test(error.message)) return undefined;
          throw error;
        });
        if (answer) check(answer, `${target} with ${JSON.stringify(auth).slice(0, 300)}`, api.protocol);
      },
      500,
    );
  });

  it('still serves afterwards, with nothing logged as an error, having sent every operation', async () => {
    expect(server.child.exitCode).toBeNull();
    const ecs = new ECSClient({ region: REGION, endpoint: server.url, credentials: server.keys, maxAttempts: 1 });
    try {
      // The fuzzing may have deleted what it found; the server answering a signed call is the point.
      const { clusterArns, $metadata } = await ecs.send(new ListClustersCommand({}));
      expect($metadata.httpStatusCode).toBe(200);
      expect(Array.isArray(clusterArns)).toBe(true);
    } finally {
      ecs.destroy();
    }
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    // pino's error (50) and fatal (60) levels: a server fault is logged at error with its stack.
    const errors = server.stdout().split('\n').filter((line) => /"level":(50|60)/.test(line));
    expect(errors).toEqual([]);
    for (const api of apis) for (const operation of api.operations) expect(sent.get(`${api.targetPrefix}.${operation}`) ?? 0, `${api.targetPrefix}.${operation}`).toBeGreaterThan(0);
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    console.log(`api fuzz: seed ${SEED}, ${total} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  });
});
