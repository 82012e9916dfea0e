import type { MetricsEnv } from './env.js';
import { decodeToken, encodeToken } from './periods.js';

/** ListMetrics' page (CloudWatch's). */
export const LIST_PAGE = 500;
/** RecentlyActive PT3H: put within the last 3 hours. */
const RECENT_S = 3 * 3600;

interface Input {
  Namespace?: string;
  MetricName?: string;
  Dimensions?: { Name: string; Value?: string }[];
  NextToken?: string;
  RecentlyActive?: 'PT3H';
}

export function listMetrics(env: MetricsEnv, input: Input): Promise<object> {
  const { NextToken, ...filters } = input;
  const after = NextToken === undefined ? undefined : decodeToken<string>(NextToken, filters);
  const rows = env.store.list({
    limit: LIST_PAGE + 1,
    ...(input.Namespace !== undefined ? { namespace: input.Namespace } : {}),
    ...(input.MetricName !== undefined ? { name: input.MetricName } : {}),
    ...(input.Dimensions !== undefined ? { dimensions: input.Dimensions } : {}),
    ...(input.RecentlyActive === 'PT3H' ? { activeSince: Math.floor(env.now() / 1000) - RECENT_S } : {}),
    ...(after !== undefined ? { after } : {}),
  });
  const page = rows.slice(0, LIST_PAGE);
  return Promise.resolve({
    Metrics: page.map((r) => ({ Namespace: r.namespace, MetricName: r.name, Dimensions: r.dimensions })),
    ...(rows.length > LIST_PAGE ? { NextToken: encodeToken(page[page.length - 1]!.key, filters) } : {}),
  });
}
