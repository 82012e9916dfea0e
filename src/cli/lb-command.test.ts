import { describe, expect, it } from 'vitest';
import { parseTrafficReportInterval } from './lb-command.js';

describe('berth lb --traffic-report-interval', () => {
  it('takes whole seconds from 1 to 3600, and refuses the rest naming the flag', () => {
    expect(parseTrafficReportInterval('60')).toBe(60_000);
    expect(parseTrafficReportInterval('2')).toBe(2_000);
    for (const bad of ['0', '1.5', '-3', 'ten', '3601', '']) expect(() => parseTrafficReportInterval(bad)).toThrow(/--traffic-report-interval/);
  });
});
