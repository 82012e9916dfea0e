import { ListTaskDefinitionFamiliesCommand } from '@aws-sdk/client-ecs';
import { ecsClient } from '../api.js';
import { ErrorNote, Loading, PageTitle } from '../components.js';
import { usePoll } from '../poll.js';
import { BASE, href, Link } from '../router.js';
import { useSession } from '../session.js';
import { listAll } from './cluster.js';

/** Task definition families with an active revision. */
export default function FamiliesPage() {
  const { session } = useSession();
  const polled = usePoll(
    () =>
      listAll((nextToken) =>
        ecsClient(session)
          .send(new ListTaskDefinitionFamiliesCommand({ status: 'ACTIVE', nextToken }))
          .then((p) => ({ items: p.families, nextToken: p.nextToken })),
      ),
    [session],
    10_000,
  );
  return (
    <>
      <PageTitle updatedAt={polled.updatedAt}>Task definitions</PageTitle>
      <p>
        <Link href={`${BASE}/task-definitions/new`}>Register a new task definition</Link>
      </p>
      <ErrorNote error={polled.error} what="list the task definition families" />
      {!polled.data ? (
        polled.error ? null : <Loading what="families" />
      ) : polled.data.length === 0 ? (
        <p class="muted">No task definitions yet.</p>
      ) : (
        <ul class="family-list" aria-label="Families">
          {polled.data.map((f) => (
            <li key={f}>
              <Link href={href('task-definitions', f)}>{f}</Link>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
