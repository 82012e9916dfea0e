import { describe, expect, it } from 'vitest';
import { CorruptRecordError, recordParser } from './codec.js';

describe('recordParser', () => {
  const parse = recordParser<{ id: string; task: { taskArn: string }; tags: unknown[] }>('task', {
    id: 'string',
    'task.taskArn': 'string',
    tags: 'array',
  });

  it('returns a record whose required fields have their types', () => {
    const record = parse('{"id":"a","task":{"taskArn":"arn:x"},"tags":[],"extra":1}', 'tasks/c/a');
    expect(record.task.taskArn).toBe('arn:x');
  });

  it('names the key and the field that is wrong', () => {
    expect(() => parse('{"id":"a","task":{},"tags":[]}', 'tasks/c/a')).toThrow(
      new CorruptRecordError('task', 'tasks/c/a', "'task.taskArn' is not a string"),
    );
    expect(() => parse('{"id":1,"task":{"taskArn":"x"},"tags":[]}', 'k')).toThrow(/'id' is not a string/);
    expect(() => parse('{"id":"a","task":{"taskArn":"x"},"tags":{}}', 'k')).toThrow(/'tags' is not an array/);
  });

  it('refuses what is not a JSON object', () => {
    expect(() => parse('[1]', 'k')).toThrow(/not a JSON object/);
    expect(() => parse('{"id":', 'k')).toThrow(/at 'k' is unreadable: not JSON/);
  });
});
