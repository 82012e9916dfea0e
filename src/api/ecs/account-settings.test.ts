import {
  DeleteAccountSettingCommand,
  ListAccountSettingsCommand,
  PutAccountSettingCommand,
  PutAccountSettingDefaultCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_ACCOUNT, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';

const root = `arn:aws:iam::${TEST_ACCOUNT}:root`;
const user = `arn:aws:iam::${TEST_ACCOUNT}:user/alice`;
let api: ApiFixture;
beforeAll(async () => {
  api = await startApiFixture();
});
afterAll(() => api.stop());

describe('account settings', () => {
  it('lists nothing explicit at first, and every effective default', async () => {
    expect((await api.ecs.send(new ListAccountSettingsCommand({}))).settings).toEqual([]);
    const all: unknown[] = [];
    let nextToken: string | undefined;
    do {
      const page = await api.ecs.send(new ListAccountSettingsCommand({ effectiveSettings: true, nextToken }));
      expect(page.settings!.length).toBeLessThanOrEqual(10);
      all.push(...page.settings!);
      nextToken = page.nextToken;
    } while (nextToken);
    expect(all).toContainEqual({ name: 'taskLongArnFormat', value: 'enabled', principalArn: root, type: 'aws_managed' });
    expect(all).toContainEqual({ name: 'containerInsights', value: 'disabled', principalArn: root, type: 'aws_managed' });
    expect(all.length).toBeGreaterThan(10);
  });

  it('stores a default, a principal override, and resolves the effective value', async () => {
    const def = await api.ecs.send(new PutAccountSettingDefaultCommand({ name: 'containerInsights', value: 'enabled' }));
    expect(def.setting).toEqual({ name: 'containerInsights', value: 'enabled', principalArn: root, type: 'user' });
    await api.ecs.send(new PutAccountSettingCommand({ name: 'containerInsights', value: 'disabled', principalArn: user }));
    const forUser = await api.ecs.send(new ListAccountSettingsCommand({ name: 'containerInsights', principalArn: user, effectiveSettings: true }));
    expect(forUser.settings).toEqual([{ name: 'containerInsights', value: 'disabled', principalArn: user, type: 'user' }]);
    const forBob = await api.ecs.send(
      new ListAccountSettingsCommand({ name: 'containerInsights', principalArn: `arn:aws:iam::${TEST_ACCOUNT}:user/bob`, effectiveSettings: true }),
    );
    expect(forBob.settings?.[0]?.value).toBe('enabled');
    const filtered = await api.ecs.send(new ListAccountSettingsCommand({ name: 'containerInsights', value: 'enabled' }));
    expect(filtered.settings).toEqual([{ name: 'containerInsights', value: 'enabled', principalArn: root, type: 'user' }]);
    const deleted = await api.ecs.send(new DeleteAccountSettingCommand({ name: 'containerInsights', principalArn: user }));
    expect(deleted.setting?.value).toBe('disabled');
    const after = await api.ecs.send(new ListAccountSettingsCommand({ name: 'containerInsights', principalArn: user, effectiveSettings: true }));
    expect(after.settings?.[0]?.value).toBe('enabled');
  });

  it('refuses values a setting does not take, and a value filter without a name', async () => {
    const bad = await failure(api.ecs.send(new PutAccountSettingCommand({ name: 'awsvpcTrunking', value: 'maybe' })));
    expect(bad).toMatchObject({ name: 'InvalidParameterException' });
    expect(bad.message).toMatch(/Valid values: enabled, disabled/);
    const unknown = await failure(api.ecs.send(new PutAccountSettingCommand({ name: 'nope' as 'awsvpcTrunking', value: 'on' })));
    expect(unknown.name).toBe('InvalidParameterException');
    const noName = await failure(api.ecs.send(new ListAccountSettingsCommand({ value: 'enabled' })));
    expect(noName.name).toBe('InvalidParameterException');
    const nothing = await failure(api.ecs.send(new DeleteAccountSettingCommand({ name: 'fargateFIPSMode' })));
    expect(nothing.name).toBe('InvalidParameterException');
  });
});
