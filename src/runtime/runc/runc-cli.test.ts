import { describe, expect, it } from 'vitest';
import { runcMessage } from './runc-cli.js';

describe('runcMessage', () => {
  it("takes the last error line's message, unescaped", () => {
    const stderr = 'time="t" level=warning msg="noise"\ntime="t" level=error msg="runc create failed: exec: \\"nope\\": not found"\n';
    expect(runcMessage(stderr)).toBe('runc create failed: exec: "nope": not found');
    expect(runcMessage('plain failure\n')).toBe('plain failure');
  });
});
