/**
 * Finding the field an API error is about in the JSON a person edited, so the editor can show the error at that
 * line. Pure: the text and the API's message in, a field path and a line number out.
 */

/**
 * The line (1-based) where each field starts in a JSON text: `family` → 2, `containerDefinitions[0]` → 4,
 * `containerDefinitions[0].memory` → 7. Tolerant of broken JSON (it records what it could read).
 */
export function pathLines(text: string): Map<string, number> {
  interface Frame {
    readonly kind: 'object' | 'array';
    readonly path: string;
    index: number;
    key: string;
    expectKey: boolean;
  }
  const lines = new Map<string, number>();
  const stack: Frame[] = [];
  let line = 1;
  let i = 0;
  const childPath = (f: Frame) => (f.kind === 'array' ? `${f.path}[${f.index}]` : f.path ? `${f.path}.${f.key}` : f.key);
  /** A value begins: an array's element gets its line here (an object's member got it at its key). */
  const valueStart = (): string => {
    const top = stack.at(-1);
    if (!top) return '';
    const p = childPath(top);
    if (top.kind === 'array' && !lines.has(p)) lines.set(p, line);
    return p;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === '"') {
      const startLine = line;
      let j = i + 1;
      let s = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') {
          s += text[j + 1] ?? '';
          j += 2;
        } else {
          if (text[j] === '\n') line++;
          s += text[j];
          j++;
        }
      }
      i = j + 1;
      const top = stack.at(-1);
      if (top?.kind === 'object' && top.expectKey) {
        top.key = s;
        top.expectKey = false;
        lines.set(childPath(top), startLine);
      } else valueStart();
    } else if (c === '{' || c === '[') {
      const path = valueStart();
      stack.push({ kind: c === '{' ? 'object' : 'array', path, index: 0, key: '', expectKey: c === '{' });
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i++;
    } else if (c === ',') {
      const top = stack.at(-1);
      if (top?.kind === 'array') top.index++;
      else if (top) top.expectKey = true;
      i++;
    } else if (/[-0-9tfn]/.test(c)) {
      valueStart();
      while (i < text.length && !/[,\]}\s]/.test(text[i]!)) i++;
    } else i++;
  }
  return lines;
}

/** The line of `path`, or of its nearest parent present in the text (a missing member points at its object). */
export function lineOfPath(lines: ReadonlyMap<string, number>, path: string): number | undefined {
  for (let p: string | undefined = path; p; p = parentPath(p)) {
    const line = lines.get(p);
    if (line !== undefined) return line;
  }
  return undefined;
}

function parentPath(path: string): string | undefined {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut > 0 ? path.slice(0, cut) : undefined;
}

interface Container {
  readonly name?: unknown;
  readonly [key: string]: unknown;
}

/**
 * The field an error message from RegisterTaskDefinition is about, as a path into `doc`:
 * - shape errors name it: `Invalid type for parameter 'containerDefinitions[0].cpu'`, `Missing required parameter '…'`;
 * - container rules name the container and quote the setting: `Invalid setting for container 'app'. The 'memory' …`;
 * - ECS's null checks name the member: `Container.image should not be null or empty.`;
 * - otherwise a top-level member the message quotes (`'family'`), if any.
 */
export function fieldOfError(message: string, doc: unknown): string | undefined {
  const parameter = /parameter '([^']+)'/.exec(message);
  if (parameter) return parameter[1];
  const containers = (isObject(doc) && Array.isArray(doc.containerDefinitions) ? doc.containerDefinitions : []) as Container[];
  const setting = /^Invalid setting for container '([^']*)'\.\s*(.*)$/s.exec(message);
  if (setting) {
    const index = containers.findIndex((c) => isObject(c) && c.name === setting[1]);
    if (index < 0) return 'containerDefinitions';
    const base = `containerDefinitions[${index}]`;
    const container = containers[index]!;
    const quoted = [...setting[2]!.matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]!);
    const named = quoted.find((k) => k in container) ?? Object.keys(container).find((k) => new RegExp(`\\b${k}\\b`).test(setting[2]!));
    return named ? `${base}.${named}` : base;
  }
  const nullCheck = /^Container\.(\w+) should not be null/.exec(message);
  if (nullCheck) {
    const index = containers.findIndex((c) => !isObject(c) || !c[nullCheck[1]!]);
    return index < 0 ? 'containerDefinitions' : `containerDefinitions[${index}].${nullCheck[1]}`;
  }
  if (isObject(doc)) {
    for (const m of message.matchAll(/'([A-Za-z]+)'/g)) if (m[1]! in doc) return m[1];
  }
  return undefined;
}

/** A JSON.parse failure's line, from the position browsers put in the message (`… at position 42 …`). */
export function lineOfParseError(text: string, message: string): number | undefined {
  const line = /line (\d+)/.exec(message);
  if (line) return Number(line[1]);
  const position = /position (\d+)/.exec(message);
  if (!position) return undefined;
  return text.slice(0, Number(position[1])).split('\n').length;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
