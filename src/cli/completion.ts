/**
 * `berth completion bash|zsh`: a completion script made from the commands and options the program defines, so
 * it never falls behind them. Subcommands, their options, the values of options that have a fixed set (`-o
 * table|json`, `--log-format`), file names elsewhere. zsh loads the same function through bashcompinit.
 */
import { Command, Option } from 'commander';

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

interface CommandModel {
  readonly name: string;
  readonly flags: string[];
  /** Option flag → its values. */
  readonly choices: Record<string, readonly string[]>;
}

/** What the script needs of the program (pure). */
export function completionModel(program: Command): CommandModel[] {
  return program.commands
    .filter((c) => c.name() !== 'help')
    .map((c) => {
      const options = (c.options as readonly Option[]).filter((o) => !o.hidden);
      const flags = [...options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)), '--help'];
      const choices: Record<string, readonly string[]> = {};
      for (const o of options) {
        if (!o.argChoices) continue;
        for (const f of [o.long, o.short]) if (f !== undefined) choices[f] = o.argChoices;
      }
      return { name: c.name(), flags, choices };
    });
}

const words = (list: readonly string[]) => list.join(' ');

/** The bash function `_berth` and its registration. */
export function bashScript(program: Command): string {
  const model = completionModel(program);
  const perCommand = model
    .map((c) => {
      const values = Object.entries(c.choices).map(([flag, values]) => `        ${flag}) COMPREPLY=($(compgen -W "${words(values)}" -- "$cur")); return ;;`);
      return [`    ${c.name})`, `      opts="${words(c.flags)}"`, ...(values.length ? ['      case "$prev" in', ...values, '      esac'] : []), '      ;;'].join('\n');
    })
    .join('\n');
  return `# berth completion for bash: \`source <(berth completion bash)\`, or save it in /etc/bash_completion.d/berth
_berth() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" opts=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${words(model.map((c) => c.name))} help --help --version" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${perCommand}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _berth berth
`;
}

/** zsh: the bash function through bashcompinit. */
export function zshScript(program: Command): string {
  return `# berth completion for zsh: \`source <(berth completion zsh)\` in ~/.zshrc
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashScript(program).split('\n').slice(1).join('\n')}`;
}

/** `berth completion SHELL`; `program` is the whole CLI, given late since this command is part of it. */
export function completionCommand(program: () => Command): Command {
  return new Command('completion')
    .description('print a shell completion script: `source <(berth completion bash)` (or zsh)')
    .addArgument(new Command().createArgument('<shell>', 'bash or zsh').choices(SHELLS))
    .action((shell: Shell) => {
      process.stdout.write(shell === 'bash' ? bashScript(program()) : zshScript(program()));
    });
}
