import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bashScript, completionModel, zshScript } from './completion.js';
import { program } from './program.js';

/** What bash's completion function offers for the words typed so far (the last one being completed). */
function complete(script: string, typed: string[]): string[] {
  const words = typed.map((w, i) => (i === 0 && w === 'berth' ? `'${stub}'` : `'${w}'`)).join(' ');
  const out = execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${typed.length - 1}; _berth; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8', cwd: '/' });
  return out.split('\n').filter((l) => l !== '');
}

/**
 * A stand-in for the `berth` the scripts call back (`berth __complete KIND [flags]`): it records its arguments and
 * answers fixed names, as the real command answers the server's (e2e cli-completion tests the real one).
 */
const dir = mkdtempSync(join(tmpdir(), 'berth-completion-'));
const stub = join(dir, 'berth');
writeFileSync(stub, `#!/bin/sh\necho "$*" >> ${dir}/calls\ncase "$2" in services) printf 'web\\nworker\\napi\\n';; tasks) printf 'abc123\\nabd456\\n';; esac\n`);
chmodSync(stub, 0o755);
const calls = () => {
  if (!existsSync(join(dir, 'calls'))) return [];
  const lines = readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter((l) => l !== '');
  rmSync(join(dir, 'calls'), { force: true });
  return lines;
};

/** zsh reads this: it waits until what the terminal showed matches $1 (10 s at most), else fails. */
const ZSH_EXPECT = String.raw`expect() {
  local line i
  for ((i = 0; i < 200; i++)); do
    while zpty -r -t z line; do out+=$line; done
    [[ $out == $~1 ]] && return 0
    zselect -t 5
  done
  print -r -- "TIMEOUT waiting for $1: $out"; exit 1
}`;

/**
 * The command line an interactive zsh has after `typed` and a Tab, with the zsh script sourced: a real zsh
 * (compinit, bashcompinit, its line editor) on a pseudo-terminal of zsh's own zpty module, `berth` being the stub
 * above. The line is read back by going to its start (Ctrl-A, emacs keys) and making it `print -r -- LINE:<the line>`.
 */
function zshTab(script: string, typed: string): string {
  const file = join(dir, 'berth.zsh');
  writeFileSync(file, script);
  const driver = [
    // zselect waits without a child process (an external sleep hangs under the test runner).
    'zmodload zsh/zpty zsh/zselect',
    ZSH_EXPECT,
    `zpty z 'PATH=${dir}:$PATH HOME=${dir} TERM=xterm zsh -f -i'`,
    `zpty -w z 'PS1="%% "; source ${file}; bindkey -e; print RE""ADY'`,
    "out=''; expect '*READY*'",
    `zpty -w -n z '${typed}'$'\\t'`,
    // The Tab's completion (and the stub it calls) done, the line is turned into a command that prints it.
    'zselect -t 100',
    String.raw`zpty -w -n z $'\x01'; zpty -w z 'print -r -- LINE:'`,
    // The typed LINE: is drawn a character at a time; the printed one is whole, at the start of a line.
    String.raw`out=''; expect '*'$'\n''LINE:*'$'\n''*'`,
    'print -r -- "$out"',
    'zpty -d z',
  ].join('\n');
  const out = execFileSync('zsh', ['-f', '-c', driver], { encoding: 'utf8', timeout: 30_000 });
  // The output of that print: the last LINE: on a line of its own.
  const plain = out.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').replace(/\r/g, '');
  const printed = plain.split('\n').filter((l) => l.startsWith('LINE:'));
  return printed.length ? printed[printed.length - 1]!.slice('LINE:'.length).trim() : `(no line printed) ${plain}`;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shell completion', () => {
  const script = bashScript(program());

  it('is made from the commands and options the program defines', () => {
    const model = completionModel(program());
    expect(model.map((c) => c.name)).toEqual(expect.arrayContaining(['up', 'server', 'agent', 'lb', 'ps', 'services', 'scale', 'deploy', 'push', 'logs', 'completion']));
    const deploy = model.find((c) => c.name === 'deploy')!;
    expect(deploy.flags).toEqual(expect.arrayContaining(['--image', '--container', '--cluster', '--endpoint', '--output', '-o', '--help']));
    expect(deploy.choices).toMatchObject({ '--output': ['table', 'json'], '-o': ['table', 'json'] });
    expect(model.find((c) => c.name === 'server')!.choices['--log-format']).toEqual(['json', 'text']);
  });

  it('bash completes a subcommand, its options and their values', () => {
    expect(complete(script, ['berth', 'dep'])).toEqual(['deploy']);
    expect(complete(script, ['berth', 's'])).toEqual(['server', 'storage', 'services', 'scale']);
    expect(complete(script, ['berth', 'deploy', 'web', '--ima'])).toEqual(['--image']);
    expect(complete(script, ['berth', 'ps', '-o', ''])).toEqual(['table', 'json']);
    expect(complete(script, ['berth', 'agent', '--log-format', 't'])).toEqual(['text']);
    expect(complete(script, ['berth', 'push', '/et'])).toEqual(['/etc']);
  });

  it('bash completes service names and task ids from the server for the commands that take them', () => {
    calls();
    expect(complete(script, ['berth', 'scale', 'w'])).toEqual(['web', 'worker']);
    expect(calls()).toEqual(['__complete services']);
    expect(complete(script, ['berth', 'deploy', '--cluster', 'prod', '--endpoint', 'http://h:1', ''])).toEqual(['web', 'worker', 'api']);
    expect(calls()).toEqual(['__complete services --cluster prod --endpoint http://h:1']);
    expect(complete(script, ['berth', 'exec', 'ab'])).toEqual(['abc123', 'abd456']);
    expect(complete(script, ['berth', 'logs', '-o', 'json', 'abc'])).toEqual(['abc123']);
    expect(calls()).toEqual(['__complete tasks', '__complete tasks']);
    // Not the first argument, a flag's value, or a command without names: the server is not asked.
    expect(complete(script, ['berth', 'scale', 'web', '/et'])).toEqual(['/etc']);
    expect(complete(script, ['berth', 'exec', '--cluster', ''])).not.toContain('abc123');
    expect(complete(script, ['berth', 'push', '/et'])).toEqual(['/etc']);
    expect(calls()).toEqual([]);
  });

  it('zsh completes commands and names through the real line editor', () => {
    const zsh = zshScript(program());
    expect(zshTab(zsh, 'berth dep')).toBe('berth deploy');
    expect(zshTab(zsh, 'berth scale wo')).toBe('berth scale worker');
    expect(calls()).toContain('__complete services');
    expect(zshTab(zsh, 'berth exec --cluster prod abc')).toBe('berth exec --cluster prod abc123');
    expect(calls()).toContain('__complete tasks --cluster prod');
  }, 30_000);

  it('zsh gets the same function through bashcompinit', () => {
    const zsh = zshScript(program());
    expect(zsh).toMatch(/^# berth completion for zsh/);
    expect(zsh).toContain('bashcompinit');
    expect(zsh).toContain('complete -o filenames -F _berth berth');
  });
});
