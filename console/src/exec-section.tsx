import type { Task } from '@aws-sdk/client-ecs';
import type { FunctionComponent } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { DEFAULT_EXEC_COMMAND } from '../../src/model/exec-stream.js';
import { describeError } from './api.js';
import type { ExecTerminalProps } from './exec-terminal.js';

/*
 * The task page's ECS Exec section: per running container, a command (a shell by default, as `berth exec`) and a
 * button that opens a terminal. The terminal's module and xterm.js are loaded only then (a chunk of their own), so
 * pages that never open one do not fetch them.
 */

let terminalModule: Promise<FunctionComponent<ExecTerminalProps>> | undefined;
const loadTerminal = () => (terminalModule ??= import('./exec-terminal.js').then((m) => m.default));

export function ExecSection({ cluster, task }: { cluster: string; task: Task }) {
  const running = task.lastStatus === 'RUNNING' && task.desiredStatus === 'RUNNING';
  if (!task.enableExecuteCommand) {
    return (
      <p class="muted" data-testid="exec-disabled">
        ECS Exec is not enabled for this task: run it (or its service's tasks) with <code>enableExecuteCommand</code> to open a terminal in its containers.
      </p>
    );
  }
  return (
    <>
      {(task.containers ?? []).map((c) => (
        <ContainerExec key={c.name} cluster={cluster} taskArn={task.taskArn!} container={c.name ?? ''} running={running && c.lastStatus === 'RUNNING'} taskLive={task.lastStatus !== 'STOPPED' && task.desiredStatus !== 'STOPPED'} />
      ))}
    </>
  );
}

function ContainerExec({ cluster, taskArn, container, running, taskLive }: { cluster: string; taskArn: string; container: string; running: boolean; taskLive: boolean }) {
  const [open, setOpen] = useState<{ command: string; Terminal: FunctionComponent<ExecTerminalProps>; seq: number } | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(false);
  const closeButton = useRef<HTMLButtonElement>(null);
  const id = `exec-${container}`;

  const start = (e: Event) => {
    e.preventDefault();
    const command = String(new FormData(e.currentTarget as HTMLFormElement).get('command') ?? '').trim() || DEFAULT_EXEC_COMMAND;
    setLoading(true);
    setLoadError(undefined);
    loadTerminal()
      .then((Terminal) => setOpen((old) => ({ command, Terminal, seq: (old?.seq ?? 0) + 1 })))
      .catch((error: unknown) => {
        terminalModule = undefined;
        setLoadError(error);
      })
      .finally(() => setLoading(false));
  };

  return (
    <div class="exec-container">
      <h3 id={`${id}-h`}>{container}</h3>
      {open ? (
        <>
          <div class="actions">
            <button type="button" ref={closeButton} onClick={() => setOpen(undefined)}>
              Close terminal ({container})
            </button>
          </div>
          <open.Terminal key={open.seq} cluster={cluster} taskArn={taskArn} container={container} command={open.command} live={taskLive} onLeave={() => closeButton.current?.focus()} />
        </>
      ) : running ? (
        <form class="actions inline-form" onSubmit={start} aria-labelledby={`${id}-h`}>
          <label>
            Command
            <input name="command" defaultValue={DEFAULT_EXEC_COMMAND} spellcheck={false} autoComplete="off" />
          </label>
          <button type="submit" disabled={loading}>
            Open terminal ({container})
          </button>
          {loadError ? <span role="alert">Could not load the terminal: {describeError(loadError).message}</span> : null}
        </form>
      ) : (
        <p class="muted">The container is not running: a terminal opens only in a running container.</p>
      )}
    </div>
  );
}
