import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { CRASH_EXIT_CODE, installProcessPolicy } from './policy.js';

// The child runs the real module: policy.ts has no runtime imports, so stripping its types is enough.
const dir = mkdtempSync(join(tmpdir(), 'berth-policy-'));
writeFileSync(
  join(dir, 'policy.mjs'),
  ts.transpileModule(readFileSync(new URL('./policy.ts', import.meta.url), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run a child that installs the policy (logging JSON lines to stderr), then does `body`. */
function child(body: string) {
  const script = `
    import { installProcessPolicy } from './policy.mjs';
    const log = { fatal: (context, message) => process.stderr.write(JSON.stringify({ message, kind: context.kind, error: String(context.err) }) + '\\n') };
    installProcessPolicy({ log });
    ${body}
  `;
  writeFileSync(join(dir, 'child.mjs'), script);
  const out = spawnSync(process.execPath, [join(dir, 'child.mjs')], { encoding: 'utf8', timeout: 10_000 });
  return { status: out.status, stderr: out.stderr, stdout: out.stdout };
}

describe('process policy', () => {
  it('a rejection nobody handles is logged and the process exits non-zero on purpose', () => {
    const out = child(`
      Promise.reject(new Error('lost in the background'));
      setTimeout(() => process.stdout.write('still running\\n'), 200);
    `);
    expect(out.status).toBe(CRASH_EXIT_CODE);
    expect(out.stdout).not.toContain('still running');
    const line = JSON.parse(out.stderr.trim().split('\n').at(-1)!);
    expect(line).toMatchObject({ kind: 'unhandled promise rejection', error: 'Error: lost in the background' });
    expect(line.message).toContain('supervisor restarts');
  });

  it('an uncaught exception is logged and the process exits non-zero', () => {
    const out = child(`setTimeout(() => { throw new Error('escaped a timer'); }, 1);`);
    expect(out.status).toBe(CRASH_EXIT_CODE);
    expect(JSON.parse(out.stderr.trim())).toMatchObject({ kind: 'uncaught exception', error: 'Error: escaped a timer' });
  });

  it('a process without such errors exits normally', () => {
    const out = child(`Promise.reject(new Error('handled')).catch(() => {}); setTimeout(() => {}, 10);`);
    expect(out.status).toBe(0);
    expect(out.stderr).toBe('');
  });

  it('logs and exits once, and can be removed', () => {
    const handlers = new Map<string, (x: unknown) => void>();
    const exits: number[] = [];
    const logged: string[] = [];
    const proc = {
      on: (event: string, fn: (x: unknown) => void) => handlers.set(event, fn),
      off: (event: string) => handlers.delete(event),
      exit: (code: number) => exits.push(code),
    } as unknown as NodeJS.Process;
    const remove = installProcessPolicy({ log: { fatal: (_c, m) => logged.push(m) }, process: proc });
    handlers.get('unhandledRejection')!(new Error('a'));
    handlers.get('uncaughtException')!(new Error('b'));
    expect(exits).toEqual([CRASH_EXIT_CODE]);
    expect(logged).toHaveLength(1);
    remove();
    expect(handlers.size).toBe(0);
  });
});
