import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from './api.js';
import { logsClient } from './logs-api.js';
import { useSession } from './session.js';

/** Lines kept on the page per container; older ones scroll away. */
const KEPT_LINES = 1_000;
const TAIL_MS = 2_000;

/**
 * A container's output as it is written: the last 100 events, then GetLogEvents with the forward token every two
 * seconds while the task runs (once more after it stops). A stream that does not exist yet is "no output yet".
 */
export function LogTail({ container, group, stream, live }: { container: string; group: string; stream: string; live: boolean }) {
  const { session } = useSession();
  const [lines, setLines] = useState<{ key: string; text: string }[]>([]);
  const [note, setNote] = useState<string | undefined>('Reading…');
  const token = useRef<string | undefined>(undefined);
  const box = useRef<HTMLPreElement>(null);
  const liveRef = useRef(live);
  liveRef.current = live;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let seq = 0;
    const read = async () => {
      try {
        const out = await logsClient(session).send(
          new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, ...(token.current ? { nextToken: token.current } : { startFromHead: false, limit: 100 }) }),
        );
        if (stopped) return;
        token.current = out.nextForwardToken ?? token.current;
        const events = out.events ?? [];
        if (events.length) {
          const box_ = box.current;
          const atBottom = !box_ || box_.scrollTop + box_.clientHeight >= box_.scrollHeight - 4;
          setLines((old) => [...old, ...events.map((e) => ({ key: `${seq++}`, text: e.message ?? '' }))].slice(-KEPT_LINES));
          if (atBottom) requestAnimationFrame(() => box.current && (box.current.scrollTop = box.current.scrollHeight));
        }
        setNote(undefined);
      } catch (error) {
        if (stopped) return;
        const { name, message } = describeError(error);
        setNote(name === 'ResourceNotFoundException' ? 'No output yet.' : `Could not read the log: ${name}: ${message}`);
      }
      if (!stopped && liveRef.current) timer = setTimeout(() => void read(), TAIL_MS);
    };
    void read();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [session, group, stream, live]);

  const id = `log-${container}`;
  return (
    <div class="log-tail">
      <h3 id={`${id}-h`}>
        {container} <span class="muted">({group} · {stream})</span>
      </h3>
      {note ? <p class="muted">{note}</p> : null}
      <pre class="log" ref={box} aria-labelledby={`${id}-h`} aria-live="off" tabIndex={0} data-testid={id}>
        {lines.map((l) => l.text).join('\n')}
      </pre>
    </div>
  );
}
