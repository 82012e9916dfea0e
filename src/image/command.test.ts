import { afterAll, describe, expect, it } from 'vitest';
import { directSpawn, SpawnHelper } from '../process/spawn-helper.js';
import { CommandError, runCommand } from './command.js';

const helper = SpawnHelper.start();
afterAll(() => helper.close());

// The same contract whichever way the process is started (mount and umount go through the agent's helper).
describe.each([
  ['execFile', undefined],
  ['a spawn helper', helper.spawn],
  ["Node's spawn as a SpawnFn", directSpawn],
] as const)('runCommand through %s', (_, spawn) => {
  const how = spawn ? { spawn } : {};

  it('resolves with stdout, in the working directory given', async () => {
    expect(await runCommand('/bin/sh', ['-c', 'pwd; echo "$0"', 'arg zero'], { cwd: '/tmp', ...how })).toBe('/tmp\narg zero\n');
  });

  it("rejects a non-zero exit with the tool's exit code and stderr", async () => {
    const error = await runCommand('/bin/sh', ['-c', 'echo "no such mount" >&2; exit 32'], how).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ exitCode: 32, stderr: 'no such mount\n', message: expect.stringContaining('no such mount') });
  });

  it('rejects a binary that is not there, naming it', async () => {
    const error = await runCommand('/nonexistent/mount', ['-a'], how).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as Error).message).toContain('/nonexistent/mount');
  });

  it('kills a command past its timeout', async () => {
    const error = await runCommand('/bin/sleep', ['30'], { timeoutMs: 200, ...how }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
  });
});
