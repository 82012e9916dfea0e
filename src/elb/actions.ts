import type { ElbAction, LoadBalancerType } from '../state/records/elb.js';
import { parseTargetGroupArn } from './arns.js';
import { elbErrors } from './errors.js';

/**
 * Listener and rule actions: `forward` (one TargetGroupArn, or ForwardConfig with up to 5 weighted target groups
 * and group stickiness), `fixed-response` and `redirect` (Application Load Balancers only). Authentication
 * actions need an identity provider berth does not have and are refused. What is stored is the action as
 * DescribeListeners/DescribeRules show it: a forward carries both forms, a redirect its defaulted components.
 */

export interface ActionInput {
  readonly Type?: string;
  readonly TargetGroupArn?: string;
  readonly Order?: number;
  readonly ForwardConfig?: {
    readonly TargetGroups?: readonly { readonly TargetGroupArn?: string; readonly Weight?: number }[];
    readonly TargetGroupStickinessConfig?: { readonly Enabled?: boolean; readonly DurationSeconds?: number };
  };
  readonly RedirectConfig?: {
    readonly Protocol?: string;
    readonly Port?: string;
    readonly Host?: string;
    readonly Path?: string;
    readonly Query?: string;
    readonly StatusCode?: string;
  };
  readonly FixedResponseConfig?: { readonly MessageBody?: string; readonly StatusCode?: string; readonly ContentType?: string };
}

export interface CheckedActions {
  readonly actions: ElbAction[];
  /** Every target group the actions forward to (distinct). */
  readonly targetGroupArns: string[];
}

const TERMINAL = ['forward', 'redirect', 'fixed-response'] as const;
const CONTENT_TYPES = ['text/plain', 'text/css', 'text/html', 'application/javascript', 'application/json'];

/** Check `input` for a listener or rule of a `type` load balancer and normalize it. */
export function checkActions(input: readonly ActionInput[], type: LoadBalancerType): CheckedActions {
  if (input.length === 0) throw elbErrors.validation('At least one action must be specified');
  const actions: ElbAction[] = [];
  const targetGroupArns = new Set<string>();
  const orders = new Set<number>();
  for (const action of input) {
    const t = action.Type;
    if (t === 'authenticate-oidc' || t === 'authenticate-cognito' || t === 'jwt-validation') {
      throw elbErrors.invalidAction(`berth does not support '${t}' actions: it has no identity provider`);
    }
    if (t === undefined || !(TERMINAL as readonly string[]).includes(t)) throw elbErrors.validation(`Action type '${String(t)}' is not valid`);
    if (type === 'network' && t !== 'forward') throw elbErrors.invalidAction(`Action type '${t}' must be one of 'forward' for a Network Load Balancer`);
    if (action.Order !== undefined) {
      if (orders.has(action.Order)) throw elbErrors.validation(`Action order '${action.Order}' must be unique`);
      orders.add(action.Order);
    }
    const order = action.Order !== undefined ? { Order: action.Order } : {};
    if (t === 'forward') {
      const forwarded = forward(action);
      for (const tuple of forwarded.ForwardConfig.TargetGroups) targetGroupArns.add(tuple.TargetGroupArn);
      actions.push({ Type: t, ...order, ...forwarded });
    } else if (t === 'redirect') {
      actions.push({ Type: t, ...order, RedirectConfig: redirect(action) });
    } else {
      actions.push({ Type: t, ...order, FixedResponseConfig: fixedResponse(action) });
    }
  }
  // Only the last action (by order) may be terminal, and berth serves only terminal actions: one per list.
  if (actions.length > 1) throw elbErrors.invalidAction('Only one forward, redirect or fixed-response action can be specified');
  return { actions, targetGroupArns: [...targetGroupArns] };
}

function forward(action: ActionInput): { TargetGroupArn?: string; ForwardConfig: { TargetGroups: { TargetGroupArn: string; Weight: number }[]; TargetGroupStickinessConfig: object } } {
  const config = action.ForwardConfig;
  const listed = config?.TargetGroups;
  if (action.TargetGroupArn === undefined && (listed === undefined || listed.length === 0)) {
    throw elbErrors.validation("A target group ARN must be specified for a 'forward' action");
  }
  if (listed !== undefined && listed.length > 5) throw elbErrors.validation('A forward action can have at most 5 target groups');
  const tuples: { TargetGroupArn: string; Weight: number }[] = [];
  for (const g of listed ?? []) {
    if (g.TargetGroupArn === undefined) throw elbErrors.validation('A target group ARN must be specified in the forward configuration');
    parseTargetGroupArn(g.TargetGroupArn);
    if (g.Weight !== undefined && (g.Weight < 0 || g.Weight > 999)) throw elbErrors.validation(`Target group weight '${g.Weight}' must be from 0 to 999`);
    if (tuples.some((t) => t.TargetGroupArn === g.TargetGroupArn)) throw elbErrors.validation(`Target group '${g.TargetGroupArn}' is specified more than once`);
    tuples.push({ TargetGroupArn: g.TargetGroupArn, Weight: g.Weight ?? 1 });
  }
  if (action.TargetGroupArn !== undefined) {
    parseTargetGroupArn(action.TargetGroupArn);
    if (tuples.length === 0) tuples.push({ TargetGroupArn: action.TargetGroupArn, Weight: 1 });
    else if (tuples.length !== 1 || tuples[0]!.TargetGroupArn !== action.TargetGroupArn) {
      throw elbErrors.validation('You cannot specify a target group ARN outside the forward configuration when it lists other target groups');
    }
  }
  const sticky = config?.TargetGroupStickinessConfig;
  if (sticky?.Enabled === true && sticky.DurationSeconds === undefined) throw elbErrors.validation('A stickiness duration must be specified when target group stickiness is enabled');
  if (sticky?.DurationSeconds !== undefined && (sticky.DurationSeconds < 1 || sticky.DurationSeconds > 604800)) {
    throw elbErrors.validation(`Target group stickiness duration '${sticky.DurationSeconds}' must be from 1 to 604800 seconds`);
  }
  const stickiness = sticky?.Enabled === true ? { Enabled: true, DurationSeconds: sticky.DurationSeconds } : { Enabled: false };
  return {
    ...(tuples.length === 1 ? { TargetGroupArn: tuples[0]!.TargetGroupArn } : {}),
    ForwardConfig: { TargetGroups: tuples, TargetGroupStickinessConfig: stickiness },
  };
}

function redirect(action: ActionInput): Record<string, string> {
  const c = action.RedirectConfig;
  if (!c?.StatusCode) throw elbErrors.validation("A redirect configuration with a status code must be specified for a 'redirect' action");
  const out = {
    Protocol: c.Protocol ?? '#{protocol}',
    Port: c.Port ?? '#{port}',
    Host: c.Host ?? '#{host}',
    Path: c.Path ?? '/#{path}',
    Query: c.Query ?? '#{query}',
    StatusCode: c.StatusCode,
  };
  if (!['HTTP', 'HTTPS', '#{protocol}'].includes(out.Protocol)) throw elbErrors.validation(`Redirect protocol '${out.Protocol}' must be 'HTTP', 'HTTPS' or '#{protocol}'`);
  if (!out.Path.startsWith('/')) throw elbErrors.validation(`Redirect path '${out.Path}' must start with '/'`);
  if (out.Protocol === '#{protocol}' && out.Port === '#{port}' && out.Host === '#{host}' && out.Path === '/#{path}' && out.Query === '#{query}') {
    throw elbErrors.invalidAction('The redirect must change at least one of protocol, port, host, path or query, or it would loop');
  }
  return out;
}

function fixedResponse(action: ActionInput): Record<string, string> {
  const c = action.FixedResponseConfig;
  if (!c?.StatusCode) throw elbErrors.validation("A fixed-response configuration with a status code must be specified for a 'fixed-response' action");
  if (c.ContentType !== undefined && !CONTENT_TYPES.includes(c.ContentType)) {
    throw elbErrors.validation(`Fixed-response content type '${c.ContentType}' must be one of ${CONTENT_TYPES.join(', ')}`);
  }
  return { StatusCode: c.StatusCode, ...(c.ContentType !== undefined ? { ContentType: c.ContentType } : {}), ...(c.MessageBody !== undefined ? { MessageBody: c.MessageBody } : {}) };
}

/** The target groups stored actions forward to. */
export function forwardedTargetGroups(actions: readonly ElbAction[]): string[] {
  const out = new Set<string>();
  for (const a of actions) {
    const config = a.ForwardConfig as { TargetGroups?: { TargetGroupArn: string }[] } | undefined;
    for (const t of config?.TargetGroups ?? []) out.add(t.TargetGroupArn);
  }
  return [...out];
}
