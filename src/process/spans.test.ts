import { describe, expect, it } from 'vitest';
import { SPANS_MESSAGE, StartSpans } from './spans.js';

/** A logger that keeps debug lines, at a level tests choose. */
function fakeLog(debug = true) {
  const lines: { obj: unknown; msg: string }[] = [];
  return { lines, log: { isLevelEnabled: () => debug, debug: (obj: object, msg: string) => void lines.push({ obj, msg }) } };
}

/** A clock tests move by hand. */
function manualClock(start = 1_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('StartSpans', () => {
  it('logs the spans of a task as one debug line when its start is over, then forgets them', async () => {
    const { lines, log } = fakeLog();
    const clock = manualClock();
    const spans = new StartSpans(log, clock.now);
    spans.begin('t1', 'received');
    clock.advance(2);
    const started = spans.now();
    clock.advance(5);
    spans.end('t1', 'rootfs', started);
    await spans.time('t1', 'create', async () => clock.advance(30));
    spans.add('t1', 'earlier', 900, 950);
    spans.flush('t1');
    expect(lines).toEqual([
      {
        msg: SPANS_MESSAGE,
        obj: {
          task: 't1',
          spans: [
            { name: 'received', at: 1000, ms: 0 },
            { name: 'rootfs', at: 1002, ms: 5 },
            { name: 'create', at: 1007, ms: 30 },
            { name: 'earlier', at: 900, ms: 50 },
          ],
        },
      },
    ]);
    expect(spans.size).toBe(0);
    spans.flush('t1');
    expect(lines).toHaveLength(1);
  });

  it('records a failed step too, and passes its error on', async () => {
    const { lines, log } = fakeLog();
    const clock = manualClock();
    const spans = new StartSpans(log, clock.now);
    spans.begin('t1', 'received');
    await expect(
      spans.time('t1', 'pull', async () => {
        clock.advance(4);
        throw new Error('no such image');
      }),
    ).rejects.toThrow('no such image');
    spans.flush('t1');
    expect((lines[0]!.obj as { spans: unknown[] }).spans).toContainEqual({ name: 'pull', at: 1000, ms: 4 });
  });

  it('records nothing for a task whose start it did not see begin, nor when debug logging is off', async () => {
    const { lines, log } = fakeLog(false);
    const spans = new StartSpans(log, manualClock().now);
    spans.begin('t1', 'received');
    expect(spans.size).toBe(0);
    const on = fakeLog(true);
    const spans2 = new StartSpans(on.log, manualClock().now);
    spans2.mark('stopping', 'x');
    expect(await spans2.time('stopping', 'y', async () => 7)).toBe(7);
    spans2.flush('stopping');
    expect(spans2.size).toBe(0);
    expect([...lines, ...on.lines]).toEqual([]);
  });

  it('keeps at most maxTasks starts open, dropping the oldest unlogged', () => {
    const { lines, log } = fakeLog();
    const spans = new StartSpans(log, manualClock().now, 2);
    spans.begin('a', 'received');
    spans.begin('b', 'received');
    spans.begin('c', 'received');
    expect(spans.size).toBe(2);
    spans.flush('a');
    spans.flush('b');
    spans.flush('c');
    expect(lines.map((l) => (l.obj as { task: string }).task)).toEqual(['b', 'c']);
  });
});
