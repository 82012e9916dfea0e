/**
 * A launch configuration's UserData as ECS users write it, and the ecs.config a new host gets from it. Users
 * write either the file's lines themselves (`ECS_CLUSTER=web`) or the script that appends them
 * (`echo ECS_CLUSTER=web >> /etc/ecs/ecs.config`); berth runs no script, it takes the `ECS_…=` settings out of
 * either form and ignores the rest (the shebang, comments, other commands). The AWS CLI sends UserData base64
 * encoded, SDK users often plain: both are read.
 */

/** `ECS_` settings, and the one berth agent setting a host may need from its user: which registries speak plain HTTP. */
const SETTING = /^(?:echo\s+)?["']?(ECS_[A-Z0-9_]+|BERTH_INSECURE_REGISTRIES)=(.*?)["']?(?:\s*>>?\s*\S*ecs\.config)?\s*$/;

/** The text of UserData: decoded when it is base64 of UTF-8 text, else as given. */
export function userDataText(userData: string | undefined): string {
  if (userData === undefined || userData === '') return '';
  const compact = userData.replace(/\s+/g, '');
  if (compact.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    const decoded = Buffer.from(compact, 'base64').toString('utf8');
    if (!decoded.includes('\uFFFD') && /^[\t\n\r\x20-\x7e\u00a0-\uffff]*$/.test(decoded) && decoded.includes('=')) return decoded;
  }
  return userData;
}

/** The `ECS_…` settings (and BERTH_INSECURE_REGISTRIES) in UserData, in order (a later one wins). */
export function ecsSettings(userData: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of userDataText(userData).split(/\r?\n/)) {
    const m = SETTING.exec(raw.trim());
    if (m) out[m[1]!] = unquote(m[2]!.trim());
  }
  return out;
}

function jsonObject(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : undefined;
  } catch {
    return undefined;
  }
}

const unquote = (v: string) => ((v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"')) ? v.slice(1, -1) : v);

export interface HostLaunch {
  readonly instanceId: string;
  readonly instanceType: string;
  readonly cpuUnits: number;
  readonly memoryMib: number;
  readonly availabilityZone: string;
  /** Tags propagated at launch: instance attributes besides the user's own. */
  readonly attributes: Readonly<Record<string, string>>;
  /** The control plane's URL(s) as the host reaches them (ECS_BACKEND_HOST), when berth knows it. */
  readonly backendHost?: string;
}

/**
 * The ecs.config the new host's agent must use: the user's settings (ECS_CLUSTER defaults to `default`, as the
 * agent's), their ECS_INSTANCE_ATTRIBUTES merged with the group's propagated tags (the user's win on a clash), and
 * the host's identity and size in berth's own settings.
 */
export function ecsConfigFor(userData: string | undefined, launch: HostLaunch): string {
  const settings = ecsSettings(userData);
  const userAttributes = jsonObject(settings.ECS_INSTANCE_ATTRIBUTES);
  const attributes = { ...launch.attributes, ...userAttributes };
  const { ECS_INSTANCE_ATTRIBUTES: given, ...rest } = settings;
  const lines: Record<string, string> = {
    ...rest,
    ECS_CLUSTER: settings.ECS_CLUSTER ?? 'default',
    // A malformed value of the user's goes on untouched: the agent refuses it, naming the setting.
    ...(given !== undefined && userAttributes === undefined
      ? { ECS_INSTANCE_ATTRIBUTES: given }
      : Object.keys(attributes).length > 0
        ? { ECS_INSTANCE_ATTRIBUTES: JSON.stringify(attributes) }
        : {}),
    ...(launch.backendHost && !settings.ECS_BACKEND_HOST ? { ECS_BACKEND_HOST: launch.backendHost } : {}),
    BERTH_EC2_INSTANCE_ID: launch.instanceId,
    BERTH_INSTANCE_TYPE: launch.instanceType,
    BERTH_CPU_UNITS: String(launch.cpuUnits),
    BERTH_MEMORY_MIB: String(launch.memoryMib),
    BERTH_AVAILABILITY_ZONE: launch.availabilityZone,
  };
  return Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

/** The cluster the host will join (ECS_CLUSTER of its UserData, else `default`). */
export const clusterOf = (userData: string | undefined): string => ecsSettings(userData).ECS_CLUSTER ?? 'default';
