import { ExecuteCommandCommand } from '@aws-sdk/client-ecs';
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, ecsClient } from './api.js';
import { ExecClient, streamUrlFor, type ExecEnd } from './exec-client.js';
import { useSession } from './session.js';

/*
 * ECS Exec's terminal in the page: xterm.js (loaded with this module only when a terminal is opened, exec-section.tsx),
 * a signed ExecuteCommand through the SDK, then the session's stream from the browser (exec-client.ts). Keystrokes go
 * out as input, the terminal's size as `resize` whenever it changes (the box follows the page's width and can be
 * dragged taller), output is written to it, and the end is shown: the exit code, or why there is none.
 */

type Phase = { readonly phase: 'starting' } | { readonly phase: 'open' } | { readonly phase: 'ended'; readonly end: ExecEnd } | { readonly phase: 'refused'; readonly error: unknown };

const encoder = new TextEncoder();

/** Ctrl+] leaves the terminal (Tab belongs to the shell there), as telnet's escape key leaves its session. */
const isLeaveKey = (e: KeyboardEvent) => e.type === 'keydown' && e.ctrlKey && !e.altKey && !e.metaKey && (e.key === ']' || e.code === 'BracketRight');

export interface ExecTerminalProps {
  readonly cluster: string;
  readonly taskArn: string;
  readonly container: string;
  readonly command: string;
  /** False once the task stops: the session is closed from here too (the server closes it as well). */
  readonly live: boolean;
  /** Where focus goes when the person leaves the terminal with Ctrl+]. */
  readonly onLeave: () => void;
}

export default function ExecTerminal({ cluster, taskArn, container, command, live, onLeave }: ExecTerminalProps) {
  const { session } = useSession();
  const box = useRef<HTMLDivElement>(null);
  const client = useRef<ExecClient | undefined>(undefined);
  const leave = useRef(onLeave);
  leave.current = onLeave;
  const [phase, setPhase] = useState<Phase>({ phase: 'starting' });
  const [size, setSize] = useState<{ cols: number; rows: number } | undefined>(undefined);

  useEffect(() => {
    const term = new Terminal({ cursorBlink: true, fontSize: 13, fontFamily: "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace", scrollback: 5_000 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box.current!);
    term.textarea?.setAttribute('aria-label', `Terminal input, container ${container}`);
    term.attachCustomKeyEventHandler((e) => {
      if (!isLeaveKey(e)) return true;
      e.preventDefault();
      leave.current();
      return false;
    });
    fit.fit();
    setSize({ cols: term.cols, rows: term.rows });
    let disposed = false;
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(box.current!);
    term.onResize(({ cols, rows }) => {
      setSize({ cols, rows });
      client.current?.resize(cols, rows);
    });
    term.onData((d) => client.current?.input(encoder.encode(d)));
    // Some mouse reports come as bytes in a string (one char each), not as UTF-16 text.
    term.onBinary((d) => client.current?.input(Uint8Array.from(d, (c) => c.charCodeAt(0) & 0xff)));

    const start = async () => {
      const answer = await ecsClient(session).send(new ExecuteCommandCommand({ cluster, task: taskArn, container, command, interactive: true }));
      const granted = answer.session;
      if (!granted?.streamUrl || !granted.tokenValue) throw new Error('ExecuteCommand answered without a session');
      if (disposed) return;
      client.current = new ExecClient(streamUrlFor(granted.streamUrl, location.protocol), granted.tokenValue, { cols: term.cols, rows: term.rows }, {
        output: (data) => term.write(data),
        ended: (end) => {
          if (disposed) return;
          setPhase({ phase: 'ended', end });
          term.options.disableStdin = true;
          term.options.cursorBlink = false;
        },
      });
      setPhase({ phase: 'open' });
      term.focus();
    };
    start().catch((error: unknown) => !disposed && setPhase({ phase: 'refused', error }));

    return () => {
      disposed = true;
      observer.disconnect();
      client.current?.close('the terminal was closed');
      client.current = undefined;
      term.dispose();
    };
  }, [session, cluster, taskArn, container, command]);

  useEffect(() => {
    if (!live) client.current?.close('the task stopped: the session is closed');
  }, [live]);

  const id = `exec-${container}`;
  return (
    <div class="exec-terminal">
      <div
        class="exec-screen"
        ref={box}
        role="group"
        aria-label={`Terminal: ${command} in container ${container}`}
        aria-describedby={`${id}-keys`}
        data-testid={`terminal-${container}`}
        data-cols={size?.cols}
        data-rows={size?.rows}
      />
      <p class="muted" id={`${id}-keys`}>
        Keys go to the command, Tab included; <kbd>Ctrl</kbd>+<kbd>]</kbd> leaves the terminal.
      </p>
      <PhaseNote phase={phase} id={id} />
    </div>
  );
}

function PhaseNote({ phase, id }: { phase: Phase; id: string }) {
  switch (phase.phase) {
    case 'starting':
      return (
        <p class="muted" role="status" data-testid={`${id}-status`}>
          Starting the session…
        </p>
      );
    case 'open':
      return (
        <p class="muted" role="status" data-testid={`${id}-status`}>
          Connected.
        </p>
      );
    case 'ended':
      return 'exitCode' in phase.end ? (
        <p role="status" data-testid={`${id}-status`} data-exit-code={phase.end.exitCode}>
          The session ended: exit code <strong>{phase.end.exitCode}</strong>.
        </p>
      ) : (
        <p role="alert" data-testid={`${id}-status`}>
          The session ended without an exit code: {phase.end.error}.
        </p>
      );
    case 'refused': {
      const { name, message } = describeError(phase.error);
      return (
        <p role="alert" data-testid={`${id}-status`}>
          Could not start the session: {name}: {message}
        </p>
      );
    }
  }
}
