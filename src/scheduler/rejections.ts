/**
 * Why an instance cannot take a task, as the reason strings ECS puts in RunTask's `failures`. The order is the
 * order of the feasibility pipeline (ECS checks the agent, the task's required attributes and resources
 * before constraints): an instance turned down later in it came closer, which is how the "closest matching"
 * instance of a failure message is chosen.
 */
export const rejections = [
  'AGENT',
  'ATTRIBUTE',
  'RESOURCE:CPU',
  'RESOURCE:MEMORY',
  'RESOURCE:PORTS',
  'MemberOf placement constraint unsatisfied.',
  'DistinctInstance placement constraint unsatisfied.',
] as const;
export type Rejection = (typeof rejections)[number];

/** A failure's reason: an instance's rejection, or that there was no instance to consider at all. */
export type PlacementFailureReason = Rejection | 'NO_INSTANCES';

/** Position in the pipeline, 1-based so that 0 can mean "accepted" in a typed array. */
export const rejectionCode = (r: Rejection): number => rejections.indexOf(r) + 1;
export const rejectionOf = (code: number): Rejection => rejections[code - 1]!;

export const ACCEPTED = 0;

/** How ECS words each reason about the closest matching instance (its service events and failure details). */
const closestPhrases: Record<Rejection, string> = {
  AGENT: 'encountered error "AGENT".',
  ATTRIBUTE: 'is missing an attribute required by your task',
  'RESOURCE:CPU': 'has insufficient CPU units available.',
  'RESOURCE:MEMORY': 'has insufficient memory available.',
  'RESOURCE:PORTS': 'is already using a port required by your task.',
  'MemberOf placement constraint unsatisfied.': 'did not match the placement constraints',
  'DistinctInstance placement constraint unsatisfied.': 'did not match the placement constraints',
};

const REQUIREMENTS = 'no container instance met all of its requirements.';

/**
 * The message for a task that could not be placed, to follow "(service x) was unable to place a task because"
 * or stand alone. `detail` names the attribute or constraint when the reason has one.
 */
export function failureMessage(reason: PlacementFailureReason, closestId?: string, detail?: string): string {
  if (reason === 'NO_INSTANCES' || closestId === undefined) return `${REQUIREMENTS} Reason: No Container Instances were found in your cluster.`;
  const phrase = closestPhrases[reason];
  const sentence = phrase.endsWith('.') ? phrase : `${phrase}${detail ? ` (${detail})` : ''}.`;
  return `${REQUIREMENTS} The closest matching (container-instance ${closestId}) ${sentence}`;
}
