/**
 * Where CloudWatch alarms and Application Auto Scaling keep their records in the Store. Alarm names may hold any
 * character but control characters, so they are URI-encoded in keys (a `/` in a name must not open a prefix).
 * Scalable targets are keyed by service namespace, scalable dimension and resource id (`service/<cluster>/<name>`,
 * encoded likewise); activities by resource and an inverted time, so a prefix range lists the newest first.
 */
const enc = (s: string): string => {
  try {
    return encodeURIComponent(s);
  } catch {
    // encodeURIComponent refuses a lone surrogate (a name JSON can carry): written as %uXXXX, which no well-formed
    // name encodes to, so such a name gets a key of its own instead of a server fault.
    return [...s].map((ch) => (ch.length === 1 && /[\ud800-\udfff]/.test(ch) ? `%u${ch.charCodeAt(0).toString(16)}` : encodeURIComponent(ch))).join('');
  }
};
const target = (namespace: string, dimension: string, resourceId: string) => `${namespace}/${dimension}/${enc(resourceId)}`;

export const alarmKeys = {
  alarm: (name: string) => `cloudwatch/alarms/${enc(name)}`,
  alarms: () => 'cloudwatch/alarms/',
  /** One history item: by alarm, then inverted epoch ms (newest first), then a random suffix. */
  history: (name: string, at: number, id: string) => `cloudwatch/alarm-history/${enc(name)}/${inverted(at)}-${id}`,
  historyOf: (name: string) => `cloudwatch/alarm-history/${enc(name)}/`,
  histories: () => 'cloudwatch/alarm-history/',
};

export const scalingKeys = {
  target: (namespace: string, dimension: string, resourceId: string) => `autoscaling/targets/${target(namespace, dimension, resourceId)}`,
  targets: () => 'autoscaling/targets/',
  policy: (namespace: string, dimension: string, resourceId: string, name: string) => `autoscaling/policies/${target(namespace, dimension, resourceId)}/${enc(name)}`,
  policiesOf: (namespace: string, dimension: string, resourceId: string) => `autoscaling/policies/${target(namespace, dimension, resourceId)}/`,
  policies: () => 'autoscaling/policies/',
  /** Policy ARN → policy key: alarm actions name policies by ARN. */
  policyArn: (uuid: string) => `autoscaling/policy-arns/${uuid}`,
  scheduled: (namespace: string, dimension: string, resourceId: string, name: string) => `autoscaling/scheduled/${target(namespace, dimension, resourceId)}/${enc(name)}`,
  scheduledOf: (namespace: string, dimension: string, resourceId: string) => `autoscaling/scheduled/${target(namespace, dimension, resourceId)}/`,
  scheduledAll: () => 'autoscaling/scheduled/',
  activity: (namespace: string, dimension: string, resourceId: string, at: number, id: string) => `autoscaling/activities/${target(namespace, dimension, resourceId)}/${inverted(at)}-${id}`,
  activitiesOf: (namespace: string, dimension: string, resourceId: string) => `autoscaling/activities/${target(namespace, dimension, resourceId)}/`,
  activities: () => 'autoscaling/activities/',
};

/** Epoch ms so that later sorts first, fixed width. */
export function inverted(at: number): string {
  return String(9_999_999_999_999 - Math.floor(at)).padStart(13, '0');
}

/** The epoch ms of a key ending `/<inverted ms>-<id>` (alarm history, scaling activities); NaN for another key. */
export function timeOfInvertedKey(key: string): number {
  const digits = key.slice(key.lastIndexOf('/') + 1, key.lastIndexOf('/') + 14);
  return /^\d{13}$/.test(digits) ? 9_999_999_999_999 - Number(digits) : NaN;
}
