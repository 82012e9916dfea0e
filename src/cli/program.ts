import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { completeNamesCommand } from './complete-names.js';
import { completionCommand } from './completion.js';
import { agentCommand } from './agent-command.js';
import { lbCommand } from './lb-command.js';
import { logsCommand } from './logs-command.js';
import { metricsCommand } from './metrics-command.js';
import { deployCommand } from './people/deploy-command.js';
import { execCommand } from './people/exec-command.js';
import { psCommand } from './people/ps-command.js';
import { pushCommand } from './people/push-command.js';
import { scaleCommand, servicesCommand } from './people/services-command.js';
import { serverCommand } from './server-command.js';
import { storageCommand } from './storage-command.js';
import { upCommand } from './up-command.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The whole `berth` CLI: every command, ready to parse. */
export function program(): Command {
  const berth: Command = new Command('berth')
    .description('berth: a self-hosted container orchestrator that speaks the Amazon ECS API')
    .version(pkg.version)
    .addCommand(serverCommand())
    .addCommand(agentCommand())
    .addCommand(lbCommand())
    .addCommand(storageCommand())
    .addCommand(upCommand())
    .addCommand(logsCommand())
    .addCommand(metricsCommand())
    .addCommand(psCommand())
    .addCommand(servicesCommand())
    .addCommand(scaleCommand())
    .addCommand(deployCommand())
    .addCommand(pushCommand())
    .addCommand(execCommand())
    .addCommand(completionCommand(() => berth))
    .addCommand(completeNamesCommand(), { hidden: true });
  return berth;
}
