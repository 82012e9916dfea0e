/**
 * The file system policy applied to EFS API calls, as EFS applies it: an API action on a file system (DeleteFileSystem,
 * PutFileSystemPolicy, CreateAccessPoint, …) that the file system's policy denies to the caller is refused with
 * AccessDeniedException, even when the caller's identity policies allow it (the authorization step already required
 * that). Actions on `*` (listing every file system) and on access points are not checked here. A stored policy that no
 * longer compiles denies nothing.
 */
import type { ArnScope } from '../model/arn.js';
import { ServiceError } from '../model/errors.js';
import type { Operation } from '../api/protocol/json-rpc.js';
import type { ActionTable } from '../api/authz/declarations.js';
import { fileSystemPolicyDenies, parseFileSystemPolicy } from './file-system-policy.js';
import type { FileSystems } from './file-systems.js';

/** `operations`, each first refusing a caller the policy of a file system it acts on denies. */
export function enforcingFileSystemPolicies(
  operations: Readonly<Record<string, Operation>>,
  actions: ActionTable,
  fileSystems: FileSystems,
  scope: ArnScope,
): Record<string, Operation> {
  const out: Record<string, Operation> = {};
  for (const [name, operation] of Object.entries(operations)) {
    const declaration = actions[name];
    out[name] = !declaration
      ? operation
      : async (input, call) => {
          if (call.principal.type !== 'Root') {
            for (const arn of declaration.resources(input, scope).filter((r) => r.includes(':file-system/'))) {
              const fs = await fileSystems.get(undefined, arn).catch(() => undefined);
              const policy = fs?.policy === undefined ? undefined : compiled(fs.policy);
              if (policy && fileSystemPolicyDenies(policy, call.principal, declaration.action, arn)) {
                throw new ServiceError(
                  'AccessDeniedException',
                  `User: ${call.principal.arn} is not authorized to perform: ${declaration.action} on resource: ${arn} with an explicit deny in a resource-based policy`,
                );
              }
            }
          }
          return operation(input, call);
        };
  }
  return out;
}

function compiled(text: string) {
  try {
    return parseFileSystemPolicy(text);
  } catch {
    return undefined;
  }
}
