import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { REPO_ROOT, type BerthServerProcess } from './berth-server.js';

const CLI = join(REPO_ROOT, 'dist/cli/main.js');

/** Run the built `berth` CLI (a subcommand for people: logs, metrics) with the server's credentials file. */
export function berthCli(server: BerthServerProcess, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_SHARED_CREDENTIALS_FILE: server.credentialsFile,
          AWS_CONFIG_FILE: '/dev/null',
          AWS_PROFILE: 'berth',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        timeout: 30_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * The environment of a person's shell for the commands for people: the server's URL and data directory (whose
 * credentials file the CLI finds by itself), and nothing else that names credentials.
 */
export function peopleEnv(server: BerthServerProcess): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    BERTH_ENDPOINT: server.url,
    BERTH_DATA_DIR: dirname(server.credentialsFile),
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
