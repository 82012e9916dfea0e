import { describe, expect, it } from 'vitest';
import { compareVersions, parseAgentVersion, parseVersionArgument } from './agent-version.js';
import { parseTimeSpan } from './dates.js';

describe('agent versions', () => {
  it.each([
    ['1.14.5', '1.14.5', 0],
    ['1.14.5', '1.100.0', -1],
    ['1.9', '1.10', -1],
    ['2', '1.99.99', 1],
    ['1.14', '1.14.0', 0],
    ['1.14.0.1', '1.14', 1],
  ])('%s against %s', (a, b, sign) => {
    expect(Math.sign(compareVersions(parseVersionArgument(a)!, parseVersionArgument(b)!))).toBe(sign);
  });

  it('reads what agents report, and refuses loose arguments', () => {
    expect(parseAgentVersion('v1.14.5')).toEqual([1, 14, 5]);
    expect(parseAgentVersion('1.14.5-berth')).toEqual([1, 14, 5]);
    expect(parseAgentVersion('berth')).toBeUndefined();
    expect(parseAgentVersion(undefined)).toBeUndefined();
    expect(parseVersionArgument('1.14.5-beta')).toBeUndefined();
    expect(parseVersionArgument('1..2')).toBeUndefined();
  });
});

describe('registeredAt arguments', () => {
  const at = (iso: string) => Date.parse(iso) / 1000;
  it.each([
    ['2018-02-13', at('2018-02-13T00:00:00Z'), at('2018-02-14T00:00:00Z')],
    ['2018-06-18T22:28:28Z', at('2018-06-18T22:28:28Z'), at('2018-06-18T22:28:29Z')],
    ['2018-06-18T22:28:28+00:00', at('2018-06-18T22:28:28Z'), at('2018-06-18T22:28:29Z')],
    ['2018-06-18T22:28:28', at('2018-06-18T22:28:28Z'), at('2018-06-18T22:28:29Z')],
    ['2018-06-18T22:28:28-05:30', at('2018-06-19T03:58:28Z'), at('2018-06-19T03:58:29Z')],
    ['2020-02-29', at('2020-02-29T00:00:00Z'), at('2020-03-01T00:00:00Z')],
  ])('%s spans [%i, %i)', (text, start, end) => {
    expect(parseTimeSpan(text)).toEqual({ start, end });
  });

  it.each(['2019-02-29', '2018-13-01', '2018-02-13T24:00:00Z', '2018-02-13 10:00', '13/02/2018', '2018-02-13T10:00:00+25:00'])('refuses %s', (text) => {
    expect(parseTimeSpan(text)).toBeUndefined();
  });
});
