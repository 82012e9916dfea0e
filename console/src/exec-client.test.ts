import { describe, expect, it } from 'vitest';
import { ExecClient, streamUrlFor, type ExecEnd, type ExecSocket } from './exec-client.js';

/** A socket the test drives: what the client sent, and the server's side of the events. */
class FakeSocket implements ExecSocket {
  binaryType: BinaryType = 'blob';
  readyState = 0;
  sent: (string | Uint8Array)[] = [];
  closed = false;
  onopen: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  onclose: ((ev: CloseEvent) => unknown) | null = null;
  send(data: string | ArrayBufferLike | Uint8Array): void {
    this.sent.push(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer));
  }
  close(): void {
    this.closed = true;
    this.readyState = 3;
  }
  opened(): void {
    this.readyState = 1;
    this.onopen?.({} as Event);
  }
  message(data: string | ArrayBuffer): void {
    this.onmessage?.({ data } as MessageEvent);
  }
  serverClosed(): void {
    this.readyState = 3;
    this.onclose?.({} as CloseEvent);
  }
}

const bytes = (...b: number[]) => new Uint8Array(b).buffer;

function session() {
  const socket = new FakeSocket();
  const output: string[] = [];
  const ends: ExecEnd[] = [];
  const client = new ExecClient('ws://h/ecs-exec/s1', 'tok', { cols: 100, rows: 30 }, { output: (d) => output.push(new TextDecoder().decode(d)), ended: (e) => ends.push(e) }, (url) => {
    expect(url).toBe('ws://h/ecs-exec/s1');
    return socket;
  });
  return { socket, output, ends, client };
}

describe('ExecClient', () => {
  it('says open first with the token and the terminal size, then sends input as bytes and resizes as control frames', () => {
    const { socket, client } = session();
    expect(socket.binaryType).toBe('arraybuffer');
    client.input(new TextEncoder().encode('too early'));
    client.resize(90, 20);
    expect(socket.sent).toEqual([]);
    socket.opened();
    client.input(new TextEncoder().encode('ls\r'));
    client.resize(120, 40);
    expect(socket.sent).toEqual([JSON.stringify({ type: 'open', token: 'tok', tty: true, cols: 100, rows: 30 }), new TextEncoder().encode('ls\r'), JSON.stringify({ type: 'resize', cols: 120, rows: 40 })]);
  });

  it('writes output without its channel byte, ignores unknown frames, and ends with the exit code once closed', () => {
    const { socket, output, ends } = session();
    socket.opened();
    socket.message(bytes(1, 0x34, 0x32));
    socket.message(bytes(9, 0x78));
    socket.message('{"type":"nonsense"}');
    socket.message(JSON.stringify({ type: 'exit', exitCode: 3 }));
    expect(ends).toEqual([]);
    socket.serverClosed();
    expect(output).toEqual(['42']);
    expect(ends).toEqual([{ exitCode: 3 }]);
  });

  it('ends with the server\'s error, or the socket\'s failure, without an exit code; once', () => {
    const refused = session();
    refused.socket.opened();
    refused.socket.message(JSON.stringify({ type: 'error', message: 'the task stopped' }));
    refused.socket.serverClosed();
    refused.socket.serverClosed();
    expect(refused.ends).toEqual([{ error: 'the task stopped' }]);
    const broken = session();
    broken.socket.onerror?.({} as Event);
    broken.socket.serverClosed();
    expect(broken.ends).toEqual([{ error: 'the stream could not be opened or broke' }]);
  });

  it('closes from this side with the reason given, and sends nothing after', () => {
    const { socket, client, ends } = session();
    socket.opened();
    client.close('the task stopped: the session is closed');
    client.input(new Uint8Array([1]));
    expect(socket.closed).toBe(true);
    expect(socket.sent).toHaveLength(1);
    expect(ends).toEqual([{ error: 'the task stopped: the session is closed' }]);
  });

  it('opens wss from a page served over https', () => {
    expect(streamUrlFor('ws://h:8080/ecs-exec/x', 'https:')).toBe('wss://h:8080/ecs-exec/x');
    expect(streamUrlFor('ws://h:8080/ecs-exec/x', 'http:')).toBe('ws://h:8080/ecs-exec/x');
  });
});
