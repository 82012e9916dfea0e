/**
 * What a target receives for an event (pure), as EventBridge computes it: the target's `Input` (constant JSON
 * text), `InputPath` (a JSONPath into the event), `InputTransformer` (values picked by `InputPathsMap` put into
 * `InputTemplate`'s `<name>` placeholders), or else the whole event.
 *
 * A placeholder inside a JSON string ("…<name>…") takes the value's text, escaped for the string (a string as it
 * is, anything else as its JSON); outside a string it takes the value's JSON. A path that selects nothing gives
 * `null` outside a string and nothing inside one. The predefined variables: <aws.events.rule-arn>,
 * <aws.events.rule-name>, <aws.events.event.ingestion-time>, <aws.events.event> and <aws.events.event.json>.
 */
import { ServiceError } from '../model/errors.js';

export interface TargetInputSpec {
  readonly Input?: string;
  readonly InputPath?: string;
  readonly InputTransformer?: { readonly InputPathsMap?: Readonly<Record<string, string>>; readonly InputTemplate: string };
}

export interface RuleContext {
  readonly ruleArn: string;
  readonly ruleName: string;
  /** The event's ingestion time, ISO-8601. */
  readonly ingestionTime: string;
}

const validation = (message: string) => new ServiceError('ValidationException', message);

/** Checks a target's input settings as PutTargets does: at most one kind, Input valid JSON, paths JSONPath. */
export function checkTargetInput(spec: TargetInputSpec, targetId: string): void {
  const kinds = [spec.Input, spec.InputPath, spec.InputTransformer].filter((v) => v !== undefined).length;
  if (kinds > 1) throw validation(`Only one of Input, InputPath, or InputTransformer must be provided for target ${targetId}.`);
  if (spec.Input !== undefined) {
    try {
      JSON.parse(spec.Input);
    } catch {
      throw validation(`Input for target ${targetId} is not valid JSON text.`);
    }
  }
  if (spec.InputPath !== undefined) jsonPath(spec.InputPath, `InputPath for target ${targetId}`);
  for (const [name, path] of Object.entries(spec.InputTransformer?.InputPathsMap ?? {})) {
    if (name.startsWith('aws.events.')) throw validation(`InputPathsMap of target ${targetId} may not define the reserved name ${name}.`);
    jsonPath(path, `InputPathsMap ${name} for target ${targetId}`);
  }
}

/** The JSON text the target receives for `event`. */
export function targetInput(spec: TargetInputSpec, event: Readonly<Record<string, unknown>>, rule: RuleContext): string {
  if (spec.Input !== undefined) return spec.Input;
  if (spec.InputPath !== undefined) return JSON.stringify(select(event, jsonPath(spec.InputPath, 'InputPath')) ?? null);
  if (spec.InputTransformer !== undefined) {
    const values = new Map<string, unknown>();
    for (const [name, path] of Object.entries(spec.InputTransformer.InputPathsMap ?? {})) values.set(name, select(event, jsonPath(path, name)));
    values.set('aws.events.rule-arn', rule.ruleArn);
    values.set('aws.events.rule-name', rule.ruleName);
    values.set('aws.events.event.ingestion-time', rule.ingestionTime);
    values.set('aws.events.event', event);
    values.set('aws.events.event.json', event);
    return fillTemplate(spec.InputTransformer.InputTemplate, values);
  }
  return JSON.stringify(event);
}

type Step = string | number;

/** `$`, `.name`, `['name']`/`["name"]`, `[n]`: the JSONPath EventBridge's input paths use. */
function jsonPath(path: string, what: string): Step[] {
  if (!path.startsWith('$')) throw validation(`${what} is not a valid JSONPath: ${path}`);
  const steps: Step[] = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  let at = 1;
  while (at < path.length) {
    re.lastIndex = at;
    const m = re.exec(path);
    if (!m) throw validation(`${what} is not a valid JSONPath: ${path}`);
    steps.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? m[3] ?? m[4])!);
    at = re.lastIndex;
  }
  return steps;
}

function select(value: unknown, steps: readonly Step[]): unknown {
  let at: unknown = value;
  for (const step of steps) {
    if (typeof step === 'number') at = Array.isArray(at) ? at[step] : undefined;
    else at = typeof at === 'object' && at !== null && !Array.isArray(at) ? (at as Record<string, unknown>)[step] : undefined;
    if (at === undefined) return undefined;
  }
  return at;
}

/** Puts the values in the template's placeholders, minding whether each stands inside a JSON string. */
function fillTemplate(template: string, values: ReadonlyMap<string, unknown>): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (ch === '\\' && inString) {
      out += template.slice(i, i + 2);
      i++;
      continue;
    }
    if (ch === '"') inString = !inString;
    if (ch === '<') {
      const end = template.indexOf('>', i);
      const name = end > i ? template.slice(i + 1, end) : '';
      if (values.has(name)) {
        const value = values.get(name);
        out += inString ? inStringText(value) : JSON.stringify(value ?? null);
        i = end;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

function inStringText(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text).slice(1, -1);
}
