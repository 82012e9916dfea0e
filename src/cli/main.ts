#!/usr/bin/env -S node --max-semi-space-size=4
// The flag: V8's young generation capped at 4 MiB per semi-space instead of 16. Node's default lets it
// grow to 32 MiB (two semi-spaces) that the agent mostly never fills, resident all the same: ~25 MiB of
// `berth agent`'s RSS, at no measured CPU cost per task start. The server is faster with it, if anything
// (signed DescribeTaskDefinition 73–78 against 87 µs of CPU per request, alternating runs). Figures:
// docs/agent.md, "Footprint". Running `node dist/cli/main.js …` directly skips the flag (the benches add it).

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { agentCommand } from './agent-command.js';
import { lbCommand } from './lb-command.js';
import { logsCommand } from './logs-command.js';
import { metricsCommand } from './metrics-command.js';
import { execCommand } from './people/exec-command.js';
import { psCommand } from './people/ps-command.js';
import { scaleCommand, servicesCommand } from './people/services-command.js';
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
  .addCommand(lbCommand())
  .addCommand(upCommand())
  .addCommand(logsCommand())
  .addCommand(metricsCommand())
  .addCommand(psCommand())
  .addCommand(servicesCommand())
  .addCommand(scaleCommand())
  .addCommand(execCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`berth: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
