#!/usr/bin/env -S node --max-semi-space-size=4
// The flag: V8's young generation capped at 4 MiB per semi-space instead of 16. Node's default lets it
// grow to 32 MiB (two semi-spaces) that the agent mostly never fills, resident all the same: ~25 MiB of
// `berth agent`'s RSS, at no measured CPU cost per task start. The server is faster with it, if anything
// (signed DescribeTaskDefinition 73–78 against 87 µs of CPU per request, alternating runs). Figures:
// docs/agent.md, "Footprint". Running `node dist/cli/main.js …` directly skips the flag (the benches add it).

import { program } from './program.js';

// berth runs on Node 20 by design; the AWS SDK's notice about its future Node 22 requirement is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

program().parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`berth: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
