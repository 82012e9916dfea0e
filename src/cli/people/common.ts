import { Command, Option } from 'commander';
import { OUTPUT_FORMATS, paint, wantColour, type OutputFormat, type Paint } from './render.js';
import { clientSettings, CliUsageError, sdkConfig, type ClientSettings } from './settings.js';

/** What every command for people gets: where to call, how to print. */
export interface PeopleContext {
  readonly settings: ClientSettings;
  readonly output: OutputFormat;
  readonly paint: Paint;
  readonly out: (text: string) => void;
  readonly now: () => number;
}

interface CommonFlags {
  endpoint?: string;
  region?: string;
  cluster?: string;
  output: OutputFormat;
}

/**
 * A command with the options every command for people shares (--endpoint, --region, --cluster, --output), whose
 * action gets them compiled. The SDK is loaded by the action, not here: main.ts imports every command's module and
 * `berth agent` must not carry the SDK's code (docs/agent.md, Footprint).
 */
export function peopleCommand(name: string, description: string, options: { clusterHelp?: string } = {}): Command {
  return new Command(name)
    .description(description)
    .option('--endpoint <url>', "the berth server's URL (default: $BERTH_ENDPOINT, $AWS_ENDPOINT_URL, http://127.0.0.1:7400)")
    .option('--region <region>', 'the region berth answers as (default: $AWS_REGION, us-east-1)')
    .option('--cluster <name>', options.clusterHelp ?? 'the cluster (default: $BERTH_CLUSTER, default)')
    .addOption(new Option('-o, --output <format>', 'table for people, json for programs').choices(OUTPUT_FORMATS).default('table'))
    .addHelpText('after', "\nCredentials: the usual AWS places (AWS_PROFILE, AWS_ACCESS_KEY_ID, …), else the file `berth server` writes\n(/var/lib/berth/credentials, profile berth; $BERTH_DATA_DIR moves it).");
}

/** The context of a command's run from its flags. */
export function contextOf(flags: CommonFlags): PeopleContext {
  return {
    settings: clientSettings(flags),
    output: flags.output,
    paint: paint(flags.output === 'table' && wantColour(process.stdout, process.env)),
    out: (text) => void process.stdout.write(text),
    now: Date.now,
  };
}

/** An ECS client for the context (the SDK loaded now). */
export async function ecsClient(ctx: PeopleContext) {
  const { ECSClient } = await import('@aws-sdk/client-ecs');
  return new ECSClient(sdkConfig(ctx.settings));
}

/** An API refusal or an unreachable server, said as what to do. */
export function explain(error: unknown, ctx: PeopleContext): Error {
  const e = error as { name?: string; message?: string; code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH') {
    return new CliUsageError(`cannot reach berth at ${ctx.settings.endpoint} (${code}): is \`berth server\` (or \`berth up\`) running? Give --endpoint if it listens elsewhere.`);
  }
  if (e.name === 'UnrecognizedClientException' || e.name === 'InvalidSignatureException' || e.name === 'CredentialsProviderError') {
    return new CliUsageError(`berth refused the credentials (${e.name}): set AWS_PROFILE/AWS_SHARED_CREDENTIALS_FILE to berth's credentials file, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.`);
  }
  if (e.name === 'ClusterNotFoundException') return new CliUsageError(`cluster '${ctx.settings.cluster}' not found: \`aws ecs list-clusters\` lists them; give --cluster.`);
  if (e.name === 'AccessDeniedException') return new CliUsageError(`not allowed: ${e.message ?? ''}`);
  return error instanceof Error ? error : new Error(String(error));
}

export { CliUsageError };
