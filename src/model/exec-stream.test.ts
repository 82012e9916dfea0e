import { describe, expect, it } from 'vitest';
import { outputFrame, parseControl, parseOutputFrame, shellQuote, splitCommand, STDERR, STDOUT } from './exec-stream.js';

describe('splitCommand', () => {
  it('splits words as a shell splits a simple command, with quotes and escapes and no expansion', () => {
    expect(splitCommand('/bin/sh')).toEqual(['/bin/sh']);
    expect(splitCommand('  ls   -la /tmp ')).toEqual(['ls', '-la', '/tmp']);
    expect(splitCommand(`sh -c 'echo $HOME; exit 3'`)).toEqual(['sh', '-c', 'echo $HOME; exit 3']);
    expect(splitCommand(`echo "a \\"b\\" \\$c" d\\ e ''`)).toEqual(['echo', 'a "b" $c', 'd e', '']);
    expect(splitCommand('')).toEqual([]);
  });

  it('refuses an unterminated quote', () => {
    expect(() => splitCommand(`sh -c 'echo`)).toThrow('unterminated single quote');
    expect(() => splitCommand('echo "a')).toThrow('unterminated double quote');
  });

  it('reads back what shellQuote wrote, word for word', () => {
    const words = ['sh', '-c', `echo "it's" $x; exit 3`, '', 'a b', `'`, 'plain/path-1.0'];
    expect(splitCommand(words.map(shellQuote).join(' '))).toEqual(words);
    expect(shellQuote('plain/path-1.0')).toBe('plain/path-1.0');
  });
});

describe('control frames', () => {
  it('parses what each side sends and drops anything malformed', () => {
    expect(parseControl('{"type":"open","token":"t","tty":true,"cols":80,"rows":24}')).toEqual({ type: 'open', token: 't', tty: true, cols: 80, rows: 24 });
    expect(parseControl('{"type":"open","token":"t","cols":0,"rows":24}')).toEqual({ type: 'open', token: 't' });
    expect(parseControl('{"type":"resize","cols":120,"rows":40}')).toEqual({ type: 'resize', cols: 120, rows: 40 });
    expect(parseControl('{"type":"resize","cols":1.5,"rows":40}')).toBeUndefined();
    expect(parseControl('{"type":"exit","exitCode":3}')).toEqual({ type: 'exit', exitCode: 3 });
    expect(parseControl('{"type":"error","message":"m"}')).toEqual({ type: 'error', message: 'm' });
    expect(parseControl('{"type":"eof"}')).toEqual({ type: 'eof' });
    for (const bad of ['', 'nope', '[]', 'null', '{"type":"open"}', '{"type":"shutdown"}']) expect(parseControl(bad)).toBeUndefined();
  });

  it('carries output with its channel, in plain bytes (the browser has no Buffer), a Buffer read as a Buffer', () => {
    const frame = outputFrame(STDERR, Buffer.from('err'));
    expect(frame).toEqual(new Uint8Array([STDERR, 0x65, 0x72, 0x72]));
    expect(parseOutputFrame(frame)).toEqual({ channel: STDERR, data: new Uint8Array([0x65, 0x72, 0x72]) });
    const fromBuffer = parseOutputFrame(Buffer.from(frame));
    expect(Buffer.isBuffer(fromBuffer?.data) && fromBuffer.data.toString()).toBe('err');
    expect(parseOutputFrame(outputFrame(STDOUT, Buffer.alloc(0)))).toEqual({ channel: STDOUT, data: new Uint8Array(0) });
    expect(parseOutputFrame(Buffer.from([9, 1]))).toBeUndefined();
    expect(parseOutputFrame(Buffer.alloc(0))).toBeUndefined();
  });
});
