#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { agentCommand } from './agent-command.js';
import { logsCommand } from './logs-command.js';
import { serverCommand } from './server-command.js';
import { upCommand } from './up-command.js';

// berth runs on Node 20 by design; the AWS SDK's notice about its future Node 22 requirement is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('berth')
  .description('berth: a self-hosted container orchestrator that speaks the Amazon ECS API')
  .version(pkg.version)
  .addCommand(serverCommand())
  .addCommand(agentCommand())
  .addCommand(upCommand())
  .addCommand(logsCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`berth: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
