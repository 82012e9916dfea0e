import { recordParser } from './codec.js';

/** Who holds an agent's session: the replica, the session, and since when (epoch ms). */
export interface PresenceRecord {
  readonly replica: string;
  readonly session: string;
  readonly since: number;
  /** The holding replica's listener, `http://host:port`: other replicas relay ECS Exec streams to it (docs/exec.md). */
  readonly url?: string;
}

export const parsePresenceRecord = recordParser<PresenceRecord>('agent presence', {
  replica: 'string',
  session: 'string',
  since: 'number',
});
