import { DescribeTaskDefinitionCommand, ListTaskDefinitionsCommand } from '@aws-sdk/client-ecs';
import { useState } from 'preact/hooks';
import { ecsClient } from '../api.js';
import { ErrorNote, Loading, PageTitle, Section, Status } from '../components.js';
import { asRegisterInput, TaskDefinitionEditor } from '../editor.js';
import { lineDiff } from '../line-diff.js';
import { taskDefinitionName } from '../format.js';
import { usePoll } from '../poll.js';
import { BASE, href, Link, navigate } from '../router.js';
import { useSession } from '../session.js';
import { listAll } from './cluster.js';

/** A family's revisions, one revision's JSON (`?revision=N`, the latest by default), and registering the next one. */
export default function FamilyPage({ params, query }: { params: { family?: string }; query: URLSearchParams }) {
  const family = params.family!;
  const wanted = query.get('revision') ?? '';
  const compare = query.get('compare') ?? '';
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
      const [described, other] = await Promise.all([
        ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: chosen })),
        /^\d+$/.test(compare) ? ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: `${family}:${compare}` })) : undefined,
      ]);
      return { revisions, chosen, definition: described.taskDefinition, other: other?.taskDefinition };
    },
    [session, family, wanted, compare],
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
              {!editing && data.revisions.length > 1 ? (
                <CompareWith family={family} revision={String(data.definition.revision ?? '')} revisions={data.revisions} compare={compare} />
              ) : null}
              <Section
                title={editing ? 'Register a new revision' : data.other ? `Changes from revision ${data.other.revision ?? ''}` : 'JSON'}
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
                ) : data.other ? (
                  <RevisionDiff before={data.other as Record<string, unknown>} after={data.definition as Record<string, unknown>} />
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

/** Choose a revision to compare the shown one with (`?compare=N`, so a comparison is a shareable URL too). */
function CompareWith({ family, revision, revisions, compare }: { family: string; revision: string; revisions: string[]; compare: string }) {
  const go = (e: Event) => {
    e.preventDefault();
    const other = String(new FormData(e.currentTarget as HTMLFormElement).get('compare') ?? '');
    navigate(`${href('task-definitions', family)}?revision=${revision}${other ? `&compare=${other}` : ''}`);
  };
  return (
    <form class="inline-form" onSubmit={go}>
      <label>
        Compare with revision
        <select name="compare" defaultValue={compare} key={compare}>
          <option value="">(no comparison)</option>
          {revisions
            .map((r) => r.slice(r.lastIndexOf(':') + 1))
            .filter((r) => r !== revision)
            .map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
        </select>
      </label>
      <button type="submit">Compare</button>
    </form>
  );
}

/** The registrable parts of two revisions as JSON, line by line: removed lines with "-", added with "+". */
function RevisionDiff({ before, after }: { before: Record<string, unknown>; after: Record<string, unknown> }) {
  const lines = lineDiff(asRegisterInput(before), asRegisterInput(after));
  const changed = lines.filter((l) => l.kind !== 'same').length;
  return (
    <>
      <p class="muted">{changed === 0 ? 'No differences in what was registered.' : `${changed} lines differ.`}</p>
      <pre class="json diff" tabIndex={0} aria-label="Differences between the revisions" data-testid="td-diff">
        {lines.map((l, i) => (
          <div key={i} class={`diff-${l.kind}`}>
            {l.kind === 'added' ? '+ ' : l.kind === 'removed' ? '- ' : '  '}
            {l.text}
          </div>
        ))}
      </pre>
    </>
  );
}
