/**
 * Where each kind of record lives in the Store. Keys sort bytewise, so names are placed to make the
 * listings ECS needs a single prefix range in the right order.
 */

/** Revisions are zero-padded so that key order is numeric order. */
const pad = (n: number) => String(n).padStart(10, '0');

export const keys = {
  cluster: (name: string) => `clusters/${name}`,
  clusters: () => 'clusters/',

  /**
   * `#` sorts before every character allowed in a family name, so all revisions of `web` come before
   * those of `web-api`: listing `taskdefs/` yields family order, then revision order.
   */
  taskDefinition: (family: string, revision: number) => `taskdefs/${family}#${pad(revision)}`,
  taskDefinitionsOf: (family: string) => `taskdefs/${family}#`,
  taskDefinitions: () => 'taskdefs/',
  /** Revisions awaiting deletion (DELETE_IN_PROGRESS), so the reaper never scans every revision. */
  taskDefinitionDeletion: (family: string, revision: number) => `taskdef-deletions/${family}#${pad(revision)}`,
  taskDefinitionDeletions: () => 'taskdef-deletions/',
  taskDefinitionFamily: (family: string) => `taskdef-families/${family}`,
  taskDefinitionFamilies: () => 'taskdef-families/',

  accountSetting: (principalArn: string, name: string) => `account-settings/${principalArn}/${name}`,
  accountSettingsOf: (principalArn: string) => `account-settings/${principalArn}/`,

  containerInstance: (cluster: string, id: string) => `instances/${cluster}/${id}`,
  containerInstancesOf: (cluster: string) => `instances/${cluster}/`,
  containerInstances: () => 'instances/',
  task: (cluster: string, id: string) => `tasks/${cluster}/${id}`,
  tasksOf: (cluster: string) => `tasks/${cluster}/`,
  tasks: () => 'tasks/',
  servicesOf: (cluster: string) => `services/${cluster}/`,
} as const;
