import { randomUUID } from 'node:crypto';
import type { RoleCredentials, RoleType } from '../../model/acs.js';

/**
 * Makes temporary credentials of a task's role: STS's AssumeRole on the task's behalf, with ECS's service
 * principal (`ecs-tasks.amazonaws.com`) as the one the role's trust policy must allow.
 */
export interface TaskRoleIssuer {
  issue(request: { readonly roleArn: string; readonly taskArn: string; readonly roleType: RoleType }): Promise<Omit<RoleCredentials, 'credentialsId'>>;
}

/** The roles a task runs with, from its task definition and its overrides (an override wins). */
export function taskRoles(td: { taskRoleArn?: string; executionRoleArn?: string }, overrides?: { taskRoleArn?: string; executionRoleArn?: string }) {
  const roles: [RoleType, string][] = [];
  const task = overrides?.taskRoleArn ?? td.taskRoleArn;
  const execution = overrides?.executionRoleArn ?? td.executionRoleArn;
  if (task) roles.push(['TaskApplication', task]);
  if (execution) roles.push(['TaskExecution', execution]);
  return roles;
}

interface Held {
  readonly roleArn: string;
  /** Epoch ms when the credentials were issued and when they expire; refreshed at half their life. */
  issuedAt: number;
  expiresAt: number;
}

/** How long after a failed issue the session tries again (the role may be fixed meanwhile). */
export const RETRY_ISSUE_AFTER_MS = 30_000;

/**
 * The role credentials one agent session has given out: issued with a task's first push, renewed when half
 * their life has passed (so an agent that misses one renewal still has valid credentials for the next), and
 * forgotten when the task stops. Nothing here is stored: a new session (an agent restart, another replica)
 * issues afresh, since the agent keeps credentials in memory only.
 */
export class SessionCredentials {
  private readonly held = new Map<string, Held>();
  private readonly retries = new Map<string, { roleArn: string; at: number }>();

  constructor(
    private readonly issuer: TaskRoleIssuer,
    private readonly now: () => number,
  ) {}

  /** Fresh credentials for each of a task's roles; a role whose issue fails is left out and retried later. */
  async forPush(taskArn: string, roles: readonly [RoleType, string][]): Promise<{ credentials: Map<RoleType, RoleCredentials>; failures: { roleType: RoleType; roleArn: string; error: unknown }[] }> {
    const credentials = new Map<RoleType, RoleCredentials>();
    const failures: { roleType: RoleType; roleArn: string; error: unknown }[] = [];
    for (const [roleType, roleArn] of roles) {
      try {
        credentials.set(roleType, await this.issue(taskArn, roleType, roleArn));
      } catch (error) {
        this.retries.set(slot(taskArn, roleType), { roleArn, at: this.now() + RETRY_ISSUE_AFTER_MS });
        failures.push({ roleType, roleArn, error });
      }
    }
    return { credentials, failures };
  }

  /** The task's credentials that are due for renewal (or for another try), re-issued. */
  async renewDue(): Promise<{ taskArn: string; roleType: RoleType; credentials?: RoleCredentials; error?: unknown }[]> {
    const now = this.now();
    const due: [string, RoleType, string][] = [];
    for (const [key, h] of this.held) if (now >= h.issuedAt + (h.expiresAt - h.issuedAt) / 2) due.push([...unslot(key), h.roleArn]);
    for (const [key, r] of this.retries) if (now >= r.at) due.push([...unslot(key), r.roleArn]);
    const out: { taskArn: string; roleType: RoleType; credentials?: RoleCredentials; error?: unknown }[] = [];
    for (const [taskArn, roleType, roleArn] of due) {
      try {
        out.push({ taskArn, roleType, credentials: await this.issue(taskArn, roleType, roleArn) });
      } catch (error) {
        this.held.delete(slot(taskArn, roleType));
        this.retries.set(slot(taskArn, roleType), { roleArn, at: this.now() + RETRY_ISSUE_AFTER_MS });
        out.push({ taskArn, roleType, error });
      }
    }
    return out;
  }

  /** The task stopped: its credentials are no longer renewed. */
  forget(taskArn: string): void {
    for (const roleType of ['TaskApplication', 'TaskExecution'] as const) {
      this.held.delete(slot(taskArn, roleType));
      this.retries.delete(slot(taskArn, roleType));
    }
  }

  private async issue(taskArn: string, roleType: RoleType, roleArn: string): Promise<RoleCredentials> {
    const issuedAt = this.now();
    const c = await this.issuer.issue({ roleArn, taskArn, roleType });
    this.retries.delete(slot(taskArn, roleType));
    this.held.set(slot(taskArn, roleType), { roleArn, issuedAt, expiresAt: Date.parse(c.expiration) });
    return { credentialsId: randomUUID(), ...c };
  }
}

const slot = (taskArn: string, roleType: RoleType) => `${roleType} ${taskArn}`;
const unslot = (key: string): [string, RoleType] => {
  const space = key.indexOf(' ');
  return [key.slice(space + 1), key.slice(0, space) as RoleType];
};
