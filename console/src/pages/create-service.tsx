import { CreateServiceCommand, DescribeClustersCommand, ListTaskDefinitionsCommand } from '@aws-sdk/client-ecs';
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { describeError, ecsClient } from '../api.js';
import { ErrorNote, PageTitle } from '../components.js';
import { elbClient } from '../elb-api.js';
import { taskDefinitionName } from '../format.js';
import { usePoll } from '../poll.js';
import { href, Link, navigate } from '../router.js';
import { createServiceInput, fieldOfServiceError, type ServiceFormField, type ServiceFormValues } from '../service-form.js';
import { useSession } from '../session.js';

interface Problem {
  readonly text: string;
  readonly field: ServiceFormField | undefined;
}

/** Task definition revisions offered, newest first. */
const REVISIONS_OFFERED = 100;

/**
 * Create a service in a cluster (CreateService): name, task definition revision, desired count, launch type (or the
 * cluster's default capacity provider strategy), awsvpc subnets, a target group, the deployment circuit breaker,
 * ECS Exec. The API checks everything; its refusal is shown at the field it names (service-form.ts).
 */
export default function CreateServicePage({ params, query }: { params: { cluster?: string }; query: URLSearchParams }) {
  const cluster = params.cluster!;
  const { session } = useSession();
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [withTargetGroup, setWithTargetGroup] = useState(false);
  const choices = usePoll(
    async () => {
      const ecs = ecsClient(session);
      const [revisions, described, groups] = await Promise.all([
        ecs.send(new ListTaskDefinitionsCommand({ status: 'ACTIVE', sort: 'DESC', maxResults: REVISIONS_OFFERED })).then((o) => (o.taskDefinitionArns ?? []).map(taskDefinitionName)),
        ecs.send(new DescribeClustersCommand({ clusters: [cluster] })),
        // Target groups are optional: a key not allowed to list them can still create a service without one.
        elbClient(session)
          .send(new DescribeTargetGroupsCommand({}))
          .then((o) => o.TargetGroups ?? [])
          .catch(() => []),
      ]);
      return { revisions, strategy: described.clusters?.[0]?.defaultCapacityProviderStrategy ?? [], groups };
    },
    [session, cluster],
    10_000,
  );

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const text = (name: ServiceFormField) => String(data.get(name) ?? '');
    const values: ServiceFormValues = {
      serviceName: text('serviceName'),
      taskDefinition: text('taskDefinition'),
      desiredCount: text('desiredCount'),
      launchType: text('launchType') as ServiceFormValues['launchType'],
      subnets: text('subnets'),
      securityGroups: text('securityGroups'),
      assignPublicIp: data.get('assignPublicIp') === 'on',
      targetGroupArn: text('targetGroupArn'),
      containerName: text('containerName'),
      containerPort: text('containerPort'),
      circuitBreaker: data.get('circuitBreaker') === 'on',
      enableExecuteCommand: data.get('enableExecuteCommand') === 'on',
    };
    setBusy(true);
    setProblem(undefined);
    try {
      const out = await ecsClient(session).send(new CreateServiceCommand(createServiceInput(cluster, values)));
      navigate(href('clusters', cluster, 'services', out.service?.serviceName ?? values.serviceName.trim()));
    } catch (error) {
      const { name, message } = describeError(error);
      const field = fieldOfServiceError(message);
      setProblem({ text: `${name}: ${message}`, field });
      // Focus moves to the field the refusal is about, so the keyboard (and a screen reader) is where to fix it.
      const el = field ? form.elements.namedItem(field) : null;
      if (el instanceof HTMLElement) el.focus();
    } finally {
      setBusy(false);
    }
  };

  const invalid = (field: ServiceFormField) => (problem?.field === field ? { 'aria-invalid': true as const, 'aria-describedby': 'create-error' } : {});
  const errorAt = (field: ServiceFormField | undefined) =>
    problem && problem.field === field ? (
      <p id="create-error" class="error-note field-error" role="alert" data-field={problem.field ?? ''}>
        {problem.text}
      </p>
    ) : null;
  const strategy = choices.data?.strategy ?? [];
  const preset = query.get('taskDefinition') ?? undefined;

  return (
    <>
      <PageTitle kicker={<Link href={href('clusters', cluster)}>Cluster {cluster}</Link>}>Create a service</PageTitle>
      <ErrorNote error={choices.error} what="list the task definitions" />
      <form class="stacked-form" onSubmit={(e) => void submit(e)} aria-label={`Create a service in cluster ${cluster}`}>
        <Field label="Service name" error={errorAt('serviceName')}>
          <input name="serviceName" required maxLength={255} autoComplete="off" {...invalid('serviceName')} />
        </Field>
        <Field label="Task definition" error={errorAt('taskDefinition')}>
          <select name="taskDefinition" required key={choices.data?.revisions.join()} defaultValue={preset ?? choices.data?.revisions[0]} {...invalid('taskDefinition')}>
            {(choices.data?.revisions ?? (preset ? [preset] : [])).map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Desired count" error={errorAt('desiredCount')}>
          <input name="desiredCount" type="number" min={0} step={1} required defaultValue="1" {...invalid('desiredCount')} />
        </Field>
        <Field
          label="Launch type"
          hint={strategy.length ? `The cluster's default: ${strategy.map((s) => `${s.capacityProvider} (base ${s.base ?? 0}, weight ${s.weight ?? 0})`).join(', ')}` : 'The cluster has no default capacity provider strategy: the service runs on its EC2 instances.'}
          error={errorAt('launchType')}
        >
          <select name="launchType" defaultValue="" {...invalid('launchType')}>
            <option value="">The cluster's default capacity provider strategy</option>
            <option value="EC2">EC2</option>
            <option value="FARGATE">FARGATE</option>
            <option value="EXTERNAL">EXTERNAL</option>
          </select>
        </Field>
        <fieldset>
          <legend>Networking (awsvpc task definitions only)</legend>
          <Field label="Subnets" hint="Comma-separated subnet IDs; leave empty for bridge or host networking." error={errorAt('subnets')}>
            <input name="subnets" autoComplete="off" {...invalid('subnets')} />
          </Field>
          <Field label="Security groups" hint="Comma-separated security group IDs." error={errorAt('securityGroups')}>
            <input name="securityGroups" autoComplete="off" {...invalid('securityGroups')} />
          </Field>
          <label class="check">
            <input type="checkbox" name="assignPublicIp" {...invalid('assignPublicIp')} /> Assign a public IP
          </label>
          {errorAt('assignPublicIp')}
        </fieldset>
        <fieldset>
          <legend>Load balancing</legend>
          <Field label="Target group" error={errorAt('targetGroupArn')}>
            <select name="targetGroupArn" defaultValue="" onChange={(e) => setWithTargetGroup((e.currentTarget as HTMLSelectElement).value !== '')} {...invalid('targetGroupArn')}>
              <option value="">None</option>
              {(choices.data?.groups ?? []).map((g) => (
                <option key={g.TargetGroupArn} value={g.TargetGroupArn}>
                  {g.TargetGroupName} ({g.Protocol ?? 'TCP'} {g.Port}, {g.TargetType})
                </option>
              ))}
            </select>
          </Field>
          {withTargetGroup || problem?.field === 'containerName' || problem?.field === 'containerPort' ? (
            <>
              <Field label="Container name" error={errorAt('containerName')}>
                <input name="containerName" autoComplete="off" {...invalid('containerName')} />
              </Field>
              <Field label="Container port" error={errorAt('containerPort')}>
                <input name="containerPort" type="number" min={1} max={65535} {...invalid('containerPort')} />
              </Field>
            </>
          ) : null}
        </fieldset>
        <fieldset>
          <legend>Deployment</legend>
          <label class="check">
            <input type="checkbox" name="circuitBreaker" /> Deployment circuit breaker, rolling back a failed deployment
          </label>
          <label class="check">
            <input type="checkbox" name="enableExecuteCommand" /> Allow ECS Exec into the tasks
          </label>
        </fieldset>
        {errorAt(undefined)}
        <div>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create service'}
          </button>
        </div>
      </form>
    </>
  );
}

function Field({ label, hint, error, children }: { label: string; hint?: string; error: ComponentChildren; children: ComponentChildren }) {
  return (
    <div>
      <label>
        {label}
        {hint ? <span class="hint">{hint}</span> : null}
        {children}
      </label>
      {error}
    </div>
  );
}
