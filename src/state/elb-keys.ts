/**
 * Where Elastic Load Balancing's records live in the Store (records in state/records/elb.ts). Load balancer and
 * target group names are unique in the Region without regard to case, so their keys hold the lower-cased name;
 * listeners and rules sit under their parent's id, so deleting a parent is one prefix range.
 */
const folded = (name: string) => name.toLowerCase();

export const elbKeys = {
  loadBalancer: (name: string) => `elb/load-balancers/${folded(name)}`,
  loadBalancers: () => 'elb/load-balancers/',
  targetGroup: (name: string) => `elb/target-groups/${folded(name)}`,
  targetGroups: () => 'elb/target-groups/',
  listener: (loadBalancerId: string, listenerId: string) => `elb/listeners/${loadBalancerId}/${listenerId}`,
  listenersOf: (loadBalancerId: string) => `elb/listeners/${loadBalancerId}/`,
  listeners: () => 'elb/listeners/',
  rule: (listenerId: string, ruleId: string) => `elb/rules/${listenerId}/${ruleId}`,
  rulesOf: (listenerId: string) => `elb/rules/${listenerId}/`,
  /** One record with every target of a target group (and its health). */
  targets: (targetGroupId: string) => `elb/targets/${targetGroupId}`,
  allTargets: () => 'elb/targets/',
} as const;
