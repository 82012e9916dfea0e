/**
 * The web console in a real browser: Debian's chromium, headless, driven by playwright-core against the built
 * `berth server` (serving the console) and a real agent running busybox containers. A person's path through it: sign
 * in (a wrong secret refused), see the cluster's instance, register a task definition from JSON (the API's
 * validation error shown at its field first), create a service behind a target group through the form (its refusal
 * shown at the field first), watch it reach steady state, scale it from the console, read a task's log live, stop
 * the task and read its stopped reason; see the service's CPU/memory charts, load balancer targets and auto
 * scaling, and the cluster's capacity providers. Each page is screenshotted into the test's output
 * directory (BERTH_TEST_OUTPUT_DIR, else test-results/console) and checked with axe-core: no serious or critical
 * violations, in light and dark. The initial JavaScript is measured as the browser received it (≤ 300 kB gzip).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ApplicationAutoScalingClient, DeregisterScalableTargetCommand, PutScalingPolicyCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { CreateServiceCommand, DescribeServicesCommand, DescribeTasksCommand, PutClusterCapacityProvidersCommand } from '@aws-sdk/client-ecs';
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, ElasticLoadBalancingV2Client, ModifyTargetGroupAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateRepositoryCommand, ECRClient, PutLifecyclePolicyCommand } from '@aws-sdk/client-ecr';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/berth-server.js';
import { scaleServiceToZero, startTestCluster, type TestCluster } from './support/cluster.js';
import { createReadOnlyUser } from './support/read-only-user.js';

// The browser globals the functions handed to page.evaluate use (this program's types have no DOM).
declare const window: unknown;
declare const document: { documentElement: { scrollWidth: number } };
declare const localStorage: object;
declare const sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };

const isRoot = process.getuid?.() === 0;
const CHROMIUM = process.env.BERTH_CHROMIUM ?? '/usr/bin/chromium';
const OUT = process.env.BERTH_TEST_OUTPUT_DIR ?? join(REPO_ROOT, 'test-results', 'console');
const AXE_SOURCE = (createRequire(import.meta.url)('axe-core') as { source: string }).source;
const INITIAL_JS_LIMIT = 300 * 1024;
const GREETING = 'hello from the console test';

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

describe.runIf(isRoot)('the web console in a browser', () => {
  let cluster: TestCluster;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base = '';
  let taskId = '';
  let targetGroupArn = '';

  /** Screenshot the page into the output directory and check it with axe-core: no serious or critical violations. */
  const checkPage = async (name: string, p: Page = page) => {
    await p.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
    // Evaluated through the DevTools protocol, which the page's CSP (scripts from its origin only) does not govern.
    await p.evaluate(AXE_SOURCE);
    const violations = await p.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: object, o: object): Promise<{ violations: AxeViolation[] }> } }).axe;
      return (await axe.run(document, { resultTypes: ['violations'] })).violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
    });
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    const lesser = violations.filter((v) => !serious.includes(v)).map((v) => `${v.id} (${v.impact})`);
    console.log(`axe ${name}: ${serious.length} serious/critical, ${lesser.length} other${lesser.length ? `: ${lesser.join(', ')}` : ''}`);
    expect(serious, `${name}: ${JSON.stringify(serious, null, 1)}`).toEqual([]);
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`chromium is missing at ${CHROMIUM}: bash scripts/install.sh --test installs Debian's chromium`);
    mkdirSync(OUT, { recursive: true });
    cluster = await startTestCluster();
    // Utilization figures every 10 s (the default is a minute), so the charts have points while the test runs.
    await cluster.startAgent({ env: { BERTH_METRICS_PUBLISH_INTERVAL: '10s' } });
    base = cluster.server.url;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    page = await context.newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (cluster) await scaleServiceToZero(cluster.ecs, 'web');
    await cluster?.stop();
  }, 120_000);

  it('serves the console at / beside the APIs, and the APIs stay signed', async () => {
    expect(cluster.server.stderr()).toContain(`web console at ${base}/ `);
    const root = await fetch(`${base}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toMatch(/^text\/html/);
    expect(root.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await root.text()).toContain('<meta name="berth-region" content="us-east-1"');
    expect((await fetch(`${base}/console/clusters/default`)).status).toBe(200);
    expect((await fetch(`${base}/console/assets/..%2f..%2fpackage.json`)).status).toBe(404);
    // The registry keeps /v2/ (it asks for credentials), and an unsigned API call is refused as before.
    expect((await fetch(`${base}/v2/`)).status).toBe(401);
    const unsigned = await fetch(`${base}/`, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListClusters' }, body: '{}' });
    expect(unsigned.status).toBeGreaterThanOrEqual(400);
  });

  it('signs in with an access key pair (a wrong secret refused) and lists the clusters; the initial JavaScript is within 300 kB gzip', async () => {
    const scripts: Promise<number>[] = [];
    page.on('response', (response) => {
      if (response.request().resourceType() === 'script') scripts.push(response.request().sizes().then((s) => s.responseBodySize));
    });
    await page.goto(`${base}/`);
    await expect.poll(() => page.url()).toBe(`${base}/console/clusters`);
    await page.getByLabel('Access key ID').fill(cluster.server.keys.accessKeyId);
    await page.getByLabel('Secret access key').fill('not-the-secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 15_000 }).toMatch(/SignatureDoesNotMatch|InvalidSignatureException|UnrecognizedClient/);
    await checkPage('sign-in-refused');
    await page.getByLabel('Secret access key').fill(cluster.server.keys.secretAccessKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'default', exact: true }).waitFor({ timeout: 15_000 });
    const scriptBytes = (await Promise.all(scripts)).reduce((a, b) => a + b, 0);
    console.log(`console: initial JavaScript received ${(scriptBytes / 1024).toFixed(1)} kB (gzip) in ${scripts.length} files, through the clusters page`);
    expect(scriptBytes).toBeGreaterThan(0);
    expect(scriptBytes).toBeLessThanOrEqual(INITIAL_JS_LIMIT);
    // The key pair stays in this tab's sessionStorage, nowhere else.
    expect(await page.evaluate(() => Object.keys(localStorage).length)).toBe(0);
    expect(await page.evaluate(() => sessionStorage.getItem('berth-console-session'))).toContain(cluster.server.keys.accessKeyId);
    await checkPage('clusters');
  });

  it('shows the cluster: the instance with CPU and memory reserved of registered', async () => {
    await page.getByRole('link', { name: 'default', exact: true }).click();
    await expect.poll(() => page.url()).toBe(`${base}/console/clusters/default`);
    await page.getByRole('img', { name: /^CPU: \d+ of \d+ units reserved/ }).first().waitFor({ timeout: 15_000 });
    await page.getByRole('img', { name: /^Memory: \d+ of \d+ MiB reserved/ }).first().waitFor();
    await checkPage('cluster');
    // The instance's own page: status, resources, attributes.
    await page.locator('.card h3 a').first().click();
    await expect.poll(() => page.getByTestId('instance-status').textContent(), { timeout: 15_000 }).toBe('ACTIVE');
    expect(await page.locator('#attributes').textContent()).toContain('ecs.os-type');
    await checkPage('container-instance');
  });

  it('registers a task definition from JSON, showing the API validation error at its field first', async () => {
    await page.getByRole('link', { name: 'Task definitions' }).click();
    await page.getByRole('link', { name: 'Register a new task definition' }).click();
    const json = (memory: number) =>
      JSON.stringify(
        {
          family: 'web',
          networkMode: 'bridge',
          containerDefinitions: [
            // cpu reserved so AWS/ECS CPUUtilization has a denominator; the port is the target group's (a dynamic host port).
            { name: 'app', image: cluster.image, cpu: 64, memory, essential: true, portMappings: [{ containerPort: 8080, hostPort: 0 }], command: ['sh', '-c', `echo ${GREETING}; sleep 3600`] },
          ],
        },
        null,
        2,
      );
    const editor = page.getByLabel(/Task definition JSON/);
    await editor.fill(json(2));
    await page.getByRole('button', { name: 'Register new revision' }).click();
    const error = page.locator('#td-error');
    await error.waitFor({ timeout: 15_000 });
    expect(await error.textContent()).toMatch(/ClientException: Invalid setting for container 'app'\. The 'memory' value must be at least 6 MiB\./);
    expect(await error.getAttribute('data-field')).toBe('containerDefinitions[0].memory');
    // The field's line: marked in the gutter, selected in the editor, the editor marked invalid.
    const line = json(2).split('\n').findIndex((l) => l.includes('"memory"')) + 1;
    expect(await error.getAttribute('data-line')).toBe(String(line));
    expect(await page.locator(`.gutter [data-line="${line}"]`).getAttribute('class')).toBe('bad');
    const selected = await editor.evaluate((el) => {
      const area = el as unknown as { value: string; selectionStart: number; selectionEnd: number };
      return area.value.slice(area.selectionStart, area.selectionEnd);
    });
    expect(selected).toContain('"memory": 2');
    expect(await editor.getAttribute('aria-invalid')).toBe('true');
    await checkPage('task-definition-error');
    await editor.fill(json(32));
    await page.getByRole('button', { name: 'Register new revision' }).click();
    await expect.poll(() => page.url(), { timeout: 15_000 }).toBe(`${base}/console/task-definitions/web?revision=1`);
    await expect.poll(() => page.getByTestId('td-json-view').textContent(), { timeout: 15_000 }).toContain('"taskDefinitionArn"');
    await checkPage('task-definition');
    // The next revision from the JSON of this one, then the two compared.
    await page.getByRole('button', { name: 'Edit as a new revision' }).click();
    const edited = (await editor.inputValue()).replace('"memory": 32', '"memory": 48');
    expect(edited).toContain('"memory": 48');
    await editor.fill(edited);
    await page.getByRole('button', { name: 'Register new revision' }).click();
    await expect.poll(() => page.url(), { timeout: 15_000 }).toBe(`${base}/console/task-definitions/web?revision=2`);
    await page.getByLabel('Compare with revision').selectOption('1');
    await page.getByRole('button', { name: 'Compare' }).click();
    await expect.poll(() => page.url()).toBe(`${base}/console/task-definitions/web?revision=2&compare=1`);
    await expect.poll(() => page.getByTestId('td-diff').textContent(), { timeout: 15_000 }).toMatch(/-\s+"memory": 32/);
    expect(await page.getByTestId('td-diff').textContent()).toMatch(/\+\s+"memory": 48/);
    await checkPage('task-definition-diff');
  });

  it('creates a service from the form, the refusal of a target group without a container port shown at its field first', async () => {
    // A target group behind a listener (no `berth lb` runs: its targets stay in their initial health).
    const elb = new ElasticLoadBalancingV2Client({ endpoint: base, region: 'us-east-1', credentials: { ...cluster.server.keys } });
    const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'front', Subnets: ['subnet-0a', 'subnet-0b'] }))).LoadBalancers![0]!.LoadBalancerArn!;
    targetGroupArn = (await elb.send(new CreateTargetGroupCommand({ Name: 'api', Protocol: 'HTTP', Port: 8080, TargetType: 'instance' }))).TargetGroups![0]!.TargetGroupArn!;
    // Deregistered targets leave at once (no drain), so the service behind it scales to zero quickly at the end.
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '0' }] }));
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb, Protocol: 'HTTP', Port: 18080, DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }] }));
    elb.destroy();
    await page.goto(`${base}/console/clusters/default`);
    await page.getByRole('link', { name: 'Create a service' }).click();
    await expect.poll(() => page.url()).toBe(`${base}/console/clusters/default/create-service`);
    await page.getByLabel('Service name').fill('web');
    await page.getByRole('option', { name: 'web:1', exact: true }).waitFor({ state: 'attached', timeout: 15_000 });
    await page.getByLabel('Task definition').selectOption('web:1');
    await page.getByLabel('Launch type').selectOption('EC2');
    await page.getByLabel('Target group').selectOption({ label: 'api (HTTP 8080, instance)' });
    await page.getByLabel('Container name').fill('app');
    // No container port: CreateService refuses, and the form marks the port.
    await page.getByRole('button', { name: 'Create service' }).click();
    const error = page.locator('#create-error');
    await error.waitFor({ timeout: 15_000 });
    expect(await error.textContent()).toMatch(/^InvalidParameterException: .*containerPort/);
    expect(await error.getAttribute('data-field')).toBe('containerPort');
    const port = page.getByLabel('Container port');
    expect(await port.getAttribute('aria-invalid')).toBe('true');
    expect(await port.evaluate((el) => el === (el as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement)).toBe(true);
    await checkPage('create-service-error');
    // Not behind the load balancer after all: a task there counts as healthy only once its target is, and no
    // `berth lb` checks them here (the last test puts another service behind it).
    await page.getByLabel('Target group').selectOption({ label: 'None' });
    await page.getByRole('button', { name: 'Create service' }).click();
    // Polled as the page's URL, or what the form shows while it stays (so a refusal is in the failure).
    const created = async () => (page.url() === `${base}/console/clusters/default/services/web` ? 'created' : ((await page.locator('#create-error').textContent().catch(() => null)) ?? page.url()));
    await expect.poll(created, { timeout: 15_000 }).toBe('created');
    const { services } = await cluster.ecs.send(new DescribeServicesCommand({ services: ['web'] }));
    expect(services![0]).toMatchObject({ desiredCount: 1, launchType: 'EC2', loadBalancers: [] });
    expect(services![0]!.taskDefinition).toMatch(/:task-definition\/web:1$/);
  });

  it('shows the service reaching steady state, and scales it from the console', async () => {
    await expect.poll(() => page.getByTestId('rollout').textContent(), { timeout: 60_000, interval: 500 }).toBe('COMPLETED');
    expect(await page.getByTestId('running').textContent()).toBe('1');
    await expect.poll(() => page.locator('#events').textContent(), { timeout: 30_000 }).toMatch(/has reached a steady state/);
    await checkPage('service');
    await page.getByLabel('Desired count').fill('2');
    await page.getByRole('button', { name: 'Scale' }).click();
    await page.getByRole('status').filter({ hasText: 'Desired count set to 2.' }).waitFor({ timeout: 15_000 });
    const { services } = await cluster.ecs.send(new DescribeServicesCommand({ services: ['web'] }));
    expect(services![0]!.desiredCount).toBe(2);
    await expect.poll(() => page.getByTestId('running').textContent(), { timeout: 60_000, interval: 500 }).toBe('2');
    await expect.poll(() => page.getByTestId('desired').textContent()).toBe('2');
    await checkPage('service-scaled');
    // Update to revision 2 from the console: a rolling deployment to completion.
    await page.getByLabel('Task definition revision').selectOption('web:2');
    await page.getByRole('button', { name: 'Update', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Updating to web:2.' }).waitFor({ timeout: 15_000 });
    const primary = page.locator('[data-deployment-status="PRIMARY"]');
    await expect.poll(() => primary.textContent(), { timeout: 90_000, interval: 500 }).toMatch(/web:2.*COMPLETED/);
    await expect.poll(() => page.getByTestId('running').textContent(), { timeout: 60_000, interval: 500 }).toBe('2');
    await checkPage('service-updated');
  });

  it('opens a task: its containers and its log live; stops it and shows the stopped reason', async () => {
    const firstTask = page.locator('#tasks tbody tr', { hasText: 'RUNNING' }).first().getByRole('link');
    taskId = (await firstTask.textContent())!.trim();
    await firstTask.click();
    await expect.poll(() => page.url()).toMatch(new RegExp(`^${base}/console/clusters/default/tasks/${taskId}`));
    taskId = page.url().split('/').at(-1)!;
    await expect.poll(() => page.getByTestId('last-status').textContent(), { timeout: 15_000 }).toBe('RUNNING');
    await expect.poll(() => page.getByTestId('log-app').textContent(), { timeout: 30_000, interval: 500 }).toContain(GREETING);
    expect(await page.getByTestId('exec-disabled').count()).toBe(1); // the service's tasks run without enableExecuteCommand (console-exec.test.ts opens a terminal)
    await checkPage('task');
    await page.getByLabel('Reason for stopping').fill('stopped from the console test');
    await page.getByRole('button', { name: 'Stop task' }).click();
    await expect.poll(() => page.getByTestId('stopped-reason').textContent().catch(() => ''), { timeout: 30_000, interval: 500 }).toBe('stopped from the console test');
    await expect.poll(() => page.getByTestId('last-status').textContent(), { timeout: 30_000, interval: 500 }).toBe('STOPPED');
    expect(await page.getByTestId('exit-app').textContent()).toMatch(/^\d+$/);
    const { tasks } = await cluster.ecs.send(new DescribeTasksCommand({ tasks: [taskId] }));
    expect(tasks![0]!.stoppedReason).toBe('stopped from the console test');
    await checkPage('task-stopped');
  });

  it('finds the output in the log groups: the group, its streams, a filter pattern', async () => {
    await page.getByRole('link', { name: 'Logs', exact: true }).click();
    await page.getByRole('link', { name: '/berth/default', exact: true }).click();
    await expect.poll(() => page.url()).toBe(`${base}/console/logs/${encodeURIComponent('/berth/default')}`);
    await page.getByLabel('Filter pattern').fill('console');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => page.url()).toContain('pattern=console');
    await expect.poll(() => page.getByTestId('filtered-events').textContent(), { timeout: 15_000 }).toContain(GREETING);
    expect(await page.locator('#streams').textContent()).toContain(`web/app/${taskId}`);
    await checkPage('log-group');
    await page.getByLabel('Filter pattern').fill('nothing-says-this');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No events match nothing-says-this.').waitFor({ timeout: 15_000 });
  });

  it('shows the registry: a repository and what its lifecycle policy would expire', async () => {
    const ecr = new ECRClient({ endpoint: base, region: 'us-east-1', credentials: { ...cluster.server.keys } });
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/app' }));
    const rules = { rules: [{ rulePriority: 1, description: 'old untagged', selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 }, action: { type: 'expire' } }] };
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'team/app', lifecyclePolicyText: JSON.stringify(rules) }));
    ecr.destroy();
    await page.getByRole('link', { name: 'Registry', exact: true }).click();
    await page.getByRole('link', { name: 'team/app', exact: true }).click();
    await expect.poll(() => page.url()).toBe(`${base}/console/registry/${encodeURIComponent('team/app')}`);
    await page.getByText('No images.').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Preview what it would expire' }).click();
    await page.getByRole('status').filter({ hasText: 'COMPLETE: 0 images would expire.' }).waitFor({ timeout: 15_000 });
    await checkPage('repository');
  });

  it('reads on a phone and in dark mode, with a shareable URL opening the page directly', async () => {
    const session = await page.evaluate(() => sessionStorage.getItem('berth-console-session'));
    for (const [name, options] of [
      ['phone', { viewport: { width: 390, height: 844 }, colorScheme: 'light' as const, isMobile: true }],
      ['dark', { viewport: { width: 1280, height: 800 }, colorScheme: 'dark' as const }],
    ] as const) {
      const other = await browser.newContext(options);
      const p = await other.newPage();
      // A shared URL in a new tab asks for sign-in (the key pair is per tab), then opens the page it names.
      await p.goto(`${base}/console/clusters/default/services/web`);
      await p.getByLabel('Access key ID').waitFor();
      await p.evaluate((s) => sessionStorage.setItem('berth-console-session', s!), session);
      await p.reload();
      await expect.poll(() => p.getByTestId('rollout').textContent(), { timeout: 60_000, interval: 500 }).toBe('COMPLETED');
      // Nothing wider than the screen: wide tables scroll inside their own region.
      expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(options.viewport.width);
      await checkPage(`service-${name}`, p);
      await p.goto(`${base}/console/clusters/default/tasks/${taskId}`);
      await expect.poll(() => p.getByTestId('last-status').textContent(), { timeout: 15_000 }).toBe('STOPPED');
      await p.getByTestId('log-app').waitFor();
      expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(options.viewport.width);
      await checkPage(`task-${name}`, p);
      await p.goto(`${base}/console/clusters/default/create-service`);
      await p.getByRole('option', { name: 'web:2', exact: true }).waitFor({ state: 'attached', timeout: 15_000 });
      expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(options.viewport.width);
      await checkPage(`create-service-${name}`, p);
      await other.close();
    }
  });

  it("shows a read-only IAM user the pages and refuses its scale with the API's own error: no back door", async () => {
    const key = await createReadOnlyUser(base, cluster.server.keys);
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await other.newPage();
    await p.goto(`${base}/console/clusters/default/services/web`);
    await p.getByLabel('Access key ID').fill(key.accessKeyId);
    await p.getByLabel('Secret access key').fill(key.secretAccessKey);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => p.getByTestId('desired').textContent(), { timeout: 15_000 }).toBe('2');
    await p.getByLabel('Desired count').fill('5');
    await p.getByRole('button', { name: 'Scale' }).click();
    await expect.poll(() => p.getByRole('alert').first().textContent(), { timeout: 15_000 }).toMatch(/^AccessDeniedException: .*ecs:UpdateService/);
    await checkPage('service-refused', p);
    const { services } = await cluster.ecs.send(new DescribeServicesCommand({ services: ['web'] }));
    expect(services![0]!.desiredCount).toBe(2);
    await other.close();
  });

  it('drains the container instance and makes it active again', async () => {
    await page.goto(`${base}/console/clusters/default`);
    await page.locator('.card h3 a').first().click();
    await expect.poll(() => page.getByTestId('instance-status').textContent(), { timeout: 15_000 }).toBe('ACTIVE');
    await page.getByRole('button', { name: 'Drain' }).click();
    await expect.poll(() => page.getByTestId('instance-status').textContent(), { timeout: 15_000 }).toBe('DRAINING');
    await checkPage('container-instance-draining');
    await page.getByRole('button', { name: 'Activate' }).click();
    await expect.poll(() => page.getByTestId('instance-status').textContent(), { timeout: 15_000 }).toBe('ACTIVE');
  });
  it("shows the service's CPU and memory charts, load balancer targets and auto scaling, and the cluster's capacity providers", async () => {
    await page.goto(`${base}/console/clusters/default/services/web`);
    // The charts: AWS/ECS points from GetMetricData (a point a minute, written a few seconds after the minute ends).
    await expect.poll(async () => Number(await page.getByTestId('chart-cpu').getAttribute('data-points').catch(() => '0')), { timeout: 150_000, interval: 1_000 }).toBeGreaterThan(0);
    await expect.poll(async () => Number(await page.getByTestId('chart-memory').getAttribute('data-points').catch(() => '0')), { timeout: 30_000, interval: 1_000 }).toBeGreaterThan(0);
    expect(await page.getByRole('img', { name: /^CPU utilization over the last 60 minutes: latest [\d.]+ %, peak [\d.]+ %$/ }).count()).toBe(1);
    expect(await page.locator('#targets').textContent()).toContain('The service is not behind a load balancer.');
    // Auto scaling: a scalable target whose minimum is above the desired count raises it, as an activity; a policy.
    const aas = new ApplicationAutoScalingClient({ endpoint: base, region: 'us-east-1', credentials: { ...cluster.server.keys } });
    const scalable = { ServiceNamespace: 'ecs' as const, ResourceId: 'service/default/web', ScalableDimension: 'ecs:service:DesiredCount' as const };
    try {
      await aas.send(new RegisterScalableTargetCommand({ ...scalable, MinCapacity: 3, MaxCapacity: 4 }));
      await aas.send(
        new PutScalingPolicyCommand({
          ...scalable,
          PolicyName: 'cpu-90',
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingScalingPolicyConfiguration: { TargetValue: 90, DisableScaleIn: true, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } },
        }),
      );
      await expect.poll(() => page.getByTestId('scaling-min').textContent().catch(() => ''), { timeout: 15_000 }).toBe('3');
      await expect.poll(() => page.locator('#scaling').textContent(), { timeout: 15_000 }).toContain('keep ECSServiceAverageCPUUtilization at 90 (no scale-in)');
      expect(await page.locator('#scaling').textContent()).toContain('Setting desired count to 3.');
      await expect.poll(() => page.getByTestId('desired').textContent(), { timeout: 15_000 }).toBe('3');
      await checkPage('service-metrics-scaling');
    } finally {
      await aas.send(new DeregisterScalableTargetCommand(scalable)).catch(() => {});
      aas.destroy();
    }
    // Another service behind the load balancer: its task's target (the instance and its dynamic host port) with its
    // health, initial while no data plane has checked it.
    await cluster.ecs.send(new CreateServiceCommand({ serviceName: 'api', taskDefinition: 'web', desiredCount: 1, launchType: 'EC2', loadBalancers: [{ targetGroupArn, containerName: 'app', containerPort: 8080 }] }));
    try {
      await page.goto(`${base}/console/clusters/default/services/api`);
      const target = page.locator('#targets [data-target-state="initial"]');
      await expect.poll(() => target.count(), { timeout: 60_000, interval: 500 }).toBe(1);
      expect(await target.textContent()).toMatch(/^api.*\d+.*INITIAL.*Elb\.RegistrationInProgress/);
      await checkPage('service-targets');
    } finally {
      await scaleServiceToZero(cluster.ecs, 'api');
    }
    // Deleted from its page, after the confirmation: back on the cluster page, the service DRAINING or gone.
    await page.getByRole('button', { name: 'Delete service…' }).click();
    await page.getByRole('group', { name: 'Confirm deleting the service' }).getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => page.url(), { timeout: 15_000 }).toBe(`${base}/console/clusters/default`);
    const { services: deleted } = await cluster.ecs.send(new DescribeServicesCommand({ services: ['api'] }));
    expect(['DRAINING', 'INACTIVE']).toContain(deleted![0]!.status);
    // The cluster's capacity providers: FARGATE added, outside the default strategy.
    await cluster.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'default', capacityProviders: ['FARGATE'], defaultCapacityProviderStrategy: [] }));
    await page.goto(`${base}/console/clusters/default`);
    const fargate = page.locator('[data-capacity-provider="FARGATE"]');
    await expect.poll(() => fargate.textContent().catch(() => ''), { timeout: 15_000 }).toMatch(/^FARGATE.*ACTIVE.*Fargate.*not in it/);
    await checkPage('cluster-capacity-providers');
    // A forced new deployment of the same revision: a new PRIMARY deployment that completes.
    await page.goto(`${base}/console/clusters/default/services/web`);
    const primary = page.locator('[data-deployment-status="PRIMARY"] th');
    const before = (await primary.textContent({ timeout: 15_000 }))!.trim();
    await page.getByRole('button', { name: 'Force new deployment' }).click();
    await page.getByRole('status').filter({ hasText: 'A new deployment was started.' }).waitFor({ timeout: 15_000 });
    await expect.poll(async () => (await primary.textContent())!.trim(), { timeout: 15_000 }).not.toBe(before);
    await expect.poll(() => page.locator('[data-deployment-status="PRIMARY"]').textContent(), { timeout: 120_000, interval: 500 }).toMatch(/web:2.*COMPLETED/);
  }, 420_000);
});
