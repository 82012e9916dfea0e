import { PageTitle } from '../components.js';
import { TaskDefinitionEditor } from '../editor.js';
import { BASE, href, Link, navigate } from '../router.js';

const TEMPLATE = JSON.stringify(
  {
    family: 'my-app',
    networkMode: 'bridge',
    containerDefinitions: [{ name: 'app', image: 'busybox:latest', memory: 64, essential: true, command: ['sh', '-c', 'echo hello; sleep 3600'] }],
  },
  null,
  2,
);

/** Register a task definition from JSON, starting from a small example. */
export default function NewTaskDefinitionPage() {
  return (
    <>
      <PageTitle kicker={<Link href={`${BASE}/task-definitions`}>Task definitions</Link>}>New task definition</PageTitle>
      <TaskDefinitionEditor initial={TEMPLATE} onRegistered={(family, revision) => navigate(`${href('task-definitions', family)}?revision=${revision}`)} />
    </>
  );
}
