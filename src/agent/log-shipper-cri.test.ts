import { describe, expect, it } from 'vitest';
import { CriAssembler, isAfter, utf8Prefix, type CriEvent } from './log-shipper-cri.js';

const T = '2026-01-15T10:00:00.123456789Z';
const MS = Date.parse(T);
const cri = (stream: 'stdout' | 'stderr', tag: 'F' | 'P', text: string, ts = T) => `${ts} ${stream} ${tag} ${text}\n`;
const assemble = (text: string, maxBytes?: number) => {
  const a = new CriAssembler(0, () => 0, maxBytes);
  return [...a.push(Buffer.from(text)), ...a.end()];
};
const simple = (events: CriEvent[]) => events.map((e) => [e.stream, e.message]);

describe('CRI log assembly', () => {
  it('reads full lines of both streams with their timestamps', () => {
    const events = assemble(cri('stdout', 'F', 'hello') + cri('stderr', 'F', 'oops', '2026-01-15T11:00:00.5+01:00'));
    expect(simple(events)).toEqual([['stdout', 'hello'], ['stderr', 'oops']]);
    expect(events.map((e) => e.timestamp)).toEqual([MS, MS - 123 + 500]);
  });

  it('joins partial lines per stream, even interleaved, stamped with their first part', () => {
    const text =
      cri('stdout', 'P', 'hel', '2026-01-15T10:00:00.000Z') +
      cri('stderr', 'P', 'err') +
      cri('stdout', 'P', 'lo ') +
      cri('stderr', 'F', 'or') +
      cri('stdout', 'F', 'world');
    const events = assemble(text);
    expect(simple(events)).toEqual([['stderr', 'error'], ['stdout', 'hello world']]);
    expect(events[1]!.timestamp).toBe(Date.parse('2026-01-15T10:00:00.000Z'));
  });

  it('gives the same events however the bytes are chunked', () => {
    const text = cri('stdout', 'P', 'ä') + cri('stdout', 'F', 'ö€') + cri('stderr', 'F', 'x y z') + cri('stdout', 'F', '');
    const whole = assemble(text);
    const a = new CriAssembler(0);
    const bytes = Buffer.from(text);
    const bytewise = [...Array.from(bytes, (b) => a.push(Buffer.from([b]))).flat(), ...a.end()];
    expect(bytewise).toEqual(whole);
    expect(simple(whole)).toEqual([['stdout', 'äö€'], ['stderr', 'x y z']]);
  });

  it('skips empty lines and keeps text that is not CRI as stdout lines', () => {
    expect(simple(assemble(`${cri('stdout', 'F', '')}not a cri line\n${cri('stdout', 'F', 'ok')}`))).toEqual([
      ['stdout', 'not a cri line'],
      ['stdout', 'ok'],
    ]);
  });

  it('ends an unterminated last line and open partials when the file is complete', () => {
    const a = new CriAssembler(0);
    expect(a.push(Buffer.from(`${cri('stderr', 'P', 'half')}${T} stdout F no newline`))).toEqual([]);
    expect(simple(a.end())).toEqual([['stdout', 'no newline'], ['stderr', 'half']]);
  });

  it('places what end() flushes after the last line’s events, even when they were already delivered', () => {
    // conmon read stdout's unterminated text before stderr's line: the stderr event ends the file.
    const a = new CriAssembler(0);
    const [last] = a.push(Buffer.from(cri('stdout', 'F', 'hello') + cri('stdout', 'P', 'no newline') + cri('stderr', 'F', 'oops'))).slice(-1);
    expect(last!.message).toBe('oops');
    const [flushed] = a.end();
    expect(flushed!.message).toBe('no newline');
    expect(isAfter(flushed!, last)).toBe(true);
  });

  it('splits lines longer than an event at character boundaries', () => {
    const line = 'aé€😀'.repeat(50); // 1 + 2 + 3 + 4 bytes, 500 in all
    const events = assemble(cri('stdout', 'P', line.slice(0, 101)) + cri('stdout', 'F', line.slice(101)), 64);
    expect(events.every((e) => Buffer.byteLength(e.message) <= 64)).toBe(true);
    expect(events.map((e) => e.message).join('')).toBe(line);
    expect(events.some((e) => e.message.includes('\uFFFD'))).toBe(false);
    expect(events.length).toBeGreaterThanOrEqual(8);
  });

  it('cuts prefixes without breaking characters, and counts replacement characters for invalid bytes', () => {
    expect(utf8Prefix(Buffer.from('a€b'), 3)).toEqual({ message: 'a', used: 1 });
    expect(utf8Prefix(Buffer.from('a€b'), 4)).toEqual({ message: 'a€', used: 4 });
    const invalid = Buffer.from([0xff, 0xff, 0xff, 0x41]);
    const { message } = utf8Prefix(invalid, 4);
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(4);
  });

  it('restarts from any saved event without losing or repeating one', () => {
    // A pseudo-random file: both streams, partial lines, multi-byte text, long lines.
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    let text = '';
    for (let i = 0; i < 300; i++) {
      const stream = rand(2) ? 'stdout' : 'stderr';
      const tag = rand(3) ? 'F' : 'P';
      text += cri(stream, tag, `${i}:${'xé€'.repeat(rand(20))}`, new Date(MS + i).toISOString());
    }
    // Open partials on both streams at the end, then an unterminated line: end() has work to do.
    text += cri('stdout', 'P', 'open out') + cri('stderr', 'P', 'open err') + `${T} stdout P unterminated`;
    const bytes = Buffer.from(text);
    const all = assemble(text, 40);
    expect(all.length).toBeGreaterThan(200);
    // Every event has its own place in the file, in order.
    all.slice(1).forEach((e, i) => expect(isAfter(e, all[i])).toBe(true));
    for (let k = 0; k < all.length; k += 3) {
      const saved = all[k]!;
      const a = new CriAssembler(saved.resume, () => 0, 40);
      const again = [...a.push(bytes.subarray(saved.resume)), ...a.end()].filter((e) => isAfter(e, saved));
      expect(again, `restart after event ${k}`).toEqual(all.slice(k + 1));
    }
  });
});
