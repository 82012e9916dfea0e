import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AGENT_V8_FLAGS } from './agent-command.js';

describe('the V8 flags `berth agent` sets for itself', () => {
  // v8.setFlagsFromString ignores a flag V8 does not know without a word: a Node upgrade that renamed one
  // would silently give the agent back its footprint. On the command line an unknown flag is an error.
  it('are all flags this node knows', () => {
    const run = spawnSync(process.execPath, [...AGENT_V8_FLAGS.split(' '), '-e', '0'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('turn TurboFan off once set at run time', () => {
    // %GetOptimizationStatus's bit 0x10: the function runs optimized code; %OptimizeFunctionOnNextCall asks for it.
    const optimized = (setFlags: boolean) => {
      const script = `${setFlags ? `require('node:v8').setFlagsFromString(${JSON.stringify(AGENT_V8_FLAGS)});` : ''}
        const f = (x) => x + 1; %PrepareFunctionForOptimization(f); f(1); f(2); %OptimizeFunctionOnNextCall(f); f(3);
        process.stdout.write(String((%GetOptimizationStatus(f) & 0x10) !== 0));`;
      const run = spawnSync(process.execPath, ['--allow-natives-syntax', '-e', script], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      return run.stdout;
    };
    expect(optimized(false)).toBe('true');
    expect(optimized(true)).toBe('false');
  });
});
