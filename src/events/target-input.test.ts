import { describe, expect, it } from 'vitest';
import { checkTargetInput, targetInput } from './target-input.js';

const event = {
  version: '0',
  id: 'e1',
  'detail-type': 'ECS Task State Change',
  source: 'aws.ecs',
  time: '2026-01-01T00:00:00Z',
  detail: { taskArn: 'arn:t/1', group: 'family:web', containers: [{ name: 'app', exitCode: 2 }], note: 'say "hi"' },
};
const rule = { ruleArn: 'arn:aws:events:us-east-1:123456789012:rule/r', ruleName: 'r', ingestionTime: '2026-01-01T00:00:01.000Z' };

describe('target input', () => {
  it('Input is given as it is; InputPath selects; no input is the whole event', () => {
    expect(targetInput({ Input: '{"cpu":"256"}' }, event, rule)).toBe('{"cpu":"256"}');
    expect(JSON.parse(targetInput({ InputPath: '$.detail.containers[0]' }, event, rule))).toEqual({ name: 'app', exitCode: 2 });
    expect(JSON.parse(targetInput({ InputPath: "$['detail']['group']" }, event, rule))).toBe('family:web');
    expect(JSON.parse(targetInput({}, event, rule))).toEqual(event);
  });

  it('InputTransformer: JSON outside quotes, text inside, escaped; missing paths; predefined variables', () => {
    const out = targetInput(
      {
        InputTransformer: {
          InputPathsMap: { code: '$.detail.containers[0].exitCode', c: '$.detail.containers[0]', note: '$.detail.note', none: '$.detail.absent' },
          InputTemplate: '{"code":<code>,"text":"exit <code>","c":<c>,"cs":"<c>","note":"<note>","none":<none>,"noneText":"[<none>]","rule":"<aws.events.rule-name>","arn":"<aws.events.rule-arn>","at":"<aws.events.event.ingestion-time>","event":<aws.events.event>}',
        },
      },
      event,
      rule,
    );
    expect(JSON.parse(out)).toEqual({
      code: 2,
      text: 'exit 2',
      c: { name: 'app', exitCode: 2 },
      cs: '{"name":"app","exitCode":2}',
      note: 'say "hi"',
      none: null,
      noneText: '[]',
      rule: 'r',
      arn: rule.ruleArn,
      at: rule.ingestionTime,
      event,
    });
  });

  it('PutTargets checks: one kind of input, JSON Input, JSONPaths, no reserved names', () => {
    expect(() => checkTargetInput({ Input: '{}', InputPath: '$' }, 't')).toThrow(/Only one of Input, InputPath, or InputTransformer/);
    expect(() => checkTargetInput({ Input: '{nope' }, 't')).toThrow(/Input for target t is not valid JSON text/);
    expect(() => checkTargetInput({ InputPath: 'detail' }, 't')).toThrow(/not a valid JSONPath/);
    expect(() => checkTargetInput({ InputTransformer: { InputPathsMap: { 'aws.events.rule-arn': '$.id' }, InputTemplate: '{}' } }, 't')).toThrow(/reserved/);
    expect(() => checkTargetInput({ InputTransformer: { InputPathsMap: { a: '$.detail.x[0]' }, InputTemplate: '<a>' } }, 't')).not.toThrow();
  });
});
