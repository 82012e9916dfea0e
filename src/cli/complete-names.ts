/**
 * `berth __complete services|tasks`: the names a completion script offers for a command's first argument (the
 * service of `berth scale` and `berth deploy`, the task of `berth exec` and `berth logs`), one a line. Hidden: the
 * scripts of completion.ts call it. It must never hold up a shell: one attempt, short timeouts, and on any failure
 * (no server, refused credentials) it prints nothing and exits 0 — the shell then offers nothing.
 */
import type { ECSClient } from '@aws-sdk/client-ecs';
import { Command } from 'commander';
import { clientSettings, sdkConfig } from './people/settings.js';

export const NAME_KINDS = ['services', 'tasks'] as const;
export type NameKind = (typeof NAME_KINDS)[number];
export const COMPLETE_COMMAND = '__complete';

/** Which kind of name a command's argument takes, by the argument's name (`<service>`, `<task>`). */
export function nameKindOf(argumentName: string | undefined): NameKind | undefined {
  if (argumentName === 'service') return 'services';
  if (argumentName === 'task') return 'tasks';
  return undefined;
}

/** The server's answer is waited for this long (a shell waits for it at each Tab). */
const DEADLINE_MS = 3_000;

/** Service names, or the ids of the tasks desired RUNNING, of one cluster (a first page of each: enough to type). */
export async function listNames(ecs: ECSClient, kind: NameKind, cluster: string): Promise<string[]> {
  const sdk = await import('@aws-sdk/client-ecs');
  const arns =
    kind === 'services'
      ? ((await ecs.send(new sdk.ListServicesCommand({ cluster, maxResults: 100 }))).serviceArns ?? [])
      : ((await ecs.send(new sdk.ListTasksCommand({ cluster, desiredStatus: 'RUNNING', maxResults: 100 }))).taskArns ?? []);
  return arns.map((arn) => arn.slice(arn.lastIndexOf('/') + 1)).sort();
}

export function completeNamesCommand(): Command {
  return new Command(COMPLETE_COMMAND)
    .description('list service names or task ids for shell completion')
    .argument('<kind>', NAME_KINDS.join(' or '))
    .option('--endpoint <url>')
    .option('--region <region>')
    .option('--cluster <name>')
    .action(async (kind: string, flags: { endpoint?: string; region?: string; cluster?: string }) => {
      if (!(NAME_KINDS as readonly string[]).includes(kind)) return;
      let giveUp: NodeJS.Timeout | undefined;
      try {
        const settings = clientSettings(flags);
        const { ECSClient } = await import('@aws-sdk/client-ecs');
        // Counted from here: loading the SDK is the machine's time, not the server's.
        giveUp = setTimeout(() => process.exit(0), DEADLINE_MS);
        const ecs = new ECSClient({ ...sdkConfig(settings), maxAttempts: 1, requestHandler: { connectionTimeout: 1_000, requestTimeout: DEADLINE_MS } });
        try {
          const names = await listNames(ecs, kind as NameKind, settings.cluster);
          if (names.length) process.stdout.write(`${names.join('\n')}\n`);
        } finally {
          ecs.destroy();
        }
      } catch {
        // Nothing to offer: completion stays silent rather than print an error into the command line.
      } finally {
        clearTimeout(giveUp);
      }
    });
}
