/**
 * ECS Exec's terminal in the web console, in a real browser: Debian's chromium (headless, playwright-core) against the
 * built `berth server` and a real agent running a busybox container started with enableExecuteCommand. The terminal's
 * code (xterm.js) is fetched only when a terminal is opened; the terminal opens from the keyboard, a shell runs in it
 * (`stty size` shows the terminal's size, and a new one after the page is resized), a command's output and its exit
 * code are shown, Ctrl+] leaves the terminal, and a session is closed when its task stops. Screenshots and axe-core
 * as in console.test.ts.
 */
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConsolePage, launchChromium, signIn } from './support/console-browser.js';
import { startTestCluster, type TestCluster } from './support/cluster.js';
import { createReadOnlyUser } from './support/read-only-user.js';

const isRoot = process.getuid?.() === 0;

describe.runIf(isRoot)('the console\'s ECS Exec terminal in a browser', () => {
  let cluster: TestCluster;
  let browser: Browser;
  let page: Page;
  let base = '';
  let taskId = '';
  /** Scripts the page fetched: path and gzip bytes as received. */
  const scripts: { path: string; bytes: Promise<number> }[] = [];
  /** What the browser said about the page's Content-Security-Policy (xterm.js's style elements need its style-src-elem). */
  const cspComplaints: string[] = [];

  const terminal = () => page.getByTestId('terminal-app');
  const status = () => page.getByTestId('exec-app-status');
  /** The terminal's rows as text (xterm.js draws each row as a div; spaces may be no-break spaces). */
  const rows = async () => (await terminal().locator('.xterm-rows > div').allTextContents()).map((r) => r.replace(/\u00a0/g, ' ').trimEnd());
  /** Wait (with a deadline) for a row matching `line`; the rows are in the failure's message. */
  const waitForRow = async (line: RegExp, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await rows();
      if (now.some((r) => line.test(r))) return;
      if (Date.now() > deadline) throw new Error(`no row matching ${line} within ${timeoutMs} ms; the terminal shows:\n${now.join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const size = async () => ({ cols: Number(await terminal().getAttribute('data-cols')), rows: Number(await terminal().getAttribute('data-rows')) });
  const openTerminal = async () => {
    // From the keyboard: focus the button (Tab order: the command, then the button) and press Enter.
    await page.getByLabel('Command').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent)).toBe('Open terminal (app)');
    await page.keyboard.press('Enter');
    await expect.poll(() => status().textContent(), { timeout: 20_000 }).toBe('Connected.');
    await waitForRow(/ #$/, 40_000); // busybox sh's prompt, "/ # " (rows are trimmed)
  };

  beforeAll(async () => {
    cluster = await startTestCluster();
    await cluster.startAgent();
    base = cluster.server.url;
    const taskArn = await cluster.runOneOff([{ name: 'app', command: ['sleep', '3600'] }], { family: 'exec' }, { enableExecuteCommand: true });
    taskId = taskArn.split('/').at(-1)!;
    await cluster.waitForTask(taskArn, (t) => t.lastStatus === 'RUNNING');
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' })).newPage();
    page.on('response', (r) => {
      if (r.request().resourceType() === 'script') scripts.push({ path: new URL(r.url()).pathname, bytes: r.request().sizes().then((z) => z.responseBodySize) });
    });
    page.on('console', (m) => /Content Security Policy/i.test(m.text()) && cspComplaints.push(m.text()));
    await signIn(page, base, cluster.server.keys);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  }, 120_000);

  it('loads the terminal only when opened; runs a shell with the terminal\'s size, resized with the page; shows the exit code', async () => {
    await page.goto(`${base}/console/clusters/default/tasks/${taskId}`);
    await expect.poll(() => page.getByTestId('last-status').textContent(), { timeout: 15_000 }).toBe('RUNNING');
    await page.getByRole('button', { name: 'Open terminal (app)' }).waitFor();
    expect(await page.getByLabel('Command').inputValue()).toBe('/bin/sh');
    expect(scripts.filter((s) => s.path.includes('exec-terminal'))).toEqual([]);
    await checkConsolePage(page, 'task-exec');

    await openTerminal();
    const terminalChunks = scripts.filter((s) => s.path.includes('exec-terminal'));
    expect(terminalChunks).toHaveLength(1);
    const gzip = await terminalChunks[0]!.bytes;
    console.log(`console: the terminal's chunk ${terminalChunks[0]!.path} is ${(gzip / 1024).toFixed(1)} kB as received (gzip), fetched only when a terminal opens`);

    // The shell's terminal is the size xterm.js fitted to the box.
    const first = await size();
    expect(first.cols).toBeGreaterThan(20);
    await page.keyboard.type('stty size');
    await page.keyboard.press('Enter');
    await waitForRow(new RegExp(`^${first.rows} ${first.cols}$`));
    await checkConsolePage(page, 'exec-terminal');

    // A phone's width: the box narrows, xterm.js refits, a resize goes to the session.
    await page.setViewportSize({ width: 390, height: 800 });
    await expect.poll(async () => (await size()).cols, { timeout: 10_000 }).toBeLessThan(first.cols);
    const second = await size();
    await page.keyboard.type('clear; stty size');
    await page.keyboard.press('Enter');
    await waitForRow(new RegExp(`^${second.rows} ${second.cols}$`));
    await checkConsolePage(page, 'exec-terminal-phone');

    // Ctrl+] leaves the terminal (Tab stays the shell's): focus goes to the Close button.
    await page.keyboard.press('Control+BracketRight');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent)).toBe('Close terminal (app)');

    await terminal().click();
    await page.keyboard.type('echo $((6*7)); exit 3');
    await page.keyboard.press('Enter');
    await waitForRow(/^42$/);
    await expect.poll(() => status().getAttribute('data-exit-code'), { timeout: 15_000 }).toBe('3');
    expect(await status().textContent()).toBe('The session ended: exit code 3.');
    expect(cspComplaints).toEqual([]);
    await checkConsolePage(page, 'exec-terminal-ended');
  }, 240_000);

  it("refuses a user without ecs:ExecuteCommand with the API's own error where the terminal would be (dark, for axe)", async () => {
    const viewer = await createReadOnlyUser(base, cluster.server.keys);
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
    try {
      const p = await other.newPage();
      await signIn(p, base, viewer);
      await p.goto(`${base}/console/clusters/default/tasks/${taskId}`);
      await p.getByRole('button', { name: 'Open terminal (app)' }).click();
      await expect.poll(() => p.getByTestId('exec-app-status').textContent(), { timeout: 20_000 }).toMatch(/^Could not start the session: AccessDeniedException: .*ecs:ExecuteCommand/);
      expect(await p.getByTestId('exec-app-status').getAttribute('role')).toBe('alert');
      await checkConsolePage(p, 'exec-terminal-refused');
    } finally {
      await other.close();
    }
  }, 90_000);

  it('closes the session when the task stops', async () => {
    await page.getByRole('button', { name: 'Close terminal (app)' }).click();
    await openTerminal();
    await cluster.ecs.send(new StopTaskCommand({ cluster: 'default', task: taskId, reason: 'stopped by the exec test' }));
    await expect.poll(() => status().textContent(), { timeout: 30_000, interval: 250 }).toMatch(/^The session ended without an exit code: the task stopped/);
    expect(await status().getAttribute('role')).toBe('alert');
    await expect.poll(() => page.getByTestId('last-status').textContent(), { timeout: 30_000, interval: 500 }).toBe('STOPPED');
  }, 150_000);
});
