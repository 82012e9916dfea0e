import {
  DeleteServiceCommand,
  ListServiceDeploymentsCommand,
  ListTaskDefinitionsCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import { useState } from 'preact/hooks';
import { OutcomeNote, useAction } from '../action.js';
import { ecsClient } from '../api.js';
import { taskDefinitionName } from '../format.js';
import { usePoll } from '../poll.js';
import { href, navigate } from '../router.js';
import { useSession } from '../session.js';

/**
 * What a person does to a service: scale, update to a revision, force a new deployment, roll back the deployment in
 * progress (StopServiceDeployment), delete. Each is the API call itself, signed like every other; a refusal is shown
 * as the API worded it.
 */
export function ServiceActions({ cluster, service, onDone }: { cluster: string; service: Service; onDone: () => void }) {
  const { session } = useSession();
  const { busy, outcome, run } = useAction();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const name = service.serviceName!;
  const family = taskDefinitionName(service.taskDefinition).split(':')[0] ?? '';
  const choices = usePoll(
    async () => {
      const ecs = ecsClient(session);
      const [revisions, inProgress] = await Promise.all([
        ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status: 'ACTIVE', sort: 'DESC', maxResults: 50 })).then((o) => (o.taskDefinitionArns ?? []).map(taskDefinitionName).filter((n) => n.startsWith(`${family}:`))),
        ecs
          .send(new ListServiceDeploymentsCommand({ cluster, service: name, status: ['PENDING', 'IN_PROGRESS'] }))
          .then((o) => o.serviceDeployments ?? [])
          .catch(() => []),
      ]);
      return { revisions, inProgress };
    },
    [session, cluster, name, family],
  );

  const act = (call: () => Promise<unknown>, done: string, after?: () => void) =>
    run(
      async () => {
        await call();
        return done;
      },
      () => {
        onDone();
        choices.refresh();
        after?.();
      },
    );
  const update = (input: { desiredCount?: number; forceNewDeployment?: boolean; taskDefinition?: string }, done: string) =>
    act(() => ecsClient(session).send(new UpdateServiceCommand({ cluster, service: name, ...input })), done);

  const scale = (e: Event) => {
    e.preventDefault();
    const value = Number(new FormData(e.currentTarget as HTMLFormElement).get('desiredCount'));
    void update({ desiredCount: value }, `Desired count set to ${value}.`);
  };
  const toRevision = (e: Event) => {
    e.preventDefault();
    const taskDefinition = String(new FormData(e.currentTarget as HTMLFormElement).get('taskDefinition'));
    void update({ taskDefinition }, `Updating to ${taskDefinition}.`);
  };
  const current = taskDefinitionName(service.taskDefinition);
  const rollout = choices.data?.inProgress[0];

  return (
    <div class="actions" aria-label="Service actions" role="group">
      <form class="inline-form" onSubmit={scale}>
        <label>
          Desired count
          <input name="desiredCount" type="number" min={0} step={1} required defaultValue={String(service.desiredCount ?? 0)} key={service.desiredCount} />
        </label>
        <button type="submit" disabled={busy}>
          Scale
        </button>
      </form>
      <form class="inline-form" onSubmit={toRevision}>
        <label>
          Task definition revision
          <select name="taskDefinition" key={`${current}-${choices.data?.revisions.join()}`} defaultValue={current}>
            {(choices.data?.revisions ?? [current]).map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy}>
          Update
        </button>
      </form>
      <button type="button" disabled={busy} onClick={() => void update({ forceNewDeployment: true }, 'A new deployment was started.')}>
        Force new deployment
      </button>
      {rollout?.serviceDeploymentArn ? (
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void act(() => ecsClient(session).send(new StopServiceDeploymentCommand({ serviceDeploymentArn: rollout.serviceDeploymentArn!, stopType: 'ROLLBACK' })), 'Rolling back to the last completed deployment.')
          }
        >
          Roll back the deployment in progress
        </button>
      ) : null}
      {confirmDelete ? (
        <span class="inline-form" role="group" aria-label="Confirm deleting the service">
          <span>Delete service {name} and stop its tasks?</span>
          <button
            type="button"
            class="danger"
            disabled={busy}
            onClick={() => void act(() => ecsClient(session).send(new DeleteServiceCommand({ cluster, service: name, force: true })), `Service ${name} is being deleted.`, () => navigate(href('clusters', cluster)))}
          >
            Delete
          </button>
          <button type="button" onClick={() => setConfirmDelete(false)}>
            Cancel
          </button>
        </span>
      ) : (
        <button type="button" class="danger" disabled={busy || service.status !== 'ACTIVE'} onClick={() => setConfirmDelete(true)}>
          Delete service…
        </button>
      )}
      <OutcomeNote outcome={outcome} />
    </div>
  );
}
