import { randomBytes } from 'node:crypto';
import { ServiceError } from '../../model/errors.js';
import { iamKeys } from '../../state/iam-keys.js';
import { parseIamAccessKey, parseIamUser, type AccessKeyStatus, type IamAccessKeyRecord } from '../../state/records/iam.js';
import { transact, type Tx } from '../../store/transact.js';
import type { CallContext, Operation } from '../protocol/json-rpc.js';
import { mustGet, without } from './entities.js';
import type { IamEnv } from './env.js';
import { iamErrors } from './errors.js';
import { iamArn, uniqueId } from './ids.js';
import { page } from './listing.js';

/** IAM's quota of access keys per user. */
export const ACCESS_KEYS_PER_USER = 2;

/** The user an access-key action is about: the one named, else the calling user. */
function userNameOf(input: { UserName?: string }, call: CallContext): string {
  if (input.UserName !== undefined) return input.UserName;
  const p = call.principal;
  if (p.type === 'User') return p.userName;
  throw iamErrors.validation('Must specify userName when calling with non-User credentials');
}

/** CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey, GetAccessKeyLastUsed. */
export function accessKeyOperations(env: IamEnv): Record<string, Operation> {
  return {
    async CreateAccessKey(input: { UserName?: string }, call) {
      const userName = userNameOf(input, call);
      const secret = randomBytes(30).toString('base64');
      const record = await transact(env.store, async (tx) => {
        const user = await mustGet(tx, parseIamUser, iamKeys.user(userName), () => iamErrors.noSuch('user', userName));
        if (user.accessKeys.length >= ACCESS_KEYS_PER_USER) throw iamErrors.limit(`Cannot exceed quota for AccessKeysPerUser: ${ACCESS_KEYS_PER_USER}`);
        const id = uniqueId('accessKey');
        const key = iamKeys.accessKey(id);
        const created: IamAccessKeyRecord = {
          id,
          userName: user.name,
          userId: user.id,
          userArn: iamArn(env.accountId, 'user', user.path, user.name),
          status: 'Active',
          createDate: Math.floor(env.now() / 1000),
          sealedSecret: env.sealer.seal(secret, key),
        };
        tx.putJson(key, created);
        tx.putJson(iamKeys.user(user.name), { ...user, accessKeys: [...user.accessKeys, id] });
        return created;
      });
      return {
        AccessKey: { UserName: record.userName, AccessKeyId: record.id, Status: record.status, SecretAccessKey: secret, CreateDate: record.createDate },
      };
    },

    async ListAccessKeys(input: { UserName?: string; Marker?: string; MaxItems?: number }, call) {
      const userName = userNameOf(input, call);
      const keys = await transact(env.store, async (tx) => {
        const user = await mustGet(tx, parseIamUser, iamKeys.user(userName), () => iamErrors.noSuch('user', userName));
        const found: IamAccessKeyRecord[] = [];
        for (const id of user.accessKeys) {
          const key = await tx.getRecord(parseIamAccessKey, iamKeys.accessKey(id));
          if (key) found.push(key);
        }
        return found;
      });
      const { items, ...rest } = page(keys, (k) => k.id, input);
      return { AccessKeyMetadata: items.map((k) => ({ UserName: k.userName, AccessKeyId: k.id, Status: k.status, CreateDate: k.createDate })), ...rest };
    },

    async UpdateAccessKey(input: { UserName?: string; AccessKeyId: string; Status: AccessKeyStatus }, call) {
      const userName = userNameOf(input, call);
      await transact(env.store, async (tx) => {
        const key = await ownKey(tx, userName, input.AccessKeyId);
        tx.putJson(iamKeys.accessKey(key.id), { ...key, status: input.Status });
      });
      await env.credentialsCaughtUp?.();
      return {};
    },

    async DeleteAccessKey(input: { UserName?: string; AccessKeyId: string }, call) {
      const userName = userNameOf(input, call);
      await transact(env.store, async (tx) => {
        const key = await ownKey(tx, userName, input.AccessKeyId);
        const user = await mustGet(tx, parseIamUser, iamKeys.user(userName), () => iamErrors.noSuch('user', userName));
        tx.delete(iamKeys.accessKey(key.id));
        tx.putJson(iamKeys.user(user.name), { ...user, accessKeys: without(user.accessKeys, key.id) });
      });
      await env.credentialsCaughtUp?.();
      return {};
    },

    async GetAccessKeyLastUsed(input: { AccessKeyId: string }) {
      const key = await transact(env.store, (tx) => tx.getRecord(parseIamAccessKey, iamKeys.accessKey(input.AccessKeyId)));
      // berth does not record use (a store write per request would cost more than the answer is worth): IAM's
      // answer for a key never used.
      if (!key) throw new ServiceError('AccessDenied', 'Access key not found.');
      return { UserName: key.userName, AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } };
    },
  };

  async function ownKey(tx: Tx, userName: string, id: string): Promise<IamAccessKeyRecord> {
    const key = await tx.getRecord(parseIamAccessKey, iamKeys.accessKey(id));
    if (!key || key.userName.toLowerCase() !== userName.toLowerCase()) throw iamErrors.noSuchAccessKey(id);
    return key;
  }
}
