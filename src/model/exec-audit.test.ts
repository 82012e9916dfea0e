import { describe, expect, it } from 'vitest';
import { execAuditLine, execAuditTarget } from './exec-audit.js';

const awslogs = { name: 'app', logConfiguration: { logDriver: 'awslogs' as const, options: { 'awslogs-group': 'app-logs' } } };

describe('execAuditTarget', () => {
  it('DEFAULT (or no configuration): the container\'s awslogs group, else nowhere', () => {
    expect(execAuditTarget(undefined, awslogs, 's1')).toEqual({ logGroupName: 'app-logs', logStreamName: 's1', fromOverride: false });
    expect(execAuditTarget({ logging: 'DEFAULT' }, awslogs, 's1')?.logGroupName).toBe('app-logs');
    expect(execAuditTarget({ logging: 'DEFAULT' }, { name: 'app' }, 's1')).toBeUndefined();
    expect(execAuditTarget(undefined, { name: 'app', logConfiguration: { logDriver: 'json-file' as const } }, 's1')).toBeUndefined();
  });

  it('OVERRIDE: the configuration\'s CloudWatch group, whatever the container logs to; NONE: nowhere', () => {
    const override = { logging: 'OVERRIDE', logConfiguration: { cloudWatchLogGroupName: 'audit' } } as const;
    expect(execAuditTarget(override, awslogs, 's2')).toEqual({ logGroupName: 'audit', logStreamName: 's2', fromOverride: true });
    expect(execAuditTarget({ logging: 'OVERRIDE', logConfiguration: { s3BucketName: 'b' } }, awslogs, 's2')).toBeUndefined();
    expect(execAuditTarget({ logging: 'NONE' }, awslogs, 's3')).toBeUndefined();
  });

  it('writes one JSON line per event', () => {
    expect(JSON.parse(execAuditLine('end', { sessionId: 's', principalArn: 'p', exitCode: 0, reason: 'r', durationMs: 5 }))).toEqual({
      event: 'end',
      sessionId: 's',
      principalArn: 'p',
      exitCode: 0,
      reason: 'r',
      durationMs: 5,
    });
  });
});
