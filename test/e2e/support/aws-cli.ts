import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The AWS CLI v2 from Debian's awscli package (not whatever `aws` is first on PATH). */
export const AWS_CLI = '/usr/bin/aws';
export const hasAwsCli = existsSync(AWS_CLI);

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON, when it is JSON. */
  readonly json: any;
}

/** Run `aws <args> --endpoint-url <url>` with the server's credentials file and profile (and `env`'s additions). */
export function awsCli(endpoint: string, credentialsFile: string, args: string[], region = 'us-east-1', env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      AWS_CLI,
      [...args, '--endpoint-url', endpoint, '--output', 'json'],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
          AWS_CONFIG_FILE: '/dev/null',
          AWS_PROFILE: 'berth',
          AWS_DEFAULT_REGION: region,
          AWS_PAGER: '',
          AWS_MAX_ATTEMPTS: '1',
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        let json: unknown;
        try {
          json = stdout.trim() ? JSON.parse(stdout) : undefined;
        } catch {
          json = undefined;
        }
        const code = error ? ((error as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr, json });
      },
    );
  });
}
