import { describe, expect, it } from 'vitest';
import { age, json, paint, shortArn, status, table, wantColour } from './render.js';

describe('output for people', () => {
  it('colours only a terminal, and never with NO_COLOR set to something or TERM=dumb', () => {
    expect(wantColour({ isTTY: true }, {})).toBe(true);
    expect(wantColour({ isTTY: false }, {})).toBe(false);
    expect(wantColour({}, {})).toBe(false);
    expect(wantColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantColour({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(wantColour({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });

  it('aligns columns by their visible width, colours included, with a bold header and no trailing spaces', () => {
    const p = paint(true);
    const out = table(['NAME', 'STATUS', 'AGE'], [['web', status('RUNNING', p), '5s'], ['a-longer-name', status('STOPPED', p), '']], p);
    const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain).toBe('NAME           STATUS   AGE\nweb            RUNNING  5s\na-longer-name  STOPPED\n');
    expect(out).toContain('\x1b[1mNAME');
    expect(out).toContain('\x1b[32mRUNNING\x1b[0m');
    expect(out).toContain('\x1b[2mSTOPPED\x1b[0m');
  });

  it('without colour prints plain text', () => {
    const p = paint(false);
    expect(table(['A', 'B'], [[status('PENDING', p), status('FAILED', p)]], p)).toBe('A        B\nPENDING  FAILED\n');
    expect(status(undefined, p)).toBe('-');
  });

  it('says ages as seconds, minutes, hours and days', () => {
    const now = 1_000_000_000;
    expect(age(now - 5_000, now)).toBe('5s');
    expect(age(now - 180_000, now)).toBe('3m');
    expect(age(now - 2 * 3_600_000 - 1, now)).toBe('2h');
    expect(age(now - 4 * 86_400_000, now)).toBe('4d');
    expect(age(undefined, now)).toBe('-');
    expect(age(now + 5_000, now)).toBe('0s');
  });

  it('shortens ARNs and writes JSON with ISO dates', () => {
    expect(shortArn('arn:aws:ecs:us-east-1:1:task/default/abc123')).toBe('abc123');
    expect(json({ at: new Date(Date.UTC(2026, 0, 1)) })).toBe('{\n  "at": "2026-01-01T00:00:00.000Z"\n}\n');
  });
});
