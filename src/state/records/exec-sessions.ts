import { recordParser } from './codec.js';

/** Where an ECS Exec session's audit records (and output) go: a log group and stream of berth's CloudWatch Logs. */
export interface ExecAuditDestination {
  readonly logGroupName: string;
  readonly logStreamName: string;
}

/**
 * A session ExecuteCommand granted: what to run where, who asked, and the hash of its token. The client's first
 * frame on the stream must carry the token before `expiresAt`; opening the stream deletes the record (one use).
 */
export interface ExecSessionRecord {
  readonly sessionId: string;
  readonly cluster: string;
  readonly taskId: string;
  readonly taskArn: string;
  readonly containerName: string;
  /** ExecuteCommand's command, as given. */
  readonly command: string;
  /** The caller's ARN (the audit's "who"). */
  readonly principalArn: string;
  /** SHA-256 of the token, hex: the token itself is never stored. */
  readonly tokenSha256: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly audit?: ExecAuditDestination;
}

export const parseExecSessionRecord = recordParser<ExecSessionRecord>('exec session', {
  sessionId: 'string',
  cluster: 'string',
  taskId: 'string',
  taskArn: 'string',
  containerName: 'string',
  command: 'string',
  principalArn: 'string',
  tokenSha256: 'string',
  createdAt: 'number',
  expiresAt: 'number',
});
