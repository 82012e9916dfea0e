/**
 * The Elastic Load Balancing v2 API on the built `berth server` (Query protocol, SigV4 `elasticloadbalancing`),
 * driven by the AWS CLI v2 (`aws elbv2 … --endpoint-url`) and the SDK's client-elastic-load-balancing-v2: every
 * action berth serves, ELB's XML error shapes as the SDK parses them and as they are on the wire, Marker paging,
 * and a deregistered target draining for its delay and then removed by the leader. Control plane only: no
 * `berth lb` serves these listeners here, so targets stay `initial` (or `unused`).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  ModifyLoadBalancerAttributesCommand,
  RegisterTargetsCommand,
  SetRulePrioritiesCommand,
  paginateDescribeTargetGroups,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLI, awsCli, type CliResult } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

const REGION = 'eu-west-1';
const ACCOUNT = '000000000000';

describe('ELBv2 on the built server, through the AWS CLI v2 and the SDK', () => {
  let dir: string;
  let server: BerthServerProcess;
  let elb: ElasticLoadBalancingV2Client;
  const aws = (...args: string[]) => awsCli(server.url, server.credentialsFile, ['elbv2', ...args], REGION);
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r.json;
  };
  /** The CLI's error line: `An error occurred (Code) when calling the X operation: message`. */
  const refused = (r: CliResult, code: string) => {
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`(${code})`);
    return r.stderr;
  };

  beforeAll(async () => {
    expect(existsSync(AWS_CLI), `${AWS_CLI} (AWS CLI v2) is required`).toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-elbv2-'));
    server = await startBerthServer(join(dir, 'data'), ['--region', REGION, '--account-id', ACCOUNT, '--elb-dns-domain', 'lb.example.test']);
    elb = new ElasticLoadBalancingV2Client({ endpoint: server.url, region: REGION, credentials: server.keys, maxAttempts: 1 });
  });
  afterAll(async () => {
    elb?.destroy();
    await server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs an ALB through the CLI: load balancer, target group, targets, listener, rules, tags, and deletes it all', async () => {
    const lb = ok(await aws('create-load-balancer', '--name', 'web', '--subnets', 'subnet-0a', 'subnet-0b', '--security-groups', 'sg-01', '--tags', 'Key=team,Value=edge')).LoadBalancers[0];
    expect(lb).toMatchObject({ LoadBalancerName: 'web', Type: 'application', Scheme: 'internet-facing', State: { Code: 'provisioning' }, SecurityGroups: ['sg-01'] });
    expect(lb.LoadBalancerArn).toMatch(new RegExp(`^arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/app/web/[0-9a-f]{16}$`));
    expect(lb.DNSName).toMatch(new RegExp(`^web-[0-9a-f]{16}\\.${REGION}\\.elb\\.lb\\.example\\.test$`));
    ok(await aws('wait', 'load-balancer-available', '--load-balancer-arns', lb.LoadBalancerArn));
    expect(ok(await aws('describe-load-balancers', '--names', 'web')).LoadBalancers[0].State).toEqual({ Code: 'active' });
    const lbArn: string = lb.LoadBalancerArn;
    const attrs = ok(await aws('modify-load-balancer-attributes', '--load-balancer-arn', lbArn, '--attributes', 'Key=idle_timeout.timeout_seconds,Value=120')).Attributes;
    expect(attrs).toContainEqual({ Key: 'idle_timeout.timeout_seconds', Value: '120' });
    expect(ok(await aws('describe-load-balancer-attributes', '--load-balancer-arn', lbArn)).Attributes).toContainEqual({ Key: 'routing.http2.enabled', Value: 'true' });

    const tg = ok(
      await aws('create-target-group', '--name', 'web-ip', '--protocol', 'HTTP', '--port', '8080', '--target-type', 'ip', '--health-check-path', '/healthz', '--matcher', 'HttpCode=200-299'),
    ).TargetGroups[0];
    expect(tg).toMatchObject({ Protocol: 'HTTP', Port: 8080, TargetType: 'ip', HealthCheckPath: '/healthz', Matcher: { HttpCode: '200-299' }, HealthCheckIntervalSeconds: 30, LoadBalancerArns: [] });
    const tgArn: string = tg.TargetGroupArn;
    expect(ok(await aws('modify-target-group', '--target-group-arn', tgArn, '--health-check-interval-seconds', '10', '--healthy-threshold-count', '2')).TargetGroups[0]).toMatchObject({
      HealthCheckIntervalSeconds: 10,
      HealthyThresholdCount: 2,
    });
    ok(await aws('modify-target-group-attributes', '--target-group-arn', tgArn, '--attributes', 'Key=deregistration_delay.timeout_seconds,Value=5', 'Key=stickiness.enabled,Value=true'));
    const tgAttrs = ok(await aws('describe-target-group-attributes', '--target-group-arn', tgArn)).Attributes;
    expect(tgAttrs).toEqual(expect.arrayContaining([{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }, { Key: 'stickiness.lb_cookie.duration_seconds', Value: '86400' }]));

    ok(await aws('register-targets', '--target-group-arn', tgArn, '--targets', 'Id=10.0.0.11', 'Id=10.0.0.12,Port=9090'));
    const health = async () => ok(await aws('describe-target-health', '--target-group-arn', tgArn)).TargetHealthDescriptions as { Target: { Id: string }; TargetHealth: { State: string; Reason?: string } }[];
    expect((await health()).map((d) => [d.Target.Id, d.TargetHealth.State, d.TargetHealth.Reason])).toEqual([
      ['10.0.0.11', 'unused', 'Target.NotInUse'],
      ['10.0.0.12', 'unused', 'Target.NotInUse'],
    ]);

    const listener = ok(await aws('create-listener', '--load-balancer-arn', lbArn, '--protocol', 'HTTP', '--port', '80', '--default-actions', `Type=forward,TargetGroupArn=${tgArn}`)).Listeners[0];
    expect(listener.DefaultActions[0]).toMatchObject({ Type: 'forward', TargetGroupArn: tgArn, ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgArn, Weight: 1 }] } });
    expect(ok(await aws('describe-target-groups', '--load-balancer-arn', lbArn)).TargetGroups[0].LoadBalancerArns).toEqual([lbArn]);
    expect((await health())[0]!.TargetHealth).toMatchObject({ State: 'initial', Reason: 'Elb.RegistrationInProgress' });

    const conditions = (path: string) => JSON.stringify([{ Field: 'path-pattern', PathPatternConfig: { Values: [path] } }]);
    const rule = ok(
      await aws('create-rule', '--listener-arn', listener.ListenerArn, '--priority', '10', '--conditions', conditions('/api/*'), '--actions', `Type=forward,TargetGroupArn=${tgArn}`),
    ).Rules[0];
    const redirect = ok(
      await aws(
        'create-rule',
        '--listener-arn',
        listener.ListenerArn,
        '--priority',
        '20',
        '--conditions',
        JSON.stringify([{ Field: 'host-header', HostHeaderConfig: { Values: ['old.example.test'] } }, { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET'] } }]),
        '--actions',
        JSON.stringify([{ Type: 'redirect', RedirectConfig: { Host: 'new.example.test', StatusCode: 'HTTP_301' } }]),
      ),
    ).Rules[0];
    expect(redirect.Actions[0].RedirectConfig).toEqual({ Protocol: '#{protocol}', Port: '#{port}', Host: 'new.example.test', Path: '/#{path}', Query: '#{query}', StatusCode: 'HTTP_301' });
    refused(await aws('create-rule', '--listener-arn', listener.ListenerArn, '--priority', '10', '--conditions', conditions('/x'), '--actions', `Type=forward,TargetGroupArn=${tgArn}`), 'PriorityInUse');
    ok(await aws('set-rule-priorities', '--rule-priorities', `RuleArn=${rule.RuleArn},Priority=30`));
    ok(
      await aws(
        'modify-rule',
        '--rule-arn',
        redirect.RuleArn,
        '--actions',
        JSON.stringify([{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'down' } }]),
      ),
    );
    const rules = ok(await aws('describe-rules', '--listener-arn', listener.ListenerArn)).Rules;
    expect(rules.map((r: { Priority: string; IsDefault: boolean }) => [r.Priority, r.IsDefault])).toEqual([
      ['20', false],
      ['30', false],
      ['default', true],
    ]);
    expect(rules[0]!.Actions[0]).toMatchObject({ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503', MessageBody: 'down' } });

    ok(await aws('modify-listener', '--listener-arn', listener.ListenerArn, '--port', '8080'));
    expect(ok(await aws('describe-listeners', '--load-balancer-arn', lbArn)).Listeners.map((l: { Port: number }) => l.Port)).toEqual([8080]);

    ok(await aws('add-tags', '--resource-arns', lbArn, tgArn, listener.ListenerArn, rule.RuleArn, '--tags', 'Key=env,Value=test'));
    ok(await aws('remove-tags', '--resource-arns', lbArn, '--tag-keys', 'team'));
    const tags = ok(await aws('describe-tags', '--resource-arns', lbArn, rule.RuleArn)).TagDescriptions;
    expect(tags).toEqual([
      { ResourceArn: lbArn, Tags: [{ Key: 'env', Value: 'test' }] },
      { ResourceArn: rule.RuleArn, Tags: [{ Key: 'env', Value: 'test' }] },
    ]);

    // Deregistered, a target drains for the group's delay (5 s here, so a slow CLI start still sees it draining) and the
    // leader then removes it.
    ok(await aws('deregister-targets', '--target-group-arn', tgArn, '--targets', 'Id=10.0.0.11'));
    expect((await health()).find((d) => d.Target.Id === '10.0.0.11')?.TargetHealth).toMatchObject({ State: 'draining', Reason: 'Target.DeregistrationInProgress' });
    await expect.poll(async () => (await health()).map((d) => d.Target.Id), { timeout: 20_000, interval: 250 }).toEqual(['10.0.0.12']);

    refused(await aws('delete-target-group', '--target-group-arn', tgArn), 'ResourceInUse');
    ok(await aws('delete-rule', '--rule-arn', rule.RuleArn));
    ok(await aws('delete-listener', '--listener-arn', listener.ListenerArn));
    ok(await aws('delete-target-group', '--target-group-arn', tgArn));
    ok(await aws('delete-load-balancer', '--load-balancer-arn', lbArn));
    refused(await aws('describe-load-balancers', '--names', 'web'), 'LoadBalancerNotFound');
  });

  it('answers ELB errors as the SDK parses them: ValidationError, Duplicate…, NotFound, PriorityInUse, TooManyTargets, ResourceInUse, InvalidConfigurationRequest', async () => {
    const subnets = ['subnet-1', 'subnet-2'];
    const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'sdk', Subnets: subnets }))).LoadBalancers![0]!;
    await expect(elb.send(new CreateLoadBalancerCommand({ Name: 'sdk', Subnets: subnets, Scheme: 'internal' }))).rejects.toMatchObject({
      name: 'DuplicateLoadBalancerNameException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: lb.LoadBalancerArn, Attributes: [{ Key: 'no.such.key', Value: 'x' }] }))).rejects.toMatchObject({
      name: 'ValidationError',
      message: "Load balancer attribute key 'no.such.key' is not recognized",
    });
    const missingTg = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/ghost/0123456789abcdef`;
    await expect(elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [missingTg] }))).rejects.toMatchObject({ name: 'TargetGroupNotFoundException' });
    const tg = (await elb.send(new CreateTargetGroupCommand({ Name: 'sdk-tg', Protocol: 'HTTP', Port: 80, TargetType: 'ip' }))).TargetGroups![0]!;
    const many = Array.from({ length: 1001 }, (_, i) => ({ Id: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}` }));
    await expect(elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: many }))).rejects.toMatchObject({ name: 'TooManyTargetsException' });
    await expect(elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: 'i-0123456789abcdef0' }] }))).rejects.toMatchObject({ name: 'InvalidTargetException' });
    const listener = (
      await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }))
    ).Listeners![0]!;
    await expect(elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn }))).rejects.toMatchObject({ name: 'ResourceInUseException' });
    const ruleAt = (priority: number, path: string) =>
      elb.send(new CreateRuleCommand({ ListenerArn: listener.ListenerArn, Priority: priority, Conditions: [{ Field: 'path-pattern', Values: [path] }], Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }] }));
    const one = (await ruleAt(1, '/one')).Rules![0]!;
    await ruleAt(2, '/two');
    await expect(elb.send(new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: one.RuleArn, Priority: 2 }] }))).rejects.toMatchObject({ name: 'PriorityInUseException' });
    const nlb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'sdk-net', Type: 'network', Subnets: ['subnet-1'] }))).LoadBalancers![0]!;
    const tcp = (await elb.send(new CreateTargetGroupCommand({ Name: 'sdk-tcp', Protocol: 'TCP', Port: 80 }))).TargetGroups![0]!;
    const tcpListener = (
      await elb.send(new CreateListenerCommand({ LoadBalancerArn: nlb.LoadBalancerArn, Protocol: 'TCP', Port: 443, DefaultActions: [{ Type: 'forward', TargetGroupArn: tcp.TargetGroupArn }] }))
    ).Listeners![0]!;
    await expect(
      elb.send(new CreateRuleCommand({ ListenerArn: tcpListener.ListenerArn, Priority: 1, Conditions: [{ Field: 'path-pattern', Values: ['/'] }], Actions: [{ Type: 'forward', TargetGroupArn: tcp.TargetGroupArn }] })),
    ).rejects.toMatchObject({ name: 'InvalidConfigurationRequestException' });

    // On the wire: ELB's namespace, the Query error shape, the request id in the body and the header.
    const raw = await signedForm(`Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.1=nope`);
    expect(raw.status).toBe(400);
    expect(raw.headers.get('content-type')).toBe('text/xml');
    const parsed = new XMLParser({ ignoreAttributes: false }).parse(raw.text);
    expect(parsed.ErrorResponse['@_xmlns']).toBe('http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/');
    expect(parsed.ErrorResponse.Error).toMatchObject({ Type: 'Sender', Code: 'LoadBalancerNotFound' });
    expect(parsed.ErrorResponse.RequestId).toBe(raw.headers.get('x-amzn-requestid'));
  });

  it('pages DescribeTargetGroups with Marker (the SDK paginator and the CLI)', async () => {
    for (let i = 0; i < 7; i++) await elb.send(new CreateTargetGroupCommand({ Name: `page-${i}`, Protocol: 'TCP', Port: 1000 + i }));
    const pages: string[][] = [];
    for await (const page of paginateDescribeTargetGroups({ client: elb }, { PageSize: 3, Names: Array.from({ length: 7 }, (_, i) => `page-${i}`) })) {
      pages.push(page.TargetGroups!.map((t) => t.TargetGroupName!));
    }
    expect(pages).toEqual([
      ['page-0', 'page-1', 'page-2'],
      ['page-3', 'page-4', 'page-5'],
      ['page-6'],
    ]);
    // The CLI follows NextMarker itself: --max-items gives a NextToken, --starting-token resumes from it.
    const first = ok(await aws('describe-target-groups', '--max-items', '2'));
    expect(first.TargetGroups).toHaveLength(2);
    const rest = ok(await aws('describe-target-groups', '--starting-token', first.NextToken)).TargetGroups;
    expect(rest.map((t: { TargetGroupName: string }) => t.TargetGroupName)).not.toContain(first.TargetGroups[0].TargetGroupName);
    // PageSize is an API member the CLI passes through as --page-size, which turns its own paging off: one page, and NextMarker.
    const one = ok(await aws('describe-target-groups', '--page-size', '2'));
    expect(one.TargetGroups).toHaveLength(2);
    const next = ok(await aws('describe-target-groups', '--page-size', '2', '--marker', one.NextMarker));
    expect(next.TargetGroups[0].TargetGroupName > one.TargetGroups[1].TargetGroupName).toBe(true);
    refused(await aws('describe-target-groups', '--marker', 'not-a-marker'), 'ValidationError');
  });

  async function signedForm(body: string): Promise<{ status: number; text: string; headers: Headers }> {
    const url = new URL(server.url);
    const signer = new SignatureV4({ service: 'elasticloadbalancing', region: REGION, credentials: server.keys, sha256: Hash.bind(null, 'sha256') });
    const signed = await signer.sign(
      new HttpRequest({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded' }, body }),
    );
    const response = await fetch(server.url, { method: 'POST', headers: signed.headers as Record<string, string>, body });
    return { status: response.status, text: await response.text(), headers: response.headers };
  }
});
