import { DescribeLogGroupsCommand, type LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import { ErrorNote, Loading, PageTitle, Table } from '../components.js';
import { logsClient } from '../logs-api.js';
import { usePoll } from '../poll.js';
import { BASE, href, Link, navigate } from '../router.js';
import { useSession } from '../session.js';

/** Log groups (`?prefix=` narrows them), each linking to its streams and its filter. */
export default function LogGroupsPage({ query }: { query: URLSearchParams }) {
  const prefix = query.get('prefix') ?? '';
  const { session } = useSession();
  const polled = usePoll(
    async () => {
      const groups: LogGroup[] = [];
      let nextToken: string | undefined;
      do {
        const page = await logsClient(session).send(new DescribeLogGroupsCommand({ ...(prefix ? { logGroupNamePrefix: prefix } : {}), nextToken, limit: 50 }));
        groups.push(...(page.logGroups ?? []));
        nextToken = page.nextToken;
      } while (nextToken && groups.length < 500);
      return groups;
    },
    [session, prefix],
    10_000,
  );
  const search = (e: Event) => {
    e.preventDefault();
    const value = String(new FormData(e.currentTarget as HTMLFormElement).get('prefix') ?? '').trim();
    navigate(`${BASE}/logs${value ? `?prefix=${encodeURIComponent(value)}` : ''}`);
  };
  return (
    <>
      <PageTitle updatedAt={polled.updatedAt}>Log groups</PageTitle>
      <form class="inline-form" onSubmit={search} role="search">
        <label>
          Name starts with
          <input name="prefix" defaultValue={prefix} spellcheck={false} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorNote error={polled.error} what="list the log groups" />
      {!polled.data ? (
        polled.error ? null : <Loading what="log groups" />
      ) : polled.data.length === 0 ? (
        <p class="muted">No log groups{prefix ? ` starting with ${prefix}` : ''}.</p>
      ) : (
        <Table caption="Log groups" head={['Log group', 'Stored bytes', 'Retention', 'Created']}>
          {polled.data.map((g) => (
            <tr key={g.logGroupName}>
              <th scope="row">
                <Link href={href('logs', g.logGroupName ?? '')}>{g.logGroupName}</Link>
              </th>
              <td class="num">{g.storedBytes ?? 0}</td>
              <td>{g.retentionInDays ? `${g.retentionInDays} days` : 'never expires'}</td>
              <td>{g.creationTime ? new Date(g.creationTime).toLocaleString() : ''}</td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
