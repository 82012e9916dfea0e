import { execFile } from 'node:child_process';

export interface SkopeoResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run skopeo (plain HTTP registries on loopback need the --*-tls-verify=false flags in `args`). */
export function skopeo(args: string[]): Promise<SkopeoResult> {
  return new Promise((resolve) => {
    execFile('skopeo', args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}
