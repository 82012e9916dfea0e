import type {
  DeleteAccountSettingRequest,
  ListAccountSettingsRequest,
  PutAccountSettingDefaultRequest,
  PutAccountSettingRequest,
  Setting,
  SettingName,
} from '@aws-sdk/client-ecs';
import { invalidParameter } from '../../model/errors.js';
import { keys } from '../../state/keys.js';
import { readJson, transact, readRecord } from '../../store/transact.js';
import { pageOf, pageOfList } from '../pagination.js';
import type { CallContext } from '../protocol/json-rpc.js';
import type { EcsEnv } from './env.js';
import { parseAccountSetting } from '../../state/records/account-settings.js';

/** Each account setting's AWS default and the values it accepts. */
const settingRules: Record<SettingName, { default: string; values: readonly string[] }> = {
  serviceLongArnFormat: { default: 'enabled', values: ['enabled', 'disabled'] },
  taskLongArnFormat: { default: 'enabled', values: ['enabled', 'disabled'] },
  containerInstanceLongArnFormat: { default: 'enabled', values: ['enabled', 'disabled'] },
  awsvpcTrunking: { default: 'disabled', values: ['enabled', 'disabled'] },
  containerInsights: { default: 'disabled', values: ['enabled', 'disabled', 'enhanced'] },
  fargateFIPSMode: { default: 'disabled', values: ['enabled', 'disabled'] },
  tagResourceAuthorization: { default: 'on', values: ['on', 'off'] },
  fargateTaskRetirementWaitPeriod: { default: '7', values: ['0', '7', '14'] },
  guardDutyActivate: { default: 'off', values: ['on', 'off'] },
  defaultLogDriverMode: { default: 'non-blocking', values: ['blocking', 'non-blocking'] },
  fargateEventWindows: { default: 'disabled', values: ['enabled', 'disabled'] },
};
const settingNames = Object.keys(settingRules) as SettingName[];

const rootArn = (env: EcsEnv) => `arn:aws:iam::${env.scope.accountId}:root`;

function checkValue(name: SettingName, value: string): void {
  const rule = settingRules[name];
  if (!rule.values.includes(value)) {
    throw invalidParameter(`Invalid value '${value}' for account setting '${name}'. Valid values: ${rule.values.join(', ')}.`);
  }
}

/** The setting in force for `principalArn`: its own, else the account default, else AWS's default. */
async function effective(env: EcsEnv, principalArn: string, name: SettingName): Promise<Setting> {
  const own = await readRecord(env.store, parseAccountSetting, keys.accountSetting(principalArn, name));
  if (own) return own;
  const accountDefault = await readRecord(env.store, parseAccountSetting, keys.accountSetting(rootArn(env), name));
  if (accountDefault) return { ...accountDefault, principalArn };
  return { name, value: settingRules[name].default, principalArn, type: 'aws_managed' };
}

/** The value of an account setting for the account as a whole (used for new clusters and tasks). */
export async function effectiveAccountSetting(env: EcsEnv, name: SettingName): Promise<string> {
  return (await effective(env, rootArn(env), name)).value!;
}

async function put(env: EcsEnv, principalArn: string, name: SettingName, value: string): Promise<Setting> {
  checkValue(name, value);
  const setting: Setting = { name, value, principalArn, type: 'user' };
  await transact(env.store, async (tx) => tx.putJson(keys.accountSetting(principalArn, name), setting));
  return setting;
}

export function accountSettingOperations(env: EcsEnv) {
  return {
    async PutAccountSetting(input: PutAccountSettingRequest, call: CallContext) {
      return { setting: await put(env, input.principalArn ?? call.principal.arn, input.name!, input.value!) };
    },

    async PutAccountSettingDefault(input: PutAccountSettingDefaultRequest) {
      return { setting: await put(env, rootArn(env), input.name!, input.value!) };
    },

    async DeleteAccountSetting(input: DeleteAccountSettingRequest, call: CallContext) {
      const principalArn = input.principalArn ?? call.principal.arn;
      const key = keys.accountSetting(principalArn, input.name!);
      const removed = await transact(env.store, async (tx) => {
        const existing = await tx.getRecord(parseAccountSetting, key);
        if (!existing) throw invalidParameter(`The account setting '${input.name}' is not set for ${principalArn}.`);
        tx.delete(key);
        return existing;
      });
      return { setting: removed };
    },

    async ListAccountSettings(input: ListAccountSettingsRequest, call: CallContext) {
      if (input.value !== undefined && input.name === undefined) {
        throw invalidParameter('The value parameter requires the name parameter.');
      }
      const principalArn = input.principalArn ?? call.principal.arn;
      const matches = (s: Setting) =>
        (input.name === undefined || s.name === input.name) && (input.value === undefined || s.value === input.value);
      if (input.effectiveSettings) {
        // Every setting has an effective value, so the list is fixed and short: page it in memory.
        const all: Setting[] = [];
        for (const name of input.name ? [input.name] : settingNames) {
          const s = await effective(env, principalArn, name);
          if (matches(s)) all.push(s);
        }
        const page = pageOfList(all, input, { defaultSize: 10, maxSize: 10 });
        return { settings: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
      }
      const page = await pageOf(env.store, keys.accountSettingsOf(principalArn), input, { defaultSize: 10, maxSize: 10 }, (e) => {
        const s = parseAccountSetting(e.value, e.key);
        return matches(s) ? s : undefined;
      });
      return { settings: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },
  };
}
