import { recordParser } from './codec.js';

/** Who holds an agent's session: the replica, the session, and since when (epoch ms). */
export interface PresenceRecord {
  readonly replica: string;
  readonly session: string;
  readonly since: number;
}

export const parsePresenceRecord = recordParser<PresenceRecord>('agent presence', {
  replica: 'string',
  session: 'string',
  since: 'number',
});
