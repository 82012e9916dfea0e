import type { AcsTask, RoleCredentials, RoleType } from '../model/acs.js';

/**
 * The credentials of tasks' roles, as the control plane sends them (with a task's payload, and renewed by
 * IAMRoleCredentialsMessage). Held in this process's memory only: never in the task's saved state, never
 * logged. After a restart the agent has none until the control plane sends its live tasks again, which it
 * does on every new session.
 */
export class TaskCredentials {
  private readonly byTask = new Map<string, Map<RoleType, RoleCredentials>>();

  set(taskArn: string, roleType: RoleType, credentials: RoleCredentials): void {
    let roles = this.byTask.get(taskArn);
    if (!roles) this.byTask.set(taskArn, (roles = new Map()));
    const held = roles.get(roleType);
    // A payload resent after a renewal carries the older credentials: keep whichever lasts longer.
    if (held && Date.parse(held.expiration) > Date.parse(credentials.expiration)) return;
    roles.set(roleType, credentials);
  }

  get(taskArn: string, roleType: RoleType): RoleCredentials | undefined {
    return this.byTask.get(taskArn)?.get(roleType);
  }

  /** The task is gone: its credentials with it. */
  forget(taskArn: string): void {
    this.byTask.delete(taskArn);
  }

  /**
   * Take the credentials out of a payload's task, keeping them here: what remains is what the engine saves.
   */
  takeFrom(task: AcsTask): AcsTask {
    const { roleCredentials, executionRoleCredentials, ...spec } = task;
    if (roleCredentials) this.set(task.arn, 'TaskApplication', roleCredentials);
    if (executionRoleCredentials) this.set(task.arn, 'TaskExecution', executionRoleCredentials);
    return spec;
  }
}

/** The ECS credentials endpoint's answer (`GET /v2/credentials/<id>`), as the AWS SDKs' container provider reads it. */
export function credentialsResponse(c: RoleCredentials) {
  return { RoleArn: c.roleArn, AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, Token: c.sessionToken, Expiration: c.expiration };
}
