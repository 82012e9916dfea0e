import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ecsMessages, messageSources } from '../../model/ecs-messages.js';

/**
 * docs/api-fidelity.md shows the table of ECS's messages (model/ecs-messages.ts); this keeps that copy equal to
 * the module. It lives here, not beside the module, because model/ reads no files.
 */
const doc = readFileSync(new URL('../../../docs/api-fidelity.md', import.meta.url), 'utf8');
const rows = doc
  .split('\n')
  .filter((line) => /^\| `[A-Za-z]+` \|/.test(line))
  .map((line) => line.split(' | ').map((cell) => cell.replace(/^\| |`| \|$/g, '')));

describe('the table of ECS messages', () => {
  it('is in docs/api-fidelity.md exactly as in the module, one row per message', () => {
    expect(rows).toEqual(Object.entries(ecsMessages).map(([id, m]) => [id, m.type, m.text, m.source]));
  });

  it('names a known source for every message, and every source is explained in the doc', () => {
    for (const m of Object.values(ecsMessages)) expect(Object.keys(messageSources)).toContain(m.source);
    for (const source of Object.keys(messageSources)) expect(doc).toContain(`- \`${source}\`:`);
  });

  it('holds each text once', () => {
    const texts = Object.values(ecsMessages).map((m) => m.text);
    expect(new Set(texts).size).toBe(texts.length);
  });
});
