/**
 * The web console's browser tests' shared parts: Debian's chromium started headless through playwright-core (failing
 * at once, naming the package, when it is missing), signing in with a key pair, and a page's check: a screenshot into
 * the test output directory and axe-core with no serious or critical violations.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { REPO_ROOT } from './berth-server.js';

// The browser global the function handed to page.evaluate uses (this program's types have no DOM).
declare const window: unknown;
declare const document: unknown;

const CHROMIUM = process.env.BERTH_CHROMIUM ?? '/usr/bin/chromium';
/** Where screenshots go: BERTH_TEST_OUTPUT_DIR, else test-results/console. */
export const CONSOLE_OUTPUT_DIR = process.env.BERTH_TEST_OUTPUT_DIR ?? join(REPO_ROOT, 'test-results', 'console');
const AXE_SOURCE = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is missing at ${CHROMIUM}: bash scripts/install.sh --test installs Debian's chromium`);
  mkdirSync(CONSOLE_OUTPUT_DIR, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** Open the console at `base` and sign in with the key pair; resolves once the clusters page lists a cluster. */
export async function signIn(page: Page, base: string, keys: { accessKeyId: string; secretAccessKey: string }): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel('Access key ID').fill(keys.accessKeyId);
  await page.getByLabel('Secret access key').fill(keys.secretAccessKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'default', exact: true }).waitFor({ timeout: 15_000 });
}

/** Screenshot the page into the output directory and check it with axe-core: no serious or critical violations. */
export async function checkConsolePage(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(CONSOLE_OUTPUT_DIR, `${name}.png`), fullPage: true });
  // Evaluated through the DevTools protocol, which the page's CSP (scripts from its origin only) does not govern.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as { axe: { run(ctx: unknown, o: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const lesser = violations.filter((v) => !serious.includes(v)).map((v) => `${v.id} (${v.impact})`);
  console.log(`axe ${name}: ${serious.length} serious/critical, ${lesser.length} other${lesser.length ? `: ${lesser.join(', ')}` : ''}`);
  expect(serious, `${name}: ${JSON.stringify(serious, null, 1)}`).toEqual([]);
}
