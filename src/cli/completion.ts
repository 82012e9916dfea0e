/**
 * `berth completion bash|zsh`: a completion script made from the commands and options the program defines, so
 * it never falls behind them. Subcommands, their options, the values of options that have a fixed set (`-o
 * table|json`, `--log-format`), the names of services and tasks for a first argument named `<service>` or `<task>`
 * (asked of the server with the hidden `berth __complete`, complete-names.ts, given the line's --endpoint, --region
 * and --cluster), file names elsewhere. zsh loads the same function through bashcompinit.
 */
import { Command, Option } from 'commander';
import { COMPLETE_COMMAND, nameKindOf, type NameKind } from './complete-names.js';

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

interface CommandModel {
  readonly name: string;
  readonly flags: string[];
  /** Option flag → its values. */
  readonly choices: Record<string, readonly string[]>;
  /** The flags that take a value (the word after them is not an argument). */
  readonly valued: string[];
  /** What the first argument names, when the server can list them. */
  readonly names?: NameKind;
}

/** What the script needs of the program (pure). */
export function completionModel(program: Command): CommandModel[] {
  return program.commands
    .filter((c) => c.name() !== 'help' && c.name() !== COMPLETE_COMMAND)
    .map((c) => {
      const options = (c.options as readonly Option[]).filter((o) => !o.hidden);
      const flags = [...options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)), '--help'];
      const choices: Record<string, readonly string[]> = {};
      for (const o of options) {
        if (!o.argChoices) continue;
        for (const f of [o.long, o.short]) if (f !== undefined) choices[f] = o.argChoices;
      }
      const valued = options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));
      const names = nameKindOf(c.registeredArguments[0]?.name());
      return { name: c.name(), flags, choices, valued, ...(names ? { names } : {}) };
    });
}

const words = (list: readonly string[]) => list.join(' ');

/** The bash function `_berth` and its registration. */
export function bashScript(program: Command): string {
  const model = completionModel(program);
  const perCommand = model
    .map((c) => {
      const values = Object.entries(c.choices).map(([flag, values]) => `        ${flag}) COMPREPLY=($(compgen -W "${words(values)}" -- "$cur")); return ;;`);
      const names = c.names ? [`      names=${c.names} valued="${words(c.valued)}"`] : [];
      return [`    ${c.name})`, `      opts="${words(c.flags)}"`, ...names, ...(values.length ? ['      case "$prev" in', ...values, '      esac'] : []), '      ;;'].join('\n');
    })
    .join('\n');
  return `# berth completion for bash: \`source <(berth completion bash)\`, or save it in /etc/bash_completion.d/berth
# Whether the word being completed is the command's first argument (flags and their values skipped).
_berth_first_argument() {
  local i n=0 valued=" $1 "
  for ((i = 2; i < COMP_CWORD; i++)); do
    if [[ "\${COMP_WORDS[i]}" == -* ]]; then
      if [[ "\${COMP_WORDS[i]}" != *=* && "$valued" == *" \${COMP_WORDS[i]} "* ]]; then
        i=$((i + 1))
        [ "$i" -ge "$COMP_CWORD" ] && return 1
      fi
    else
      n=$((n + 1))
    fi
  done
  [ "$n" -eq 0 ]
}
# The server's service names or task ids (berth __complete, silent and quick when it cannot answer).
_berth_names() {
  local i args=()
  for ((i = 2; i < COMP_CWORD - 1; i++)); do
    case "\${COMP_WORDS[i]}" in
      --endpoint|--region|--cluster) args+=("\${COMP_WORDS[i]}" "\${COMP_WORDS[i+1]}") ;;
    esac
  done
  "\${COMP_WORDS[0]}" ${COMPLETE_COMMAND} "$1" "\${args[@]}" 2>/dev/null
}
_berth() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" opts="" names="" valued=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${words(model.map((c) => c.name))} help --help --version" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${perCommand}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [ -n "$names" ] && _berth_first_argument "$valued"; then
    COMPREPLY=($(compgen -W "$(_berth_names "$names")" -- "$cur"))
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
