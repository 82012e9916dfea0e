import { describe, expect, it } from 'vitest';
import { logFormatFor, textLine } from './log-output.js';

describe('log lines for people', () => {
  it('chooses text on a terminal and JSON through a pipe unless --log-format says', () => {
    expect(logFormatFor(undefined, { isTTY: true })).toBe('text');
    expect(logFormatFor(undefined, {})).toBe('json');
    expect(logFormatFor('json', { isTTY: true })).toBe('json');
    expect(logFormatFor('text', {})).toBe('text');
  });

  it('lays a pino line out as time, level, part, message and the other fields', () => {
    const line = JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 1, 12, 3, 4, 512), pid: 1, hostname: 'h', part: 'server', msg: 'listening', url: 'http://127.0.0.1:7400', n: 3, note: 'two words' });
    expect(textLine(line, false)).toBe('12:03:04.512 INFO  server listening url=http://127.0.0.1:7400 n=3 note="two words"\n');
    expect(textLine(line, true)).toBe('\x1b[2m12:03:04.512\x1b[0m \x1b[32mINFO \x1b[0m \x1b[36mserver\x1b[0m listening \x1b[2murl=\x1b[0mhttp://127.0.0.1:7400 \x1b[2mn=\x1b[0m3 \x1b[2mnote=\x1b[0m"two words"\n');
  });

  it('puts an error stack under its line, indented, and passes a line that is not JSON through', () => {
    const line = JSON.stringify({ level: 50, time: 0, msg: 'failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' }, task: { id: 'a' } });
    expect(textLine(line, false)).toBe('00:00:00.000 ERROR failed task={"id":"a"}\n    Error: boom\n        at x\n');
    expect(textLine('plain', false)).toBe('plain\n');
  });
});
