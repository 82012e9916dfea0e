/**
 * Where IAM's records live in the Store. IAM names are unique without regard to case (a user `Alice` and a user
 * `alice` cannot both exist), so every key holds the lower-cased name and the record keeps the name as created.
 */
const folded = (name: string) => name.toLowerCase();

export const iamKeys = {
  user: (name: string) => `iam/users/${folded(name)}`,
  users: () => 'iam/users/',
  group: (name: string) => `iam/groups/${folded(name)}`,
  groups: () => 'iam/groups/',
  role: (name: string) => `iam/roles/${folded(name)}`,
  roles: () => 'iam/roles/',
  /** A customer managed policy (names are unique in the account whatever their path). */
  policy: (name: string) => `iam/policies/${folded(name)}`,
  policies: () => 'iam/policies/',
  /** Who a managed policy (customer or AWS) is attached to: DeletePolicy reads it, every attach writes it. */
  policyAttachments: (policyArn: string) => `iam/policy-attachments/${policyArn}`,
  /** An access key by its id: what SigV4 looks up (through an informer on this prefix). */
  accessKey: (id: string) => `iam/access-keys/${id}`,
  accessKeys: () => 'iam/access-keys/',
} as const;
