import { DescribeTaskDefinitionCommand, ListTaskDefinitionsCommand } from '@aws-sdk/client-ecs';
import { useState } from 'preact/hooks';
import { ecsClient } from '../api.js';
import { ErrorNote, Loading, PageTitle, Section, Status } from '../components.js';
import { asRegisterInput, TaskDefinitionEditor } from '../editor.js';
import { taskDefinitionName } from '../format.js';
import { usePoll } from '../poll.js';
import { BASE, href, Link, navigate } from '../router.js';
import { useSession } from '../session.js';
import { listAll } from './cluster.js';

/** A family's revisions, one revision's JSON (`?revision=N`, the latest by default), and registering the next one. */
export default function FamilyPage({ params, query }: { params: { family?: string }; query: URLSearchParams }) {
  const family = params.family!;
  const wanted = query.get('revision') ?? '';
  const { session } = useSession();
  const [editing, setEditing] = useState(false);
  const polled = usePoll(
    async () => {
      const ecs = ecsClient(session);
      const arns = await listAll((nextToken) =>
        ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, sort: 'DESC', status: 'ACTIVE', nextToken })).then((p) => ({ items: p.taskDefinitionArns, nextToken: p.nextToken })),
      );
      // familyPrefix is a prefix: keep this family's own revisions.
      const revisions = arns.map(taskDefinitionName).filter((n) => n.slice(0, n.lastIndexOf(':')) === family);
      const chosen = /^\d+$/.test(wanted) ? `${family}:${wanted}` : (revisions[0] ?? family);
      const described = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: chosen }));
      return { revisions, chosen, definition: described.taskDefinition };
    },
    [session, family, wanted],
    10_000,
  );
  const data = polled.data;

  return (
    <>
      <PageTitle updatedAt={polled.updatedAt} kicker={<Link href={`${BASE}/task-definitions`}>Task definitions</Link>}>
        {family}
      </PageTitle>
      <ErrorNote error={polled.error} what={`read task definition ${family}`} />
      {!data ? (
        polled.error ? null : <Loading what="the revisions" />
      ) : (
        <>
          <nav aria-label="Revisions">
            <ul class="revisions">
              {data.revisions.map((r) => (
                <li key={r}>
                  <Link href={`${href('task-definitions', family)}?revision=${r.slice(r.lastIndexOf(':') + 1)}`} aria-current={r === data.chosen ? 'page' : undefined}>
                    {r.slice(r.lastIndexOf(':') + 1)}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          {data.definition ? (
            <>
              <p>
                Revision {data.definition.revision} <Status value={data.definition.status} /> {data.definition.registeredAt ? <span class="muted">registered {data.definition.registeredAt.toLocaleString()}</span> : null}
              </p>
              <Section
                title={editing ? 'Register a new revision' : 'JSON'}
                id="definition"
                actions={
                  <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
                    {editing ? 'Back to the JSON view' : 'Edit as a new revision'}
                  </button>
                }
              >
                {editing ? (
                  <TaskDefinitionEditor
                    initial={asRegisterInput(data.definition as Record<string, unknown>)}
                    onRegistered={(f, revision) => {
                      setEditing(false);
                      navigate(`${href('task-definitions', f)}?revision=${revision}`);
                      polled.refresh();
                    }}
                  />
                ) : (
                  <pre class="json" tabIndex={0} aria-label={`Task definition ${data.chosen} as JSON`} data-testid="td-json-view">
                    {JSON.stringify(data.definition, null, 2)}
                  </pre>
                )}
              </Section>
            </>
          ) : null}
        </>
      )}
    </>
  );
}
