import { describe, expect, it } from 'vitest';
import { outputLines } from './exec-pipe.js';

describe('outputLines', () => {
  it('splits terminal output into log lines, without carriage returns or empty lines', () => {
    expect(outputLines('/ # ls\r\r\nbin  etc\r\n\r\n/ # ')).toEqual(['/ # ls', 'bin  etc', '/ # ']);
    expect(outputLines('')).toEqual([]);
  });

  it('cuts a line longer than a log event should be', () => {
    const lines = outputLines('x'.repeat(64 * 1024 * 2 + 1));
    expect(lines.map((l) => l.length)).toEqual([65536, 65536, 1]);
  });
});
