/**
 * Cloud Map and berth's DNS server on the built `berth server` (memory store, `--dns-listen`), driven by the AWS
 * CLI v2 and the SDK v3, and queried with a real DNS client (Node's dns.Resolver, c-ares) on the server's DNS
 * port: the API end to end with its asynchronous operations and error shapes, then A/SRV answers, NXDOMAIN,
 * forwarding to an upstream, and registrations and deregistrations showing in DNS within a second.
 *
 * The upstream is a small DNS server of the test's own on loopback (`--dns-upstream`): this machine's resolver
 * answers no outside names, so a forwarded name needs one that does. DiscoverInstances goes through the SDK with
 * disableHostPrefix: its model puts `data-` before the endpoint's host, and the installed CLI (2.9) has no
 * switch to turn that off (AWS_DISABLE_HOST_PREFIX_INJECTION came later); through the CLI it works with
 * HTTP_PROXY set to the server itself.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateHttpNamespaceCommand,
  CreatePrivateDnsNamespaceCommand,
  CreateServiceCommand,
  DeregisterInstanceCommand,
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  GetNamespaceCommand,
  GetOperationCommand,
  GetServiceCommand,
  ListServicesCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLI, awsCli, hasAwsCli, type CliResult } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { finishedOperation } from '../../src/testing/cloud-map-operations.js';

const REGION = 'us-east-1';
const OUTSIDE = 'outside.example.test';

async function failure(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, ...(e.$metadata?.httpStatusCode !== undefined ? { status: e.$metadata.httpStatusCode } : {}) };
  }
  throw new Error('the call succeeded');
}

/** A DNS server standing in for the host's upstream: it knows one name. */
async function startUpstream(): Promise<{ socket: UdpSocket; port: number; queries: string[] }> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions![0]!;
    queries.push(question.name);
    const known = question.name.toLowerCase() === OUTSIDE && question.type === 'A';
    const reply = dnsPacket.encode({
      type: 'response',
      id: q.id ?? 0,
      flags: dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3),
      questions: [question],
      answers: known ? [{ type: 'A', name: question.name, ttl: 60, class: 'IN', data: '192.0.2.7' }] : [],
    });
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((ok) => socket.bind(0, '127.0.0.1', () => ok()));
  return { socket, port: socket.address().port, queries };
}

/** One query over TCP (length-prefixed), decoded. */
async function tcpQuery(host: string, port: number, name: string, type: 'A' | 'SRV'): Promise<dnsPacket.Packet> {
  const socket = new Socket();
  await new Promise<void>((ok, fail) => {
    socket.once('error', fail);
    socket.connect(port, host, () => ok());
  });
  socket.write(dnsPacket.streamEncode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] }));
  let received = Buffer.alloc(0);
  return new Promise((ok, fail) => {
    socket.on('error', fail);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        socket.destroy();
        ok(dnsPacket.streamDecode(received));
      }
    });
  });
}

describe('Cloud Map and the DNS server on the built server', () => {
  let dir: string;
  let server: BerthServerProcess;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let sd: ServiceDiscoveryClient;
  let dnsHost: string;
  let dnsPort: number;
  let cli: (args: string[]) => Promise<CliResult>;
  const resolver = () => {
    const r = new dns.Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`${dnsHost}:${dnsPort}`]);
    return r;
  };
  const ok = async (args: string[]) => {
    const r = await cli(['servicediscovery', ...args]);
    expect(r.code, `aws servicediscovery ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.json;
  };
  /** A namespace operation, asked for through the CLI until it has finished (Cloud Map runs them asynchronously). */
  const finished = async (operationId: string) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const op = (await ok(['get-operation', '--operation-id', operationId])).Operation;
      if (op.Status === 'SUCCESS') return op;
      expect(['SUBMITTED', 'PENDING'], `operation ${operationId}`).toContain(op.Status);
      expect(Date.now(), `operation ${operationId} still ${op.Status}`).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const fails = async (args: string[]) => {
    const r = await cli(['servicediscovery', ...args]);
    expect(r.code, `aws servicediscovery ${args.join(' ')} should fail`).not.toBe(0);
    return r.stderr;
  };

  beforeAll(async () => {
    if (!hasAwsCli) throw new Error(`the AWS CLI v2 is required at ${AWS_CLI}`);
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-sd-'));
    mkdirSync(join(dir, 'data'));
    upstream = await startUpstream();
    server = await startBerthServer(join(dir, 'data'), ['--store', 'memory', '--region', REGION, '--dns-listen', '127.0.0.1:0', '--dns-upstream', `127.0.0.1:${upstream.port}`]);
    const m = /dns server on (\S+):(\d+)/.exec(server.stderr());
    if (!m) throw new Error(`the server did not say where its DNS server listens:\n${server.stderr()}`);
    dnsHost = m[1]!;
    dnsPort = Number(m[2]);
    sd = new ServiceDiscoveryClient({ region: REGION, endpoint: server.url, credentials: server.keys, disableHostPrefix: true, maxAttempts: 1 });
    cli = (args) => awsCli(server.url, server.credentialsFile, args, REGION);
  });

  afterAll(async () => {
    sd?.destroy();
    await server?.kill();
    upstream?.socket.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs namespaces, services and instances end to end through the CLI, with asynchronous operations', async () => {
    const { OperationId } = await ok(['create-private-dns-namespace', '--name', 'Shop.Local', '--vpc', 'vpc-0123', '--creator-request-id', 'req-shop']);
    expect(OperationId).toMatch(/^[0-9a-f]{32}$/);
    const op = await finished(OperationId);
    expect(op).toMatchObject({ Id: OperationId, Type: 'CREATE_NAMESPACE', Status: 'SUCCESS' });
    const namespaceId = op.Targets.NAMESPACE as string;
    // A retry with the same CreatorRequestId is the same operation, not a second namespace.
    expect((await ok(['create-private-dns-namespace', '--name', 'shop.local', '--vpc', 'vpc-0123', '--creator-request-id', 'req-shop'])).OperationId).toBe(OperationId);
    const ns = (await ok(['get-namespace', '--id', namespaceId])).Namespace;
    expect(ns).toMatchObject({ Id: namespaceId, Name: 'shop.local', Type: 'DNS_PRIVATE', ServiceCount: 0, CreatorRequestId: 'req-shop' });
    expect(ns.Arn).toBe(`arn:aws:servicediscovery:${REGION}:000000000000:namespace/${namespaceId}`);
    expect(ns.Properties.DnsProperties.HostedZoneId).toMatch(/^Z/);
    const listed = await ok(['list-operations', '--filters', `Name=NAMESPACE_ID,Values=${namespaceId},Condition=EQ`]);
    expect(listed.Operations).toEqual([{ Id: OperationId, Status: 'SUCCESS' }]);
    const upd = await ok(['update-private-dns-namespace', '--id', namespaceId, '--namespace', 'Description=shop,Properties={DnsProperties={SOA={TTL=30}}}']);
    expect(await finished(upd.OperationId)).toMatchObject({ Type: 'UPDATE_NAMESPACE', Status: 'SUCCESS' });
    expect((await ok(['get-namespace', '--id', namespaceId])).Namespace).toMatchObject({ Description: 'shop', Properties: { DnsProperties: { SOA: { TTL: 30 } } } });

    const service = (
      await ok(['create-service', '--name', 'cart', '--namespace-id', namespaceId, '--dns-config', 'RoutingPolicy=MULTIVALUE,DnsRecords=[{Type=A,TTL=5},{Type=SRV,TTL=5}]', '--health-check-custom-config', 'FailureThreshold=1', '--tags', 'Key=team,Value=web'])
    ).Service;
    expect(service).toMatchObject({ Name: 'cart', NamespaceId: namespaceId, DnsConfig: { RoutingPolicy: 'MULTIVALUE' }, HealthCheckCustomConfig: { FailureThreshold: 1 } });
    expect((await ok(['list-services', '--filters', `Name=NAMESPACE_ID,Values=${namespaceId}`])).Services.map((s: { Id: string }) => s.Id)).toEqual([service.Id]);
    expect((await ok(['list-tags-for-resource', '--resource-arn', service.Arn])).Tags).toEqual([{ Key: 'team', Value: 'web' }]);
    await ok(['tag-resource', '--resource-arn', service.Arn, '--tags', 'Key=tier,Value=1']);
    await ok(['untag-resource', '--resource-arn', service.Arn, '--tag-keys', 'team']);
    expect((await ok(['list-tags-for-resource', '--resource-arn', service.Arn])).Tags).toEqual([{ Key: 'tier', Value: '1' }]);

    const reg = await ok(['register-instance', '--service-id', service.Id, '--instance-id', 'cart-1', '--attributes', 'AWS_INSTANCE_IPV4=10.9.0.1,AWS_INSTANCE_PORT=8080,stage=blue']);
    expect((await ok(['get-operation', '--operation-id', reg.OperationId])).Operation).toMatchObject({ Type: 'REGISTER_INSTANCE', Status: 'SUCCESS', Targets: { INSTANCE: 'cart-1', SERVICE: service.Id } });
    await ok(['register-instance', '--service-id', service.Id, '--instance-id', 'cart-2', '--attributes', 'AWS_INSTANCE_IPV4=10.9.0.2,AWS_INSTANCE_PORT=8080,stage=green']);
    expect((await ok(['get-instance', '--service-id', service.Id, '--instance-id', 'cart-1'])).Instance).toMatchObject({ Id: 'cart-1', Attributes: { AWS_INSTANCE_IPV4: '10.9.0.1', stage: 'blue' } });
    expect((await ok(['list-instances', '--service-id', service.Id])).Instances.map((i: { Id: string }) => i.Id).sort()).toEqual(['cart-1', 'cart-2']);
    expect((await ok(['get-service', '--id', service.Id])).Service.InstanceCount).toBe(2);
    await ok(['update-instance-custom-health-status', '--service-id', service.Id, '--instance-id', 'cart-2', '--status', 'UNHEALTHY']);
    expect((await ok(['get-instances-health-status', '--service-id', service.Id])).Status).toEqual({ 'cart-1': 'HEALTHY', 'cart-2': 'UNHEALTHY' });

    // Discovery through the SDK: health filter, query and optional parameters, the revision.
    const healthy = await sd.send(new DiscoverInstancesCommand({ NamespaceName: 'shop.local', ServiceName: 'cart' }));
    expect(healthy.Instances!.map((i) => i.InstanceId)).toEqual(['cart-1']);
    const all = await sd.send(new DiscoverInstancesCommand({ NamespaceName: 'shop.local', ServiceName: 'cart', HealthStatus: 'ALL', QueryParameters: { stage: 'green' } }));
    expect(all.Instances!.map((i) => [i.InstanceId, i.HealthStatus])).toEqual([['cart-2', 'UNHEALTHY']]);
    const optional = await sd.send(new DiscoverInstancesCommand({ NamespaceName: 'shop.local', ServiceName: 'cart', HealthStatus: 'ALL', OptionalParameters: { stage: 'nowhere' } }));
    expect(optional.Instances).toHaveLength(2);
    // Through the CLI: its model sends DiscoverInstances to `data-<endpoint host>`, which does not resolve, and 2.9 has
    // no switch for it; with berth's own address as its HTTP proxy the CLI still asks berth (the request's target
    // in absolute form, which berth accepts: RFC 9112 3.2.2).
    const plain = await cli(['servicediscovery', 'discover-instances', '--namespace-name', 'shop.local', '--service-name', 'cart']);
    expect(plain.stderr).toContain(`http://data-${new URL(server.url).host}/`);
    const proxied = await awsCli(server.url, server.credentialsFile, ['servicediscovery', 'discover-instances', '--namespace-name', 'shop.local', '--service-name', 'cart'], REGION, { HTTP_PROXY: server.url });
    expect(proxied.code, proxied.stderr).toBe(0);
    expect(proxied.json.Instances.map((i: { InstanceId: string }) => i.InstanceId)).toEqual(['cart-1']);
    const before = (await sd.send(new DiscoverInstancesRevisionCommand({ NamespaceName: 'shop.local', ServiceName: 'cart' }))).InstancesRevision!;
    await ok(['deregister-instance', '--service-id', service.Id, '--instance-id', 'cart-2']);
    expect((await sd.send(new DiscoverInstancesRevisionCommand({ NamespaceName: 'shop.local', ServiceName: 'cart' }))).InstancesRevision).toBeGreaterThan(before);

    // Deleting in order: instances, then the service, then the namespace.
    await ok(['deregister-instance', '--service-id', service.Id, '--instance-id', 'cart-1']);
    await ok(['delete-service', '--id', service.Id]);
    const del = await ok(['delete-namespace', '--id', namespaceId]);
    expect(await finished(del.OperationId)).toMatchObject({ Type: 'DELETE_NAMESPACE', Status: 'SUCCESS' });
    expect(await fails(['get-namespace', '--id', namespaceId])).toContain('NamespaceNotFound');
  }, 240_000);

  it('CreateHttpNamespace answers before the work is done: GetOperation right after it says SUBMITTED or PENDING, later SUCCESS', async () => {
    // The leader's worker runs submitted operations every 200 ms, so a GetOperation right after the create sees the
    // operation unfinished unless a worker pass fell in between — often, on a loaded machine, where each call takes
    // tens of ms. So: creates until one is seen unfinished, at most 20 (were the work done by the create itself, none
    // ever would be); every one of them then succeeds and its namespace is there.
    const firsts: string[] = [];
    for (let i = 1; i <= 20 && !firsts.some((st) => st === 'SUBMITTED' || st === 'PENDING'); i++) {
      const opId = (await sd.send(new CreateHttpNamespaceCommand({ Name: `async-${i}` }))).OperationId!;
      const first = (await sd.send(new GetOperationCommand({ OperationId: opId }))).Operation!;
      expect(first).toMatchObject({ Id: opId, Type: 'CREATE_NAMESPACE' });
      expect(['SUBMITTED', 'PENDING', 'SUCCESS']).toContain(first.Status);
      firsts.push(first.Status!);
      const done = await finishedOperation(sd, opId);
      expect(done.Status).toBe('SUCCESS');
      expect((await sd.send(new GetNamespaceCommand({ Id: done.Targets!.NAMESPACE! }))).Namespace).toMatchObject({ Name: `async-${i}`, Type: 'HTTP' });
    }
    console.log(`first GetOperation after CreateHttpNamespace: ${firsts.join(', ')}`);
    expect(firsts.at(-1)).toMatch(/^(SUBMITTED|PENDING)$/);
  });

  it('creates namespaces asynchronously: absent until the operation succeeds; an HTTP and a DNS namespace may share a name', async () => {
    const started = Date.now();
    const opId = (await sd.send(new CreatePrivateDnsNamespaceCommand({ Name: 'twin.internal', Vpc: 'vpc-1' }))).OperationId!;
    const seen: string[] = [];
    let nsId = '';
    for (;;) {
      // The namespace read first, then the operation: a namespace already there means the operation had succeeded.
      const ns = nsId ? await sd.send(new GetNamespaceCommand({ Id: nsId })).then(() => 'there', (e: Error) => e.name) : 'unknown';
      const op = (await sd.send(new GetOperationCommand({ OperationId: opId }))).Operation!;
      nsId = op.Targets!.NAMESPACE!;
      if (seen.at(-1) !== op.Status) seen.push(op.Status!);
      if (op.Status === 'SUCCESS') break;
      expect(['SUBMITTED', 'PENDING']).toContain(op.Status);
      expect(ns).not.toBe('there');
      if (ns !== 'unknown') expect(ns).toBe('NamespaceNotFound');
      expect(Date.now() - started).toBeLessThan(15_000);
    }
    console.log(`namespace operation statuses seen: ${seen.join(' → ')} in ${Date.now() - started} ms`);
    const dnsId = (await finishedOperation(sd, opId)).Targets!.NAMESPACE!;
    expect((await sd.send(new GetNamespaceCommand({ Id: dnsId }))).Namespace).toMatchObject({ Name: 'twin.internal', Properties: { HttpProperties: { HttpName: 'twin.internal' } } });
    // The same name as an HTTP namespace: accepted, with a suffixed HttpName (Cloud Map's rule); a second DNS or HTTP one is not.
    const httpOp = await ok(['create-http-namespace', '--name', 'twin.internal']);
    const httpNs = (await ok(['get-namespace', '--id', (await finished(httpOp.OperationId)).Targets.NAMESPACE])).Namespace;
    expect(httpNs).toMatchObject({ Name: 'twin.internal', Type: 'HTTP' });
    expect(httpNs.Properties.HttpProperties.HttpName).toMatch(/^twin\.internal-[0-9a-z]{8}$/);
    expect(await fails(['create-http-namespace', '--name', 'twin.internal'])).toContain('(NamespaceAlreadyExists)');
    expect(await fails(['create-public-dns-namespace', '--name', 'twin.internal'])).toContain('(NamespaceAlreadyExists)');
    // Each is discovered by its HttpName.
    const api = await sd.send(new CreateServiceCommand({ Name: 'api', NamespaceId: httpNs.Id }));
    await sd.send(new RegisterInstanceCommand({ ServiceId: api.Service!.Id!, InstanceId: 'h-1', Attributes: { url: 'http://10.0.0.1' } }));
    const found = await sd.send(new DiscoverInstancesCommand({ NamespaceName: httpNs.Properties.HttpProperties.HttpName, ServiceName: 'api' }));
    expect(found.Instances!.map((i) => [i.InstanceId, i.NamespaceName])).toEqual([['h-1', httpNs.Properties.HttpProperties.HttpName]]);
    expect(await failure(sd.send(new DiscoverInstancesCommand({ NamespaceName: 'twin.internal', ServiceName: 'api' })))).toMatchObject({ name: 'ServiceNotFound' });
  });

  it("answers bad input with Cloud Map's errors, naming the field, and creates nothing half way", async () => {
    const count = async () => (await ok(['list-namespaces'])).Namespaces.length as number;
    const n0 = await count();
    for (const bad of ['1shop.local', 'shop-.local', 'sh_op.local', 'a..b']) {
      const err = await fails(['create-private-dns-namespace', '--name', bad, '--vpc', 'vpc-1']);
      expect(err).toContain('(InvalidInput)');
      expect(err).toContain(`Name '${bad}'`);
    }
    expect(await count()).toBe(n0);

    const { OperationId } = await ok(['create-private-dns-namespace', '--name', 'dup.local', '--vpc', 'vpc-1']);
    // Refused at once, while the first is still being created as well as after.
    expect(await fails(['create-private-dns-namespace', '--name', 'DUP.local', '--vpc', 'vpc-1'])).toContain('(NamespaceAlreadyExists)');
    const namespaceId = (await finished(OperationId)).Targets.NAMESPACE;
    const sdkDup = await failure(sd.send(new CreatePrivateDnsNamespaceCommand({ Name: 'dup.local', Vpc: 'vpc-1' })));
    expect(sdkDup).toMatchObject({ name: 'NamespaceAlreadyExists', status: 400 });
    expect(sdkDup.message).toContain(namespaceId);
    expect(await count()).toBe(n0 + 1);

    const err = await fails(['create-service', '--name', 'bad_name', '--namespace-id', namespaceId, '--dns-config', 'DnsRecords=[{Type=A,TTL=5}]']);
    expect(err).toContain('(InvalidInput)');
    expect(err).toContain("Name 'bad_name'");
    expect(await fails(['create-service', '--name', 'c', '--namespace-id', namespaceId, '--dns-config', 'RoutingPolicy=MULTIVALUE,DnsRecords=[{Type=CNAME,TTL=5}]'])).toContain('RoutingPolicy');
    expect(await fails(['create-service', '--name', 'x', '--namespace-id', 'ns-nothere'])).toContain('(NamespaceNotFound)');
    const svc = (await sd.send(new CreateServiceCommand({ Name: 'api', NamespaceId: namespaceId, DnsConfig: { DnsRecords: [{ Type: 'A', TTL: 10 }] } }))).Service!;
    expect(await failure(sd.send(new CreateServiceCommand({ Name: 'API', NamespaceId: namespaceId })))).toMatchObject({ name: 'ServiceAlreadyExists' });

    const noIp = await failure(sd.send(new RegisterInstanceCommand({ ServiceId: svc.Id!, InstanceId: 'i-1', Attributes: { AWS_INSTANCE_PORT: '80' } })));
    expect(noIp).toMatchObject({ name: 'InvalidInput', status: 400 });
    expect(noIp.message).toContain('AWS_INSTANCE_IPV4');
    expect((await ok(['list-instances', '--service-id', svc.Id!])).Instances).toEqual([]);
    expect(await fails(['update-instance-custom-health-status', '--service-id', svc.Id!, '--instance-id', 'i-1', '--status', 'HEALTHY'])).toContain('(InstanceNotFound)');
    await sd.send(new RegisterInstanceCommand({ ServiceId: svc.Id!, InstanceId: 'i-1', Attributes: { AWS_INSTANCE_IPV4: '10.0.0.1' } }));
    expect(await fails(['update-instance-custom-health-status', '--service-id', svc.Id!, '--instance-id', 'i-1', '--status', 'HEALTHY'])).toContain('(CustomHealthNotFound)');

    // A namespace with services, a service with instances: ResourceInUse, and both still there.
    const inUse = await fails(['delete-namespace', '--id', namespaceId]);
    expect(inUse).toContain('(ResourceInUse)');
    expect(inUse).toContain(namespaceId);
    expect(await fails(['delete-service', '--id', svc.Id!])).toContain('(ResourceInUse)');
    expect((await ok(['get-namespace', '--id', namespaceId])).Namespace.ServiceCount).toBe(1);
    expect((await ok(['get-service', '--id', svc.Id!])).Service.InstanceCount).toBe(1);

    expect(await failure(sd.send(new GetOperationCommand({ OperationId: 'nope' })))).toMatchObject({ name: 'OperationNotFound' });
    expect(await fails(['get-service', '--id', 'srv-nothere'])).toContain('(ServiceNotFound)');
    expect(await fails(['deregister-instance', '--service-id', svc.Id!, '--instance-id', 'ghost'])).toContain('(InstanceNotFound)');
    expect(await failure(sd.send(new DiscoverInstancesCommand({ NamespaceName: 'dup.local', ServiceName: 'nothing' })))).toMatchObject({ name: 'ServiceNotFound' });
  }, 240_000);

  it('answers A and SRV, NXDOMAIN inside a namespace, a public namespace (WEIGHTED: one of each answer), and forwards other names upstream', async () => {
    const opId = (await sd.send(new CreatePrivateDnsNamespaceCommand({ Name: 'dns.internal', Vpc: 'vpc-1' }))).OperationId!;
    const namespaceId = (await finishedOperation(sd, opId)).Targets!.NAMESPACE!;
    const svc = (await sd.send(new CreateServiceCommand({ Name: 'backend', NamespaceId: namespaceId, DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'A', TTL: 7 }, { Type: 'SRV', TTL: 7 }] } }))).Service!;
    for (let i = 1; i <= 3; i++) {
      await sd.send(new RegisterInstanceCommand({ ServiceId: svc.Id!, InstanceId: `b-${i}`, Attributes: { AWS_INSTANCE_IPV4: `10.8.0.${i}`, AWS_INSTANCE_PORT: String(9000 + i) } }));
    }
    const r = resolver();
    await expect.poll(async () => (await r.resolve4('backend.dns.internal', { ttl: true }).catch(() => [])).length, { timeout: 1000, interval: 50 }).toBe(3);
    const a = await r.resolve4('backend.dns.internal', { ttl: true });
    expect(a.map((x) => x.address).sort()).toEqual(['10.8.0.1', '10.8.0.2', '10.8.0.3']);
    expect(a.every((x) => x.ttl === 7)).toBe(true);
    const srv = await r.resolveSrv('backend.dns.internal');
    expect(srv.map((s) => `${s.name}:${s.port}`).sort()).toEqual(['b-1.backend.dns.internal:9001', 'b-2.backend.dns.internal:9002', 'b-3.backend.dns.internal:9003']);
    expect(await r.resolve4('b-2.backend.dns.internal')).toEqual(['10.8.0.2']);
    expect(await failure(r.resolve4('missing.dns.internal'))).toMatchObject({ name: 'Error', message: expect.stringContaining('ENOTFOUND') });
    // Outside every namespace: relayed to the upstream, which answers.
    expect(await r.resolve4(OUTSIDE)).toEqual(['192.0.2.7']);
    expect(upstream.queries.map((q) => q.toLowerCase())).toContain(OUTSIDE);
    expect(upstream.queries).not.toContain('backend.dns.internal');
    // A public DNS namespace is served like a private one.
    const pubOp = (await ok(['create-public-dns-namespace', '--name', 'public.example.org'])).OperationId;
    const pubId = (await finished(pubOp)).Targets.NAMESPACE;
    expect((await ok(['get-namespace', '--id', pubId])).Namespace.Type).toBe('DNS_PUBLIC');
    const www = (await ok(['create-service', '--name', 'www', '--namespace-id', pubId, '--dns-config', 'RoutingPolicy=WEIGHTED,DnsRecords=[{Type=A,TTL=30}]'])).Service;
    await ok(['register-instance', '--service-id', www.Id, '--instance-id', 'w-1', '--attributes', 'AWS_INSTANCE_IPV4=10.5.0.1']);
    await ok(['register-instance', '--service-id', www.Id, '--instance-id', 'w-2', '--attributes', 'AWS_INSTANCE_IPV4=10.5.0.2']);
    await expect.poll(async () => (await r.resolve4('www.public.example.org').catch(() => [])).length, { timeout: 1000, interval: 50 }).toBe(1);
    const weighted = new Set<string>();
    for (let n = 0; n < 30; n++) weighted.add((await r.resolve4('www.public.example.org'))[0]!);
    expect([...weighted].sort()).toEqual(['10.5.0.1', '10.5.0.2']);
    // TCP answers the same.
    const overTcp = await tcpQuery(dnsHost, dnsPort, 'backend.dns.internal', 'SRV');
    expect(overTcp.answers).toHaveLength(3);
    expect(overTcp.additionals!.filter((x) => x.type === 'A')).toHaveLength(3);
  });

  it('answers at most 8 of many instances, and shows registrations and deregistrations within a second', async () => {
    const opId = (await sd.send(new CreatePrivateDnsNamespaceCommand({ Name: 'many.internal', Vpc: 'vpc-1' }))).OperationId!;
    const namespaceId = (await finishedOperation(sd, opId)).Targets!.NAMESPACE!;
    const ttl = 2;
    const svc = (await sd.send(new CreateServiceCommand({ Name: 'web', NamespaceId: namespaceId, DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'A', TTL: ttl }] } }))).Service!;
    for (let i = 1; i <= 12; i++) await sd.send(new RegisterInstanceCommand({ ServiceId: svc.Id!, InstanceId: `w-${i}`, Attributes: { AWS_INSTANCE_IPV4: `10.7.0.${i}` } }));
    const r = resolver();
    const seen = new Set<string>();
    await expect.poll(async () => (await r.resolve4('web.many.internal').catch(() => [])).length, { timeout: 1000, interval: 50 }).toBe(8);
    for (let n = 0; n < 20; n++) {
      const got = await r.resolve4('web.many.internal');
      expect(got).toHaveLength(8);
      expect(new Set(got).size).toBe(8);
      for (const ip of got) seen.add(ip);
    }
    expect(seen.size).toBeGreaterThan(8);

    const one = (await sd.send(new CreateServiceCommand({ Name: 'solo', NamespaceId: namespaceId, DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'A', TTL: ttl }] } }))).Service!;
    let t0 = Date.now();
    await sd.send(new RegisterInstanceCommand({ ServiceId: one.Id!, InstanceId: 's-1', Attributes: { AWS_INSTANCE_IPV4: '10.6.0.1' } }));
    await expect.poll(async () => (await r.resolve4('solo.many.internal').catch(() => [])).join(), { timeout: 1000, interval: 20 }).toBe('10.6.0.1');
    const registeredMs = Date.now() - t0;
    await sd.send(new RegisterInstanceCommand({ ServiceId: one.Id!, InstanceId: 's-2', Attributes: { AWS_INSTANCE_IPV4: '10.6.0.2' } }));
    await expect.poll(async () => (await r.resolve4('solo.many.internal').catch(() => [])).length, { timeout: 1000, interval: 20 }).toBe(2);
    t0 = Date.now();
    await sd.send(new DeregisterInstanceCommand({ ServiceId: one.Id!, InstanceId: 's-1' }));
    // Gone within the record's TTL plus a second (berth's own answer changes within the second; the TTL is for caches).
    await expect.poll(async () => (await r.resolve4('solo.many.internal').catch(() => [])).join(), { timeout: (ttl + 1) * 1000, interval: 20 }).toBe('10.6.0.2');
    const deregisteredMs = Date.now() - t0;
    expect(registeredMs).toBeLessThan(1000);
    expect(deregisteredMs).toBeLessThan(1000);
    await sd.send(new DeregisterInstanceCommand({ ServiceId: one.Id!, InstanceId: 's-2' }));
    await expect.poll(async () => (await failure(r.resolve4('solo.many.internal'))).message, { timeout: 1000, interval: 20 }).toContain('ENODATA');
  });

  it('authorizes servicediscovery:<Action> on the service ARN, with its tags as aws:ResourceTag', async () => {
    const opId = (await sd.send(new CreatePrivateDnsNamespaceCommand({ Name: 'authz.internal', Vpc: 'vpc-1' }))).OperationId!;
    const namespaceId = (await finishedOperation(sd, opId)).Targets!.NAMESPACE!;
    const web = (await sd.send(new CreateServiceCommand({ Name: 'web', NamespaceId: namespaceId, Tags: [{ Key: 'team', Value: 'web' }] }))).Service!;
    const ops = (await sd.send(new CreateServiceCommand({ Name: 'ops', NamespaceId: namespaceId, Tags: [{ Key: 'team', Value: 'ops' }] }))).Service!;
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['servicediscovery:GetService', 'servicediscovery:RegisterInstance'], Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'web' } } },
        { Effect: 'Allow', Action: 'servicediscovery:ListServices', Resource: '*' },
      ],
    };
    expect((await cli(['iam', 'create-user', '--user-name', 'sd-web'])).code).toBe(0);
    expect((await cli(['iam', 'put-user-policy', '--user-name', 'sd-web', '--policy-name', 'p', '--policy-document', JSON.stringify(policy)])).code).toBe(0);
    const key = (await cli(['iam', 'create-access-key', '--user-name', 'sd-web'])).json.AccessKey;
    const asUser = new ServiceDiscoveryClient({ region: REGION, endpoint: server.url, credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey }, disableHostPrefix: true, maxAttempts: 1 });
    try {
      // A new key reaches the server's credential cache within moments.
      await expect.poll(async () => (await asUser.send(new ListServicesCommand({})).then(() => 'ok', (e: Error) => e.name)), { timeout: 10_000 }).toBe('ok');
      expect((await asUser.send(new GetServiceCommand({ Id: web.Id! }))).Service!.Name).toBe('web');
      const denied = await failure(asUser.send(new GetServiceCommand({ Id: ops.Id! })));
      expect(denied.name).toBe('AccessDeniedException');
      expect(denied.message).toContain('servicediscovery:GetService');
      expect(denied.message).toContain(ops.Arn!);
      await asUser.send(new RegisterInstanceCommand({ ServiceId: web.Id!, InstanceId: 'u-1', Attributes: { team: 'web' } }));
      expect(await failure(asUser.send(new RegisterInstanceCommand({ ServiceId: ops.Id!, InstanceId: 'u-1', Attributes: {} })))).toMatchObject({ name: 'AccessDeniedException' });
      expect((await ok(['list-instances', '--service-id', ops.Id!])).Instances).toEqual([]);
      expect(await failure(asUser.send(new CreatePrivateDnsNamespaceCommand({ Name: 'nope.internal', Vpc: 'v' })))).toMatchObject({ name: 'AccessDeniedException' });
    } finally {
      asUser.destroy();
    }
  });
});
