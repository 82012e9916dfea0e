/**
 * Renders a {@link DesiredState} as an HAProxy 2.6 configuration. Pure.
 *
 * Rules keep ELBv2's priority order whatever their action type: HAProxy runs all `http-request` rules
 * (where fixed responses and redirects live) before `use_backend`, so the first matching rule is chosen
 * by `http-request set-var(txn.berth_rule)` lines in priority order (each only if none matched before),
 * and every action then tests that variable. A forward to several weighted target groups draws one random
 * number per request (`txn.berth_r`, 0-999999) and picks by cumulative weight, each group its own backend
 * with its own health checks, stickiness and algorithm, as in ELBv2.
 *
 * Targets are named servers (`serverName`); the same arguments (`serverArgs`) serve the config file and
 * the runtime API's `add server`, which ignores `default-server`, so a target looks the same either way.
 */
import {
  parseMatcher,
  type Action,
  type DesiredState,
  type Listener,
  type RuleCondition,
  type Target,
  type TargetGroup,
} from './desired.js';

/** Where the rendered configuration binds and keeps its runtime files. */
export interface RenderOptions {
  /** The address listeners bind (`berth lb --address`). */
  readonly bindAddress: string;
  /** The runtime API's unix socket (level admin, `expose-fd listeners` for seamless reloads). */
  readonly adminSocket: string;
  /** Where servers' states are saved before a reload and loaded by the new worker. */
  readonly serverStateFile: string;
  /** Secret for dynamic stickiness cookies (the cookie value is a hash of the target's address, port and this key). */
  readonly cookieKey: string;
}

/** The ELBv2 ALB stickiness cookie's name. */
export const STICKY_COOKIE = 'AWSALB';

/** The HAProxy backend serving target group `id`. */
export function backendName(targetGroupId: string): string {
  return `tg_${safe(targetGroupId)}`;
}

/** The HAProxy server of a target (`t_10_0_0_5_32768`). */
export function serverName(t: Target): string {
  return `t_${safe(t.address)}_${t.port}`;
}

function frontendName(listenerId: string): string {
  return `l_${safe(listenerId)}`;
}

function safe(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** A config word in single quotes: HAProxy expands nothing inside them (no `$VAR`, no backslash escapes). */
export function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A log-format argument in double quotes, where `\`, `"` and `$` must be escaped. */
function quoteFormat(text: string): string {
  return `"${text.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/** An ELBv2 wildcard pattern (`*` any run, `?` one character) as an anchored regular expression. */
export function globRegex(glob: string): string {
  const body = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return `^${body}$`;
}

const seconds = (s: number) => `${s}s`;

/** The server-line arguments of a target of `tg` (health check, slow start), the same in the file and for `add server`. */
export function serverArgs(tg: TargetGroup, weight = 100): string {
  const hc = tg.healthCheck;
  const args = ['check', `inter ${seconds(hc.intervalSeconds)}`, `rise ${hc.healthyThreshold}`, `fall ${hc.unhealthyThreshold}`, `weight ${weight}`];
  if (hc.port !== 'traffic-port') args.push(`port ${hc.port}`);
  if (tg.attributes.slowStartSeconds > 0) args.push(`slowstart ${seconds(tg.attributes.slowStartSeconds)}`);
  return args.join(' ');
}

/**
 * The whole configuration file. Targets for which `unproven(tgId, target)` is true (never seen healthy)
 * are written with weight 0: HAProxy starts a configured server UP, so the driver forces their health down
 * and gives them their weight once the worker answers; they then get traffic only after passing checks.
 */
export function renderConfig(state: DesiredState, options: RenderOptions, unproven: (targetGroupId: string, t: Target) => boolean = () => false): string {
  const out: string[] = [
    '# Written by berth lb; every change is overwritten.',
    'global',
    '  master-worker',
    `  stats socket ${quote(options.adminSocket)} level admin expose-fd listeners`,
    `  server-state-file ${quote(options.serverStateFile)}`,
    // Old workers left after reloads (idle clients, long requests) end at the latest after this.
    '  hard-stop-after 10m',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    // ALB's default idle timeout.
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout http-keep-alive 60s',
    '  timeout http-request 60s',
    '  load-server-state-from-file global',
    '  option http-keep-alive',
    // On a reload the old worker answers the next request on an idle keep-alive connection with
    // `Connection: close` instead of closing it under a client that may be sending: no request lost.
    '  option idle-close-on-response',
    '',
  ];
  const byId = new Map(state.targetGroups.map((tg) => [tg.id, tg]));
  for (const lb of state.loadBalancers) {
    for (const l of lb.listeners) out.push(...(l.protocol === 'HTTP' ? httpFrontend(l, options) : tcpFrontend(l, options, byId)), '');
  }
  for (const tg of state.targetGroups) out.push(...backend(tg, options, unproven), '');
  return out.join('\n');
}

function httpFrontend(l: Listener, options: RenderOptions): string[] {
  const out = [
    `frontend ${frontendName(l.id)}`,
    '  mode http',
    `  bind ${options.bindAddress}:${l.port}`,
    '  option forwardfor',
    '  http-request set-header X-Forwarded-Proto http',
    `  http-request set-header X-Forwarded-Port ${l.port}`,
  ];
  const rules = [...l.rules].sort((a, b) => a.priority - b.priority);
  const actions: { readonly when: string; readonly action: Action }[] = [];
  if ([l.defaultAction, ...rules.map((r) => r.action)].some((a) => a.type === 'forward' && a.targetGroups.length > 1))
    out.push('  http-request set-var(txn.berth_r) rand(1000000)');
  rules.forEach((rule, i) => {
    const n = i + 1;
    const acls = rule.conditions.map((c, j) => {
      const name = `r${n}_c${j}`;
      out.push(...conditionAcls(name, c));
      return name;
    });
    out.push(`  http-request set-var(txn.berth_rule) int(${n}) if !{ var(txn.berth_rule) -m found }${acls.map((a) => ` ${a}`).join('')}`);
    actions.push({ when: `{ var(txn.berth_rule) -m int ${n} }`, action: rule.action });
  });
  actions.push({ when: '!{ var(txn.berth_rule) -m found }', action: l.defaultAction });
  // http-request actions first (they run before use_backend whatever their place), then the backends.
  for (const { when, action } of actions) {
    if (action.type === 'fixed-response') out.push(`  ${fixedResponse(action)} if ${when}`);
    if (action.type === 'redirect') out.push(`  ${redirect(action, l.port)} if ${when}`);
  }
  for (const { when, action } of actions) if (action.type === 'forward') out.push(...forward(action, when));
  return out;
}

function tcpFrontend(l: Listener, options: RenderOptions, byId: ReadonlyMap<string, TargetGroup>): string[] {
  const out = [
    `frontend ${frontendName(l.id)}`,
    '  mode tcp',
    `  bind ${options.bindAddress}:${l.port}`,
    // NLB's idle timeout for TCP flows.
    '  timeout client 350s',
  ];
  const action = l.defaultAction;
  if (action.type !== 'forward') return out;
  if (action.targetGroups.filter((w) => byId.has(w.targetGroupId)).length > 1) out.push('  tcp-request content set-var(txn.berth_r) rand(1000000)');
  out.push(...forward(action, ''));
  return out;
}

/** `use_backend` lines for a forward: one per target group, by cumulative weight over 0-999999. */
function forward(action: Extract<Action, { type: 'forward' }>, when: string): string[] {
  const weighted = action.targetGroups.filter((w) => w.weight > 0);
  const groups = weighted.length > 0 ? weighted : action.targetGroups.map((w) => ({ ...w, weight: 1 }));
  const total = groups.reduce((sum, w) => sum + w.weight, 0);
  const cond = when ? ` ${when}` : '';
  let cumulative = 0;
  return groups.map((w, i) => {
    cumulative += w.weight;
    if (i === groups.length - 1) return `  use_backend ${backendName(w.targetGroupId)}${cond ? ` if${cond}` : ''}`;
    const bound = Math.round((cumulative / total) * 1_000_000);
    return `  use_backend ${backendName(w.targetGroupId)} if${cond} { var(txn.berth_r) -m int lt ${bound} }`;
  });
}

function fixedResponse(a: Extract<Action, { type: 'fixed-response' }>): string {
  const body = a.messageBody === undefined || a.messageBody === '' ? '' : ` content-type ${quote(a.contentType ?? 'text/plain')} string ${quote(a.messageBody)}`;
  return `http-request return status ${a.statusCode}${body}`;
}

/** The original request's parts, as ELBv2's `#{...}` placeholders name them. */
const PLACEHOLDERS = (port: number): Record<string, string> => ({
  protocol: 'http',
  host: '%[req.hdr(host),field(1,:)]',
  port: String(port),
  path: '%[path,regsub(^/,)]',
  query: '%[query]',
});

function redirect(a: Extract<Action, { type: 'redirect' }>, listenerPort: number): string {
  const ph = PLACEHOLDERS(listenerPort);
  const fill = (value: string, field: string) => {
    if (value.includes('%')) throw new Error(`redirect.${field}: '%' is not allowed`);
    return value.replace(/#\{(protocol|host|port|path|query)\}/g, (_m, k: string) => ph[k]!);
  };
  const protocol = fill(a.protocol ?? '#{protocol}', 'protocol').toLowerCase();
  const host = fill(a.host ?? '#{host}', 'host');
  const port = fill(a.port ?? '#{port}', 'port');
  const path = fill(a.path ?? '/#{path}', 'path');
  const query = fill(a.query ?? '#{query}', 'query');
  // ELBv2 leaves out a default port and an empty query; `-m found` cannot do that inside a format, so the
  // port is always written (harmless) and the query only when the template has one.
  const location = `${protocol}://${host}:${port}${path}${query === '' ? '' : `?${query}`}`;
  return `http-request redirect location ${quoteFormat(location)} code ${a.statusCode === 'HTTP_301' ? 301 : 302}`;
}

/** ACL lines for one condition (lines with the same name are ORed by HAProxy). */
function conditionAcls(name: string, c: RuleCondition): string[] {
  const regs = (values: readonly string[]) => values.map((v) => quote(globRegex(v))).join(' ');
  switch (c.field) {
    case 'path-pattern':
      return [`  acl ${name} path -m reg ${regs(c.values)}`];
    case 'host-header':
      return [`  acl ${name} req.hdr(host),field(1,:) -m reg -i ${regs(c.values)}`];
    case 'http-header':
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(c.httpHeaderName)) throw new Error(`http-header: bad header name ${c.httpHeaderName}`);
      return [`  acl ${name} req.hdr(${c.httpHeaderName}) -m reg -i ${regs(c.values)}`];
    case 'http-request-method':
      return [`  acl ${name} method -m str ${c.values.map(quote).join(' ')}`];
    case 'source-ip':
      return [`  acl ${name} src ${c.values.join(' ')}`];
    case 'query-string':
      return c.values.map((kv) => {
        const value = globRegex(kv.value).slice(1, -1);
        const key = kv.key === undefined ? '[^&=]*' : globRegex(kv.key).slice(1, -1);
        return `  acl ${name} query -m reg -i ${quote(`(^|&)${key}=${value}(&|$)`)}`;
      });
  }
}

function backend(tg: TargetGroup, options: RenderOptions, unproven: (targetGroupId: string, t: Target) => boolean): string[] {
  const hc = tg.healthCheck;
  const out = [
    `backend ${backendName(tg.id)}`,
    `  mode ${tg.protocol === 'HTTP' ? 'http' : 'tcp'}`,
    `  balance ${tg.attributes.algorithm === 'least_outstanding_requests' ? 'leastconn' : 'roundrobin'}`,
    `  timeout check ${seconds(hc.timeoutSeconds)}`,
  ];
  if (tg.protocol === 'TCP') out.push('  timeout server 350s');
  if (hc.protocol === 'HTTP') {
    out.push(`  option httpchk GET ${hc.path}`);
    out.push(`  http-check expect rstatus ${quote(`^(${parseMatcher(hc.matcher).join('|')})$`)}`);
  }
  if (tg.attributes.stickiness.enabled && tg.protocol === 'HTTP') {
    // Dynamic cookies: a server added through the runtime API (which has no `cookie` keyword in 2.6) gets one too.
    out.push(`  cookie ${STICKY_COOKIE} insert indirect nocache dynamic attr ${quote(`Max-Age=${tg.attributes.stickiness.durationSeconds}`)}`);
    out.push(`  dynamic-cookie-key ${quote(options.cookieKey)}`);
  }
  for (const t of tg.targets) out.push(`  server ${serverName(t)} ${hostPort(t)} ${serverArgs(tg, unproven(tg.id, t) ? 0 : 100)}`);
  return out;
}

/** `addr:port`, IPv6 in brackets. */
export function hostPort(t: Target): string {
  return t.address.includes(':') ? `[${t.address}]:${t.port}` : `${t.address}:${t.port}`;
}
