import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from '../store/sqlite.js';
import type { TaskState } from './task-engine/task-state.js';

/** Who this agent is to the control plane; kept so a restarted agent re-registers as the same instance. */
export interface AgentIdentity {
  readonly cluster: string;
  readonly containerInstanceArn?: string;
  readonly ec2InstanceId: string;
}

/**
 * The agent's durable state in `<dataDir>/agent.db` (the same revisioned store the control plane uses,
 * in SQLite): its identity and one record per task it is responsible for.
 */
export class AgentStateStore {
  private readonly store: SqliteStore;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // A crash of the agent process must not lose a write; a power cut may lose the last one.
    this.store = new SqliteStore(join(dataDir, 'agent.db'), { durability: 'normal', historyRevisions: 1_000 });
  }

  async identity(): Promise<AgentIdentity | undefined> {
    const e = await this.store.get('identity');
    return e && (JSON.parse(e.value) as AgentIdentity);
  }

  async setIdentity(identity: AgentIdentity): Promise<void> {
    await this.store.txn([], [{ type: 'put', key: 'identity', value: JSON.stringify(identity) }]);
  }

  async tasks(): Promise<TaskState[]> {
    const { entries } = await this.store.range('tasks/');
    return entries.map((e) => JSON.parse(e.value) as TaskState);
  }

  async saveTask(state: TaskState): Promise<void> {
    await this.store.txn([], [{ type: 'put', key: `tasks/${state.arn}`, value: JSON.stringify(state) }]);
  }

  async forgetTask(arn: string): Promise<void> {
    await this.store.txn([], [{ type: 'delete', key: `tasks/${arn}` }]);
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
