import type { Setting } from '@aws-sdk/client-ecs';
import { recordParser } from './codec.js';

/** An account setting as PutAccountSetting stored it, for one principal. */
export const parseAccountSetting = recordParser<Setting>('account setting', { name: 'string', value: 'string' });
