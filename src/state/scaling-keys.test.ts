import { describe, expect, it } from 'vitest';
import { alarmKeys, scalingKeys } from './scaling-keys.js';

describe('scaling keys', () => {
  it('encode names so that a / opens no prefix, and a lone surrogate (the API fuzz found one) gets its own key', () => {
    expect(alarmKeys.alarm('cpu/high')).toBe('cloudwatch/alarms/cpu%2Fhigh');
    expect(alarmKeys.alarm('\udfff')).toBe('cloudwatch/alarms/%udfff');
    expect(alarmKeys.alarm('a\ud800b')).toBe('cloudwatch/alarms/a%ud800b');
    expect(alarmKeys.alarm('\ufffd')).not.toBe(alarmKeys.alarm('\udfff'));
    expect(scalingKeys.policy('ecs', 'ecs:service:DesiredCount', 'service/c/s', '\ud83d')).toBe('autoscaling/policies/ecs/ecs:service:DesiredCount/service%2Fc%2Fs/%ud83d');
  });
});
