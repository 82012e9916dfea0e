import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bashScript, completionModel, zshScript } from './completion.js';
import { program } from './program.js';

/** What bash's completion function offers for the words typed so far (the last one being completed). */
function complete(script: string, typed: string[]): string[] {
  const words = typed.map((w) => `'${w}'`).join(' ');
  const out = execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${typed.length - 1}; _berth; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8', cwd: '/' });
  return out.split('\n').filter((l) => l !== '');
}

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

  it('zsh gets the same function through bashcompinit', () => {
    const zsh = zshScript(program());
    expect(zsh).toMatch(/^# berth completion for zsh/);
    expect(zsh).toContain('bashcompinit');
    expect(zsh).toContain('complete -o filenames -F _berth berth');
  });
});
