import { DescribeLogStreamsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { describeError } from '../api.js';
import { ErrorNote, Loading, PageTitle, Section, Table } from '../components.js';
import { logsClient } from '../logs-api.js';
import { usePoll } from '../poll.js';
import { BASE, href, Link, navigate } from '../router.js';
import { useSession } from '../session.js';

/** Events shown for a filter: the newest page FilterLogEvents gives, up to this many. */
const FILTER_LIMIT = 200;

/**
 * One log group: its streams, most recently written first, and FilterLogEvents over the group or one stream with a
 * filter pattern (`?stream=…&pattern=…`, a shareable search). Re-read every 5 s.
 */
export default function LogGroupPage({ params, query }: { params: { group?: string }; query: URLSearchParams }) {
  const group = params.group!;
  const stream = query.get('stream') ?? '';
  const pattern = query.get('pattern') ?? '';
  const { session } = useSession();
  const polled = usePoll(
    async () => {
      const logs = logsClient(session);
      const [streams, events] = await Promise.all([
        logs.send(new DescribeLogStreamsCommand({ logGroupName: group, orderBy: 'LastEventTime', descending: true, limit: 50 })).then((o) => o.logStreams ?? []),
        logs
          .send(new FilterLogEventsCommand({ logGroupName: group, ...(stream ? { logStreamNames: [stream] } : {}), ...(pattern ? { filterPattern: pattern } : {}), limit: FILTER_LIMIT }))
          .then((o) => ({ events: o.events ?? [], error: undefined as string | undefined }))
          .catch((error: unknown) => {
            const { name, message } = describeError(error);
            return { events: [], error: `${name}: ${message}` };
          }),
      ]);
      return { streams, events };
    },
    [session, group, stream, pattern],
    5_000,
  );
  const search = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const q = new URLSearchParams();
    const s = String(form.get('stream') ?? '');
    const p = String(form.get('pattern') ?? '').trim();
    if (s) q.set('stream', s);
    if (p) q.set('pattern', p);
    navigate(`${href('logs', group)}${q.size ? `?${q}` : ''}`);
  };
  const data = polled.data;

  return (
    <>
      <PageTitle updatedAt={polled.updatedAt} kicker={<Link href={`${BASE}/logs`}>Log groups</Link>}>
        {group}
      </PageTitle>
      <ErrorNote error={polled.error} what={`read log group ${group}`} />
      {!data ? (
        polled.error ? null : <Loading what="the log group" />
      ) : (
        <>
          <Section title="Events" id="events">
            <form class="inline-form" onSubmit={search} role="search" key={`${stream}|${pattern}`}>
              <label>
                Stream
                <select name="stream" defaultValue={stream}>
                  <option value="">(every stream)</option>
                  {data.streams.map((s) => (
                    <option key={s.logStreamName} value={s.logStreamName}>
                      {s.logStreamName}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Filter pattern
                <input name="pattern" defaultValue={pattern} spellcheck={false} placeholder="ERROR" />
              </label>
              <button type="submit">Filter</button>
            </form>
            {data.events.error ? (
              <p class="error-note" role="alert">
                {data.events.error}
              </p>
            ) : data.events.events.length === 0 ? (
              <p class="muted">No events{pattern ? ` match ${pattern}` : ''}.</p>
            ) : (
              <pre class="log" tabIndex={0} aria-label="Matching events" data-testid="filtered-events">
                {data.events.events.map((e) => `${e.timestamp ? new Date(e.timestamp).toISOString() : ''} ${e.logStreamName ?? ''} ${e.message ?? ''}`).join('\n')}
              </pre>
            )}
          </Section>
          <Section title="Streams" id="streams">
            {data.streams.length === 0 ? (
              <p class="muted">No streams.</p>
            ) : (
              <Table caption="Log streams, most recently written first" head={['Stream', 'Last event', 'First event']}>
                {data.streams.map((s) => (
                  <tr key={s.logStreamName}>
                    <th scope="row">
                      <Link href={`${href('logs', group)}?stream=${encodeURIComponent(s.logStreamName ?? '')}`}>{s.logStreamName}</Link>
                    </th>
                    <td>{s.lastEventTimestamp ? new Date(s.lastEventTimestamp).toLocaleString() : ''}</td>
                    <td>{s.firstEventTimestamp ? new Date(s.firstEventTimestamp).toLocaleString() : ''}</td>
                  </tr>
                ))}
              </Table>
            )}
          </Section>
        </>
      )}
    </>
  );
}
